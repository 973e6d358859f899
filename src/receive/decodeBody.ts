/** Turns a request body's bytes into text for JSON.parse: UTF-8 only, refused with a reason otherwise; a leading byte-order mark is skipped. */

export class BodyDecodeError extends Error {}

// fatal: a byte sequence that is not UTF-8 throws instead of becoming U+FFFD, so two different byte strings never read as one id.
// ignoreBOM false (the default): a leading BOM, which some Windows tools write, is dropped instead of breaking JSON.parse.
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeBody(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new BodyDecodeError(`body is not valid UTF-8 (first bad byte at offset ${firstInvalidOffset(body)}); send UTF-8 JSON`);
  }
}

/** Where decoding fails, for the message: the longest prefix that decodes, found by bisection. */
function firstInvalidOffset(body: Buffer): number {
  let good = 0;
  let bad = body.length;
  while (bad - good > 1) {
    const middle = (good + bad) >>> 1;
    if (decodesAsPrefix(body.subarray(0, middle))) good = middle;
    else bad = middle;
  }
  return good;
}

/** A prefix may end inside a character: that is not an error yet. */
function decodesAsPrefix(prefix: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(prefix, { stream: true });
    return true;
  } catch {
    return false;
  }
}
