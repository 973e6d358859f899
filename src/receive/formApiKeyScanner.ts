/**
 * Finds the `api_key` field of a form body (Amplitude's Identify APIs) in its bytes as they arrive, as apiKeyScanner
 * does for JSON, so an unknown key is refused before a large `identification` is read. A pre-check only: the full
 * parse still decides (and refuses a key given twice).
 */
import type { ApiKeyScan, ApiKeyScanner } from './apiKeyScanner';

/** "api_key" with every character percent-encoded is 21 bytes; a longer name is some other field. */
const MAX_NAME_BYTES = 64;
/** A token is 43 characters, 129 bytes if every one were percent-encoded. */
const MAX_KEY_BYTES = 1024;

const AMPERSAND = 0x26;
const EQUALS = 0x3d;

function decoded(raw: number[]): string | undefined {
  try {
    return decodeURIComponent(Buffer.from(raw).toString('latin1').replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

export function createFormApiKeyScanner(): ApiKeyScanner {
  let inName = true;
  let isKey = false;
  // The current name's bytes, or the api_key value's; undefined while skipping a value or an over-long name.
  let captured: number[] | undefined = [];

  return {
    feed(chunk) {
      for (const byte of chunk) {
        if (inName) {
          if (byte === EQUALS) {
            isKey = captured !== undefined && decoded(captured) === 'api_key';
            inName = false;
            captured = isKey ? [] : undefined;
          } else if (byte === AMPERSAND) {
            captured = [];
          } else if (captured !== undefined) {
            captured.push(byte);
            if (captured.length > MAX_NAME_BYTES) captured = undefined;
          }
          continue;
        }
        if (byte === AMPERSAND) {
          if (isKey) {
            const key = captured === undefined ? undefined : decoded(captured);
            return key === undefined ? { status: 'unfindable' } : { status: 'found', key };
          }
          inName = true;
          captured = [];
        } else if (isKey && captured !== undefined) {
          captured.push(byte);
          if (captured.length > MAX_KEY_BYTES) return { status: 'unfindable' };
        }
      }
      return { status: 'searching' } satisfies ApiKeyScan;
    },
  };
}
