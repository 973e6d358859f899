/**
 * Finds the top-level "api_key" of an Amplitude HTTP V2 body in its bytes as they arrive, without parsing the rest,
 * so an unknown key is refused before a large body is read or parsed. A pre-check only: the full parse still decides.
 */

export type ApiKeyScan =
  /** Not seen yet: feed more. */
  | { status: 'searching' }
  | { status: 'found'; key: string }
  /** It cannot be found cheaply (not an object, a key that is no string, an over-long value): read the body whole. */
  | { status: 'unfindable' };

export interface ApiKeyScanner {
  /** Feeds the next bytes; chunks may split the body anywhere, even inside a string or an escape. */
  feed(chunk: Buffer): ApiKeyScan;
}

/** Longest member name worth capturing: "api_key" written with every character escaped is 42 bytes. */
const MAX_NAME_BYTES = 64;
/** Longest key value worth capturing: a token is 43 characters, 258 bytes if every one were escaped. */
const MAX_KEY_BYTES = 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Bytes that matter inside nested values: a string starts, or the nesting changes. */
const STRUCTURAL = new Uint8Array(256);
for (const byte of [QUOTE, OPEN_OBJECT, CLOSE_OBJECT, OPEN_ARRAY, CLOSE_ARRAY]) STRUCTURAL[byte] = 1;

const isWhitespace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/** A JSON string's raw bytes (escapes included) as text, or undefined when they are not a valid string. */
function decodeJsonString(raw: number[]): string | undefined {
  try {
    const text: unknown = JSON.parse(`"${Buffer.from(raw).toString('utf8')}"`);
    return typeof text === 'string' ? text : undefined;
  } catch {
    return undefined;
  }
}

export function createApiKeyScanner(): ApiKeyScanner {
  let result: ApiKeyScan = { status: 'searching' };
  // Nesting depth: 1 inside the top-level object, where its members are.
  let depth = 0;
  // What the next top-level token is, inside the top-level object.
  let expect: 'name' | 'colon' | 'value' | 'separator' = 'name';
  let inString = false;
  let escaped = false;
  // Bytes of the string being read, when it is a top-level member name or the api_key's value; undefined otherwise.
  let captured: number[] | undefined;
  let captureLimit = 0;
  let capturing: 'name' | 'key' | undefined;
  let nameIsApiKey = false;

  const startString = (what: 'name' | 'key' | undefined) => {
    inString = true;
    capturing = what;
    captured = what ? [] : undefined;
    captureLimit = what === 'key' ? MAX_KEY_BYTES : MAX_NAME_BYTES;
  };

  const endString = (): ApiKeyScan | undefined => {
    inString = false;
    if (capturing === 'name') {
      nameIsApiKey = captured !== undefined && decodeJsonString(captured) === 'api_key';
      expect = 'colon';
    } else if (capturing === 'key') {
      const key = captured === undefined ? undefined : decodeJsonString(captured);
      return key === undefined ? { status: 'unfindable' } : { status: 'found', key };
    }
    return undefined;
  };

  /** One byte outside any string; returns the verdict once there is one. */
  const structural = (byte: number): ApiKeyScan | undefined => {
    if (isWhitespace(byte)) return undefined;
    if (depth === 0) {
      // The bytes of a leading UTF-8 byte-order mark (EF BB BF), which decodeBody skips too.
      if (byte === 0xef || byte === 0xbb || byte === 0xbf) return undefined;
      if (byte !== OPEN_OBJECT) return { status: 'unfindable' };
      depth = 1;
      expect = 'name';
      return undefined;
    }
    if (depth > 1) {
      if (byte === QUOTE) startString(undefined);
      else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) depth += 1;
      else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
        depth -= 1;
        if (depth === 1) expect = 'separator';
      }
      return undefined;
    }
    switch (expect) {
      case 'name':
        // An empty object, or not JSON: no key here.
        if (byte !== QUOTE) return { status: 'unfindable' };
        startString('name');
        return undefined;
      case 'colon':
        if (byte !== COLON) return { status: 'unfindable' };
        expect = 'value';
        return undefined;
      case 'value':
        if (byte === QUOTE) startString(nameIsApiKey ? 'key' : undefined);
        else if (nameIsApiKey) return { status: 'unfindable' };
        else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) depth += 1;
        // A number, true, false or null: its characters pass until the separator.
        expect = 'separator';
        return undefined;
      case 'separator':
        if (byte === COMMA) expect = 'name';
        else if (byte === CLOSE_OBJECT) return { status: 'unfindable' };
        return undefined;
    }
  };

  /** One byte inside a string. */
  const inside = (byte: number): ApiKeyScan | undefined => {
    if (escaped) escaped = false;
    else if (byte === BACKSLASH) escaped = true;
    else if (byte === QUOTE) return endString();
    if (captured === undefined) return undefined;
    if (captured.length < captureLimit) captured.push(byte);
    else if (capturing === 'key') return { status: 'unfindable' };
    // A member name this long is not "api_key".
    else captured = undefined;
    return undefined;
  };

  return {
    feed(chunk) {
      const length = chunk.length;
      let i = 0;
      while (i < length && result.status === 'searching') {
        // Most bytes are inside nested values or strings nobody captures: pass them in a tight loop.
        if (inString && captured === undefined && !escaped) {
          while (i < length && chunk[i] !== QUOTE && chunk[i] !== BACKSLASH) i++;
        } else if (!inString && depth > 1) {
          while (i < length && !STRUCTURAL[chunk[i]]) i++;
        }
        if (i === length) break;
        result = (inString ? inside(chunk[i]) : structural(chunk[i])) ?? result;
        i++;
      }
      return result;
    },
  };
}
