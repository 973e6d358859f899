import assert from 'node:assert/strict';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { createTestEnv, openMigrated, TestEnv, waitFor } from '../support/testEnv';
import { spawnActivityd, ensureStopped, newTenant, ChildDaemon, InProcessDaemon } from '../support/daemon';
import { post, request } from '../support/http';
import { rawExchange } from '../support/rawHttp';
import { gzipPieces } from '../support/gzipStream';
import { uploadWhileReading } from '../support/uploadWhileReading';
import { useDaemon } from '../support/fixtures';
import { createApiKeyScanner } from '../../src/receive/apiKeyScanner';
import { Db } from '../../src/store/db';

const LISTENING = /"port":(\d+),"msg":"receiver listening"/;
const MiB = 1024 * 1024;

/** gzip of `prefix`, then `{},` repeated up to about `inflatedBytes`, then `suffix`; made without holding the inflated text. */
function gzipOfManyEvents(prefix: string, inflatedBytes: number, suffix: string): Promise<Buffer> {
  return gzipPieces((gzip) => {
    gzip.write(prefix);
    const block = Buffer.from('{},'.repeat(MiB / 4));
    for (let written = prefix.length + suffix.length + 2; written + block.length <= inflatedBytes; written += block.length) gzip.write(block);
    gzip.end(`{}${suffix}`);
  });
}

