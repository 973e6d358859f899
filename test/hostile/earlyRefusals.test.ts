import assert from 'node:assert/strict';
import { useDaemon } from '../support/fixtures';
import { InProcessDaemon, newTenant } from '../support/daemon';
import { uploadWhileReading, UploadReply } from '../support/uploadWhileReading';
import { rawExchange } from '../support/rawHttp';
import { setTenantEnabled } from '../../src/tenants/tenantAccounts';
import { DISCARD_MS } from '../../src/http/discardUnreadBody';

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
  let disabledToken: string;

  useDaemon(
    {
      worker: false,
      seed: async (db) => {
        const tenant = await newTenant(db, 'disabled');
        await setTenantEnabled(db, tenant.id, false);
        disabledToken = tenant.token;
      },
    },
    (parts) => {
      daemon = parts.daemon;
      port = daemon.daemon.receiverPort as number;
    },
  );

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

  it(`/batch: a disabled tenant's key first gets its 403 in ${TRIES} of ${TRIES} tries`, async () => {
    const body = () => amplitudeBody(`{"api_key":"${disabledToken}","events":[`, 5 * MiB, ']}');
    await everyTry(
      () => uploadWhileReading(port, head('/batch', `Content-Length: ${sizeOf(body())}\r\n`), body()),
      403,
      (reply) => assert.deepEqual(reply, { code: 403, error: 'Forbidden', detail: 'tenant is disabled' }),
    );
  });

  it(`/2/httpapi with Connection: close: the answer waits until the rest is read, then the 400 arrives in ${TRIES} of ${TRIES} tries`, async () => {
    await everyTry(
      () => uploadWhileReading(port, head('/2/httpapi', 'Connection: close\r\nTransfer-Encoding: chunked\r\n'), chunked(unknownKeyFirst())),
      400,
      (body) => assert.deepEqual(body, { code: 400, error: 'Invalid API key' }),
    );
  });

  it('after a refused body is read to its end, the same connection serves the next request', async () => {
    const refused = Buffer.concat([...chunked(unknownKeyFirst())]);
    const reply = await rawExchange(port, [head('/batch', 'Transfer-Encoding: chunked\r\n'), refused, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], { waitMs: 10000 });
    const statuses = [...reply.text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
    assert.deepEqual(statuses, [400, 200], reply.text.slice(0, 300));
  });

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

describe('the rest of a refused body is read only within its bound', () => {
  let port: number;

  useDaemon({ worker: false, settings: { MAX_BODY_BYTES: String(2 * MiB) } }, (parts) => (port = parts.daemon.daemon.receiverPort as number));

  it('past MAX_BODY_BYTES more raw bytes the connection is closed, after the answer went out', async () => {
    const reply = await uploadWhileReading(port, head('/2/httpapi', 'Transfer-Encoding: chunked\r\n'), chunked(amplitudeBody('{"api_key":"nope","events":[', 16 * MiB, ']}')));
    assert.ok(reply.failure, 'the connection was cut before the whole body was sent');
    assert.deepEqual([reply.status, reply.body], [400, { code: 400, error: 'Invalid API key' }]);
    assert.ok(reply.sentBytes < 16 * MiB, `${reply.sentBytes} bytes sent`);
  });

  it(`a client that trickles the rest has its connection closed after ${DISCARD_MS} ms, with the answer received`, async () => {
    // A byte every 250 ms: never idle long enough for Node's keep-alive timeout to close the connection first.
    const trickle = Array.from({ length: (DISCARD_MS * 3) / 250 }, () => ' ');
    const reply = await rawExchange(port, [head('/2/httpapi', 'Content-Length: 100000\r\n'), '{"api_key":"nope","events":[', ...trickle], { gapMs: 250, waitMs: DISCARD_MS * 3 });
    assert.deepEqual([reply.status, reply.body], [400, { code: 400, error: 'Invalid API key' }]);
    assert.ok(reply.closedAfterMs >= DISCARD_MS && reply.closedAfterMs < DISCARD_MS * 2, `closed after ${reply.closedAfterMs} ms`);
  });
});
