/** Reads a request body while streaming: the size limit applies to bytes after decompression and stops the read as soon as it is passed. */
import type { IncomingMessage } from 'node:http';
import zlib from 'node:zlib';
import type { Readable } from 'node:stream';

export class BodyReadError extends Error {
  constructor(readonly status: 400 | 408 | 413 | 415, message: string) {
    super(message);
  }
}

export async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new BodyReadError(413, `body is ${declared} bytes, over the ${maxBytes}-byte limit (MAX_BODY_BYTES)`);
  }
  const source = decoded(request);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of source) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) {
        throw new BodyReadError(413, `body is over the ${maxBytes}-byte limit (MAX_BODY_BYTES)`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (source !== request) source.destroy();
    if (error instanceof BodyReadError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('Z_')) throw new BodyReadError(400, `body could not be decompressed: ${(error as Error).message}`);
    throw new BodyReadError(400, `body could not be read: ${(error as Error).message}`);
  }
  return Buffer.concat(chunks, total);
}

function decoded(request: IncomingMessage): Readable {
  const encoding = String(request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  switch (encoding) {
    case 'identity':
    case '':
      return request;
    case 'gzip':
    case 'x-gzip':
      return request.pipe(zlib.createGunzip());
    case 'deflate':
      return request.pipe(zlib.createInflate());
    default:
      throw new BodyReadError(415, `Content-Encoding "${encoding}" is not supported (use gzip, deflate or none)`);
  }
}
