/**
 * State-changing admin and board requests carry JSON or no body at all. A form or text body is what a page on
 * another site can make a browser send without asking first (no preflight), with the board's cached Basic
 * credentials: refusing it (415) leaves such a page no way to change anything.
 */
import type { IncomingMessage } from 'node:http';

const JSON_TYPE = /^application\/(json|[a-z0-9.+-]+\+json)$/;

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length.trim() !== '0');
}

/** The reason to refuse with 415, or undefined for a JSON body or none (the board's retry and promote send none). */
export function jsonOnlyRefusal(request: IncomingMessage): string | undefined {
  const header = request.headers['content-type'];
  if (header === undefined || header.trim() === '') {
    return hasBody(request) ? 'a request body needs Content-Type: application/json' : undefined;
  }
  const mediaType = header.split(';')[0].trim().toLowerCase();
  if (JSON_TYPE.test(mediaType)) return undefined;
  return `Content-Type "${mediaType.slice(0, 100)}" is not accepted here: send JSON (application/json), or no body`;
}