function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** Runs `attack` while sampling the process's RSS and polling /healthz; returns what both saw. */
async function underWatch<T>(base: string, pid: number, attack: () => Promise<T>) {
  const before = rssBytes(pid);
  let peak = before;
  const health: Array<{ status: number; ms: number }> = [];
  let attacking = true;
  const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 10);
  const poller = (async () => {
    while (attacking) {
      const started = Date.now();
      const reply = await request(`${base}/healthz`).catch(() => ({ status: 0 }));
      health.push({ status: reply.status, ms: Date.now() - started });
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  const started = Date.now();
  try {
    const result = await attack();
    return { result, ms: Date.now() - started, growth: peak - before, health };
  } finally {
    attacking = false;
    clearInterval(sampler);
    await poller;
  }
}

describe('bounded cost before trust: a wrong key costs little whatever the body holds (a real `activityd start`)', () => {
  let env: TestEnv;
  let db: Db;
  let daemon: ChildDaemon | undefined;
  let base: string;
  let pid: number;

  before(async () => {
    env = createTestEnv({ CREATE_DEFAULT_TENANT: 'false', LOG_LEVEL: 'info' });
    db = await openMigrated(env.config);
    const tenant = await newTenant(db, 'cost');
    daemon = spawnActivityd(['start'], env.env);
    base = `http://127.0.0.1:${(await daemon.waitForOutput(LISTENING))[1]}`;
    pid = daemon.child.pid as number;
    // Warm up: the first requests load code and fill caches, which is not the attack's cost.
    for (let i = 0; i < 3; i++) assert.equal((await post(`${base}/2/httpapi`, { api_key: tenant.token, events: [{ event_type: 'warm', user_id: `warm-${i}` }] })).status, 200);
  });
  after(async () => {
    await ensureStopped(daemon);
    await db.destroy();
    await env.cleanup();
  });

  const send = (path: string, gzipped: Buffer, headers: Record<string, string> = {}) => request(`${base}${path}`, { raw: gzipped, headers: { 'content-encoding': 'gzip', ...headers } });

  const assertHealthy = (health: Array<{ status: number; ms: number }>) => {
    assert.ok(health.length >= 1, `/healthz was polled ${health.length} times`);
    for (const poll of health) assert.equal(poll.status, 200);
    const slowest = Math.max(...health.map((poll) => poll.ms));
    assert.ok(slowest < 1000, `/healthz took up to ${slowest} ms during the attack`);
  };

  it('four concurrent 32 KiB gzip bodies inflating to 32 MiB with an unknown key: refused within 2 s in all, RSS grows < 100 MB, /healthz answers throughout', async () => {
    const body = await gzipOfManyEvents('{"api_key":"nope","events":[', 32 * MiB - 64, ']}');
    assert.ok(body.length < 64 * 1024, `the body is ${body.length} bytes gzipped`);
    const watched = await underWatch(base, pid, () => Promise.all([1, 2, 3, 4].map(() => send('/2/httpapi', body))));
    for (const reply of watched.result) {
      assert.equal(reply.status, 400, reply.text.slice(0, 200));
      assert.deepEqual(reply.body, { code: 400, error: 'Invalid API key' });
    }
    assert.ok(watched.ms < 2000, `refused after ${watched.ms} ms`);
    assert.ok(watched.growth < 100 * 1e6, `RSS grew by ${Math.round(watched.growth / 1e6)} MB`);
    assertHealthy(watched.health);
  });

  it('the key after the events array: reading stops at the 1 MB limit of /2/httpapi with 413, in Amplitude\'s shape', async () => {
    const body = await gzipOfManyEvents('{"events":[', 32 * MiB - 64, '],"api_key":"nope"}');
    const watched = await underWatch(base, pid, () => Promise.all([1, 2, 3, 4].map(() => send('/2/httpapi', body))));
    for (const reply of watched.result) {
      assert.equal(reply.status, 413, reply.text.slice(0, 200));
      assert.equal(reply.body.code, 413);
      assert.equal(reply.body.error, 'Payload too large');
      assert.match(reply.body.detail, /over the 1048576-byte limit \(Amplitude's HTTP V2 API limit\)/);
    }
    assert.ok(watched.ms < 2000, `refused after ${watched.ms} ms`);
    assert.ok(watched.growth < 100 * 1e6, `RSS grew by ${Math.round(watched.growth / 1e6)} MB`);
    assertHealthy(watched.health);
  });

  it('an unknown key in `Authorization: Bearer` is refused before the body is read', async () => {
    const body = await gzipOfManyEvents('{"events":[', 32 * MiB - 64, ']}');
    const watched = await underWatch(base, pid, () => send('/batch', body, { authorization: 'Bearer nope' }));
    assert.equal(watched.result.status, 400, watched.result.text.slice(0, 200));
    assert.deepEqual(watched.result.body, { code: 400, error: 'Invalid API key' });
    assert.ok(watched.ms < 1000, `refused after ${watched.ms} ms`);
  });
});

describe('bounded cost before trust: the key found while streaming, and the body memory budget', () => {
  let daemon: InProcessDaemon;
  let tenant: { id: number; token: string };

  useDaemon(
    { settings: { BODY_MEMORY_BUDGET_BYTES: String(MiB) }, seed: async (db) => void (tenant = await newTenant(db, 'streaming')) },
    (parts) => ({ daemon } = parts),
  );

  it('the scan finds the top-level api_key however the bytes are split, through JSON escapes, and not inside other members', () => {
    const token = 'ab/c"d\u00e9';
    const text = `{"options":{"api_key":"inner"},"list":["api_key",{"api_key":1}],"n":-1.5e3,"ok":true,"api\\u005fkey" : "ab\\/c\\"d\\u00e9","events":[]}`;
    const bytes = Buffer.from(text);
    for (let size = 1; size <= bytes.length; size++) {
      const scanner = createApiKeyScanner();
      let scan = scanner.feed(Buffer.alloc(0));
      for (let at = 0; at < bytes.length && scan.status === 'searching'; at += size) scan = scanner.feed(bytes.subarray(at, at + size));
      assert.deepEqual(scan, { status: 'found', key: token }, `chunks of ${size} bytes`);
    }
    const afterMark = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"api_key":"k"}')]);
    assert.deepEqual(createApiKeyScanner().feed(afterMark), { status: 'found', key: 'k' }, 'after a byte-order mark');
    for (const unfindable of ['[{"api_key":"x"}]', '{"api_key":12}', '{"events":[]}', `{"api_key":"${'x'.repeat(2000)}"}`]) {
      assert.equal(createApiKeyScanner().feed(Buffer.from(unfindable)).status, 'unfindable', unfindable);
    }
  });

  it('a known key, escaped or placed after the events, or given as a Bearer header, is accepted; an unknown Bearer key is refused even beside a known api_key', async () => {
    const events = [{ event_type: 'streamed', user_id: 'streamer' }];
    const escaped = `{"api_key":"${tenant.token.replace(/[A-Za-z]/, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)}","events":${JSON.stringify(events)}}`;
    assert.equal((await request(`${daemon.baseUrl}/2/httpapi`, { raw: zlib.gzipSync(escaped), headers: { 'content-encoding': 'gzip' } })).status, 200);
    assert.equal((await request(`${daemon.baseUrl}/2/httpapi`, { raw: `{"events":${JSON.stringify(events)},"api_key":"${tenant.token}"}` })).status, 200);
    assert.equal((await post(`${daemon.baseUrl}/batch`, { events }, { authorization: `Bearer ${tenant.token}` })).status, 200);
    const wrongHeader = await post(`${daemon.baseUrl}/batch`, { api_key: tenant.token, events }, { authorization: 'Bearer another' });
    assert.deepEqual([wrongHeader.status, wrongHeader.body], [400, { code: 400, error: 'Invalid API key' }]);
  });

  it('past BODY_MEMORY_BUDGET_BYTES of bodies in flight, 503 with Retry-After at once, on every ingest route; served again once they are answered', async () => {
    const port = daemon.daemon.receiverPort as number;
    // A client that declares 900 KB and sends it slowly holds most of the 1 MiB budget until it gives up.
    const holder = rawExchange(port, [`POST /analytics/${tenant.token} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 900000\r\n\r\n`, '[{"externalId":"slow"'], { waitMs: 3000 });
    // 200 KB more does not fit beside it. The event is invalid, so a request that gets past the budget stores nothing.
    const body = JSON.stringify([{ externalId: 'u', info: { pad: 'p'.repeat(200000) } }]);
    const over = (path: string) => waitFor(`503 on ${path} once the holder is in`, async () => {
      const reply = await request(`${daemon.baseUrl}${path}`, { raw: body });
      return reply.status === 503 && reply;
    }, 2500, 25);
    const planhat = await over(`/analytics/bulk/${tenant.token}`);
    assert.equal(planhat.status, 503, planhat.text.slice(0, 200));
    assert.equal(planhat.headers.get('retry-after'), '30');
    assert.match(planhat.body.error, /memory budget allows \(BODY_MEMORY_BUDGET_BYTES\)/);
    const amplitude = await over('/2/httpapi');
    assert.equal(amplitude.status, 503);
    assert.equal(amplitude.body.code, 503);
    assert.equal(amplitude.headers.get('retry-after'), '30');
    // A client that asks first (Expect: 100-continue) gets the 503 instead of `100 Continue`, and sends nothing.
    const asked = await uploadWhileReading(port, `POST /batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200000\r\nExpect: 100-continue\r\n\r\n`, []);
    assert.deepEqual([asked.failure, asked.status, asked.body?.code], [undefined, 503, 503]);
    await holder;
    // The holder's client has hung up; the receiver gives its share back once it has seen the connection go.
    const reply = await waitFor('202 once the holder is gone', async () => {
      const answer = await post(`${daemon.baseUrl}/analytics/${tenant.token}`, { externalId: 'after', action: 'x', info: { pad: 'p'.repeat(200000) } });
      assert.ok(answer.status === 202 || answer.status === 503, answer.text);
      return answer.status === 202 && answer;
    }, 2000, 25);
    assert.equal(reply.status, 202, reply.text);
  });
});
