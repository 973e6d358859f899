import assert from 'node:assert/strict';
import { useDaemon } from '../support/fixtures';
import type { InProcessDaemon } from '../support/daemon';
import { uploadWhileReading, UploadReply } from '../support/uploadWhileReading';

const MiB = 1024 * 1024;
const TRIES = 10;
const EVENT = '{"event_type":"pad","user_id":"u"}';
/** About 64 KiB of events, each followed by a comma. */
const EVENTS_BLOCK = Buffer.from(`${EVENT},`.repeat(Math.floor((64 * 1024) / (EVENT.length + 1))));

/** `prefix`, then events up to about `bytes`, then the last event and `suffix`: a large Amplitude body, made chunk by chunk. */
function* amplitudeBody(prefix: string, bytes: number, suffix: string): Generator<Buffer> {
  yield Buffer.from(prefix);
  for (let written = prefix.length; written + EVENTS_BLOCK.length < bytes; written += EVENTS_BLOCK.length) yield EVENTS_BLOCK;
  yield Buffer.from(`${EVENT}${suffix}`);
}

function sizeOf(parts: Iterable<Buffer>): number {
  let total = 0;
  for (const part of parts) total += part.length;
  return total;
}

/** The same parts in HTTP/1.1 chunked framing. */
function* chunked(parts: Iterable<Buffer>): Generator<Buffer> {
  for (const part of parts) yield Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]);
  yield Buffer.from('0\r\n\r\n');
}

const head = (path: string, headers: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${headers}\r\n`;

/** Runs `exchange` TRIES times, one after another; fails naming every try that got no whole answer or the wrong one. */
async function everyTry(exchange: () => Promise<UploadReply>, status: number, check: (body: any) => void): Promise<void> {
  const wrong: string[] = [];
  for (let attempt = 1; attempt <= TRIES; attempt++) {
    const reply = await exchange();
    if (reply.failure || reply.status !== status) wrong.push(`try ${attempt}: ${reply.failure ?? `status ${reply.status}`} after ${reply.sentBytes} body bytes`);
    else check(reply.body);
  }
  assert.deepEqual(wrong, [], `${wrong.length} of ${TRIES} tries did not get the ${status}`);
}

describe('early refusals on the Amplitude routes reach the client: the rest of the body is read and dropped, not reset', () => {
  let daemon: InProcessDaemon;
  let port: number;

  useDaemon({ worker: false }, (parts) => {
    daemon = parts.daemon;
    port = daemon.daemon.receiverPort as number;
  });

  const unknownKeyFirst = () => amplitudeBody('{"api_key":"nope","events":[', 5 * MiB, ']}');
  // Chunked on /2/httpapi: a declared 5 MB would be refused by its Content-Length, before the key is seen.
  for (const [path, framing, parts] of [
    ['/2/httpapi', 'Transfer-Encoding: chunked\r\n', () => chunked(unknownKeyFirst())],
    ['/batch', `Content-Length: ${sizeOf(unknownKeyFirst())}\r\n`, unknownKeyFirst],
  ] as const) {
    it(`${path}: a 5 MB body whose unknown api_key comes first gets its 400 in ${TRIES} of ${TRIES} tries`, async () => {
      await everyTry(
        () => uploadWhileReading(port, head(path, framing), parts()),
        400,
        (body) => assert.deepEqual(body, { code: 400, error: 'Invalid API key' }),
      );
    });
  }

  for (const [path, limit] of [['/2/httpapi', MiB], ['/batch', 20 * MiB]] as const) {
    it(`${path}: a chunked body with its api_key after the ${limit}-byte limit gets its 413 in ${TRIES} of ${TRIES} tries`, async () => {
      await everyTry(
        () => uploadWhileReading(port, head(path, 'Transfer-Encoding: chunked\r\n'), chunked(amplitudeBody('{"events":[', limit + 4 * MiB, '],"api_key":"nope"}'))),
        413,
        (body) => {
          assert.equal(body.error, 'Payload too large');
          assert.match(body.detail, new RegExp(`over the ${limit}-byte limit`));
        },
      );
    });

    it(`${path}: Expect: 100-continue with a Content-Length over the limit gets the 413 at once, never 100 Continue`, async () => {
      await everyTry(
        () => uploadWhileReading(port, head(path, `Content-Length: ${limit + 1}\r\nExpect: 100-continue\r\n`), []),
        413,
        (body) => assert.match(body.detail, new RegExp(`body is ${limit + 1} bytes, over the ${limit}-byte limit`)),
      );
    });
  }

  it('/analytics/TOKEN: Expect: 100-continue with an unknown token gets its 401 at once, never 100 Continue', async () => {
    await everyTry(
      () => uploadWhileReading(port, head('/analytics/nope', 'Content-Length: 1000\r\nExpect: 100-continue\r\n'), []),
      401,
      (body) => assert.equal(body.error, 'unknown tenant token'),
    );
  });
});
