/**
 * Reads an application/x-www-form-urlencoded body (what Amplitude's Identify API takes, and what `curl --data`
 * sends) strictly: bad percent-encoding, bytes that are not UTF-8, and a field given twice are refused with the
 * field's name, instead of being decoded into something the sender did not write.
 */
import { decodeBody } from './decodeBody';

export class FormError extends Error {}

/** A field's name is cut to this many characters in a refusal: enough to recognise it, never the whole of a hostile one. */
const NAME_SHOWN = 60;

function decodeComponent(text: string, what: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new FormError(`${what}: bad percent-encoding (a "%" must start a %XX escape, and the escapes must spell UTF-8)`);
  }
}

/** Each field's value by name; throws FormError (the body is not UTF-8, an escape is bad, a field is repeated). */
export function parseForm(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  const text = decodeBody(body);
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const rawName = equals === -1 ? pair : pair.slice(0, equals);
    const name = decodeComponent(rawName, `form field name "${rawName.slice(0, NAME_SHOWN)}"`);
    const shown = `form field "${name.slice(0, NAME_SHOWN)}"`;
    const value = decodeComponent(equals === -1 ? '' : pair.slice(equals + 1), shown);
    if (fields.has(name)) throw new FormError(`${shown}: given more than once`);
    fields.set(name, value);
  }
  return fields;
}
