/** Reads a request body while streaming: the size limit applies to bytes after decompression and stops the read as soon as it is passed. */
import type { IncomingMessage } from 'node:http';
import zlib from 'node:zlib';
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import type { BodyLease } from './bodyBudget';
import type { HttpResult } from './result';
import { sendContinue } from './expectContinue';

export class BodyReadError extends Error {
  constructor(readonly status: 400 | 408 | 413 | 415 | 503, message: string) {
    super(message);
  }
}

/** Thrown by an `inspect` callback: stop reading, and send this answer instead. */
export class EarlyAnswer extends Error {
  constructor(readonly result: HttpResult) {
    super('answered before the body was read');
  }
}

export interface ReadOptions {
  /** What the limit is called in the refusal: the setting, or whose rule it is. @defaultValue MAX_BODY_BYTES */
  limitName?: string;
  /** The process's share of body memory for this request (BODY_MEMORY_BUDGET_BYTES); past it, 503. */
  lease?: BodyLease;
  /** Sees each decompressed chunk as it arrives; may throw EarlyAnswer to stop the read. */
  inspect?: (chunk: Buffer) => void | Promise<void>;
}

export const OVER_BUDGET = 'this receiver holds as many request bodies as its memory budget allows (BODY_MEMORY_BUDGET_BYTES); nothing was accepted, retry later';

export async function readBody(request: IncomingMessage, maxBytes: number, options: ReadOptions = {}): Promise<Buffer> {
  const limitName = options.limitName ?? 'MAX_BODY_BYTES';
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new BodyReadError(413, `body is ${declared} bytes, over the ${maxBytes}-byte limit (${limitName})`);
  }
  const source = decoded(request);
  sendContinue(request);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    // Not destroyed on an early stop: that would close the connection under the answer (discardUnreadBody.ts reads the rest).
    for await (const chunk of source.iterator({ destroyOnReturn: false })) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) {
        throw new BodyReadError(413, `body is over the ${maxBytes}-byte limit (${limitName})`);
      }
      if (options.lease && !options.lease.grow(total)) throw new BodyReadError(503, OVER_BUDGET);
      chunks.push(chunk as Buffer);
      await options.inspect?.(chunk as Buffer);
    }
  } catch (error) {
    if (source instanceof Transform) {
      request.unpipe(source);
      source.destroy();
    }
    if (error instanceof BodyReadError || error instanceof EarlyAnswer) throw error;
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
