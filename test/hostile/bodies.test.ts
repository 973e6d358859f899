import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { countRows } from '../support/testEnv';
import { newTenant, InProcessDaemon } from '../support/daemon';
import { post, request } from '../support/http';
import { rawExchange } from '../support/rawHttp';
import { gzipPieces } from '../support/gzipStream';
import { Db } from '../../src/store/db';
import { useDaemon } from '../support/fixtures';

const LIMIT = 1024 * 1024;

/** 100 MB of zeros, gzipped (about 100 KB), made without holding the 100 MB. */
function gzipBomb(megabytes: number): Promise<Buffer> {
  return gzipPieces((gzip) => {
    const zeros = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < megabytes; i++) gzip.write(zeros);
    gzip.end();
  });
}

function head(path: string, headers: Record<string, string | number>): string {
  return `POST ${path} HTTP/1.1\r\nHost: x\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;
}

describe('hostile bodies: truncated, mistyped, compressed bombs, too deep, too many', () => {
  let db: Db;
  let daemon: InProcessDaemon;
  let tenant: { id: number; token: string };
  let port: number;

  useDaemon(
    {
      settings: { MAX_BODY_BYTES: String(LIMIT), MAX_EVENTS_PER_REQUEST: '100' },
      seed: async (db) => {
        tenant = await newTenant(db, 'bodies');
      },
    },
    (parts) => ({ db, daemon } = parts),
  );
  before(async () => {
    port = (daemon.daemon.receiverPort as number);
  });

  const path = () => `/analytics/${tenant.token}`;
  const stillServing = async () => {
    const reply = await post(`${daemon.baseUrl}${path()}`, { externalId: 'alive', action: 'ping' });
    assert.equal(reply.status, 202, reply.text);
  };

  it('a body shorter than its Content-Length, then the client closes: 400 with a reason, nothing stored, still serving', async () => {
    const partial = '{"externalId":"trunc","action":"x"';
    const reply = await rawExchange(port, [head(path(), { 'Content-Type': 'application/json', 'Content-Length': 1000 }), partial], { endAfterWrite: true });
    // The client half-closed, so it can still read the refusal.
    assert.equal(reply.status, 400, reply.text);
    assert.match(reply.body.error, /before the whole request .* arrived|body could not be read/);
    const abrupt = await rawExchange(port, [head(path(), { 'Content-Type': 'application/json', 'Content-Length': 1000 }), partial], { waitMs: 200 });
    assert.equal(abrupt.status, undefined, 'nothing is answered while the body is still expected');
    await stillServing();
    assert.equal(await countRows(db, 'activities', { tenant_id: tenant.id, action: 'x' }), 0);
  });

  it('a Content-Type that is not JSON is refused with 415 and a reason; JSON types, text/plain and a UTF-8 charset pass', async () => {
    const event = JSON.stringify({ externalId: 'ct', action: 'typed' });
    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'text/html', 'application/json; charset=latin1']) {
      const reply = await request(`${daemon.baseUrl}${path()}`, { raw: event, headers: { 'content-type': type } });
      assert.equal(reply.status, 415, `${type}: ${reply.text}`);
      assert.match(reply.body.error, /not supported/);
    }
    for (const type of ['application/json', 'application/json; charset=UTF-8', 'text/plain;charset=utf-8', 'application/vnd.api+json']) {
      const reply = await request(`${daemon.baseUrl}${path()}`, { raw: event, headers: { 'content-type': type } });
      assert.equal(reply.status, 202, `${type}: ${reply.text}`);
    }
    const none = await rawExchange(port, [head(path(), { 'Content-Length': Buffer.byteLength(event), Connection: 'close' }), event]);
    assert.equal(none.status, 202, none.text);
    const httpApi = await request(`${daemon.baseUrl}/2/httpapi`, { raw: JSON.stringify({ api_key: tenant.token, events: [] }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(httpApi.status, 415);
    assert.equal(httpApi.body.code, 415);
  });

  it('a gzip bomb (100 MB of zeros in about 100 KB) is refused with 413 at the limit, while streaming, with memory bounded', async () => {
    const bomb = await gzipBomb(100);
    assert.ok(bomb.length < 200 * 1024, `bomb is ${bomb.length} bytes`);
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const started = Date.now();
    const reply = await request(`${daemon.baseUrl}${path()}`, { raw: bomb, headers: { 'content-encoding': 'gzip' } });
    clearInterval(sampler);
    assert.equal(reply.status, 413, reply.text);
    assert.match(reply.body.error, /over the 1048576-byte limit \(MAX_BODY_BYTES\)/);
    assert.ok(Date.now() - started < 5000, 'refused without inflating it all');
    // Inflating 100 MB into memory would show here; reading stops at 1 MiB.
    assert.ok(peak - baseline < 64 * 1024 * 1024, `rss grew by ${Math.round((peak - baseline) / 1e6)} MB`);
    const deflated = zlib.deflateSync(Buffer.alloc(20 * 1024 * 1024));
    assert.equal((await request(`${daemon.baseUrl}${path()}`, { raw: deflated, headers: { 'content-encoding': 'deflate' } })).status, 413);
    await stillServing();
  });

  it('a gzip body whose Content-Length lies, or whose size trailer lies, is refused with 400 naming the reason', async () => {
    const body = zlib.gzipSync(JSON.stringify([{ externalId: 'gzlie', action: 'lie' }, { externalId: 'gzlie', action: 'lie', info: { pad: 'p'.repeat(200) } }]));
    const short = await rawExchange(port, [head(path(), { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': 30 }), body]);
    // The bytes past the Content-Length are a second, malformed request on the same connection; whichever refusal is
    // ready first is sent before the connection closes.
    assert.equal(short.status, 400, short.text);
    assert.match(short.body.error, /could not be decompressed|not valid HTTP/);
    const long = await rawExchange(port, [head(path(), { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': body.length + 500 }), body], { endAfterWrite: true });
    assert.equal(long.status, 400, long.text);
    assert.match(long.body.error, /could not be (read|decompressed)|before the whole request .* arrived/);
    const lyingTrailer = Buffer.from(body);
    lyingTrailer.writeUInt32LE(7, lyingTrailer.length - 4);
    const trailer = await request(`${daemon.baseUrl}${path()}`, { raw: lyingTrailer, headers: { 'content-encoding': 'gzip' } });
    assert.equal(trailer.status, 400, trailer.text);
    assert.match(trailer.body.error, /could not be decompressed/);
    assert.equal(await countRows(db, 'activities', { tenant_id: tenant.id, action: 'lie' }), 0);
    await stillServing();
  });

  it('a declared Content-Length over the limit gets 413 before the body is sent', async () => {
    const reply = await rawExchange(port, [head(path(), { 'Content-Type': 'application/json', 'Content-Length': 50 * 1024 * 1024 })]);
    assert.equal(reply.status, 413, reply.text);
    assert.match(reply.body.error, /MAX_BODY_BYTES/);
  });

  it('a chunked body without Content-Length is cut off with 413 as soon as it passes the limit, not after it is all buffered', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const parts: Array<string | Buffer> = [head(path(), { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' })];
    for (let i = 0; i < 160; i++) parts.push(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
    const reply = await rawExchange(port, parts, { gapMs: 10, waitMs: 20000 });
    assert.equal(reply.status, 413, reply.text.slice(0, 300));
    // 160 chunks 10 ms apart take 1.6 s to send; the refusal comes after about 16 of them.
    assert.ok(reply.closedAfterMs < 1200, `closed after ${reply.closedAfterMs} ms`);
  });

  it('an event nested deeper than 64 levels is refused with a reason, however deep (no stack overflow, no 500)', async () => {
    for (const depth of [65, 100000]) {
      const raw = `{"externalId":"deep","action":"x","info":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
      const reply = await request(`${daemon.baseUrl}${path()}`, { raw });
      assert.equal(reply.status, 400, reply.text.slice(0, 200));
      assert.match(reply.body.rejected[0].error, /nested more than 64 levels deep/);
    }
    const arrays = `{"externalId":"deep","action":"x","info":{"list":${'['.repeat(200000)}${']'.repeat(200000)}}}`;
    assert.equal((await request(`${daemon.baseUrl}${path()}`, { raw: arrays })).status, 400);
    const fine = `{"externalId":"deep","action":"x","info":${'{"a":'.repeat(60)}1${'}'.repeat(60)}}`;
    assert.equal((await request(`${daemon.baseUrl}${path()}`, { raw: fine })).status, 202);
  });

  it('more events than MAX_EVENTS_PER_REQUEST are refused whole with 413 at once, also on the HTTP V2 API', async () => {
    const tiny = `[${Array(300000).fill('{}').join(',')}]`;
    const started = Date.now();
    const reply = await request(`${daemon.baseUrl}${path()}`, { raw: tiny });
    assert.equal(reply.status, 413, reply.text.slice(0, 200));
    assert.match(reply.body.error, /holds 300000 events, over the limit of 100 per request \(MAX_EVENTS_PER_REQUEST\)/);
    assert.ok(Date.now() - started < 5000);
    const events = Array.from({ length: 101 }, (_, i) => ({ event_type: 'x', user_id: `u${i}` }));
    const httpApi = await post(`${daemon.baseUrl}/2/httpapi`, { api_key: tenant.token, events });
    assert.equal(httpApi.status, 413);
    assert.equal(httpApi.body.error, 'Payload too large');
  });

  it('an ingest route with the wrong method answers JSON (405) with the allowed one', async () => {
    const reply = await request(`${daemon.baseUrl}${path()}`, { method: 'GET' });
    assert.equal(reply.status, 405);
    assert.match(reply.body.error, /GET is not allowed here, only POST/);
  });
});
