import assert from 'node:assert/strict';
import { waitFor } from '../support/testEnv';
import { newTenant, InProcessDaemon } from '../support/daemon';
import { post } from '../support/http';
import { rawExchange } from '../support/rawHttp';
import { createRateLimiter } from '../../src/receive/rateLimit';
import { Db } from '../../src/store/db';
import { useDaemon } from '../support/fixtures';

describe('slow and abusive clients: header and request timeouts, per-tenant rate limit', () => {
  let db: Db;
  let daemon: InProcessDaemon;

  useDaemon({ settings: { HEADERS_TIMEOUT_MS: '1000', REQUEST_TIMEOUT_MS: '2500', RATE_LIMIT_PER_TENANT: '5' } }, (parts) => ({ db, daemon } = parts));

  it('a client trickling its headers in byte by byte (slowloris) is cut off with 408 after HEADERS_TIMEOUT_MS', async () => {
    const tenant = await newTenant(db);
    const header = `POST /analytics/${tenant.token} HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(100)}\r\n\r\n`;
    // One byte every 50 ms would take over 9 s to send.
    const reply = await rawExchange((daemon.daemon.receiverPort as number), [...header], { gapMs: 50, waitMs: 8000 });
    assert.equal(reply.status, 408, reply.text);
    assert.match(reply.body.error, /not complete in time/);
    assert.ok(reply.closedAfterMs >= 900 && reply.closedAfterMs < 3000, `closed after ${reply.closedAfterMs} ms`);
  });

  it('a client sending its body too slowly is cut off with 408 after REQUEST_TIMEOUT_MS; others are served meanwhile', async () => {
    const tenant = await newTenant(db);
    const other = await newTenant(db);
    // Both were made together, so the tenant reload that lets `other` in lets `tenant` in too.
    await waitFor('the new tenants known', async () => (await post(`${daemon.baseUrl}/analytics/${other.token}`, { externalId: 'warm', action: 'x' })).status === 202, 5000);
    const body = JSON.stringify({ externalId: 'slow', action: 'x', info: { pad: 'p'.repeat(100) } });
    const head = `POST /analytics/${tenant.token} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const slow = rawExchange((daemon.daemon.receiverPort as number), [head, ...body], { gapMs: 50, waitMs: 10000 });
    assert.equal((await post(`${daemon.baseUrl}/analytics/${other.token}`, { externalId: 'fast', action: 'x' })).status, 202);
    const reply = await slow;
    assert.equal(reply.status, 408, reply.text);
    assert.ok(reply.closedAfterMs >= 2400 && reply.closedAfterMs < 5000, `closed after ${reply.closedAfterMs} ms`);
  });

  it('over RATE_LIMIT_PER_TENANT a tenant gets 429 with Retry-After and a JSON reason; other tenants are not affected', async () => {
    const busy = await newTenant(db);
    const calm = await newTenant(db);
    // Both were made together, so the tenant reload that lets `calm` in lets `busy` in too; busy's budget is untouched.
    await waitFor('the new tenants known', async () => (await post(`${daemon.baseUrl}/analytics/${calm.token}`, { externalId: 'calm', action: 'x' })).status === 202, 5000);
    // Bursts sent at once: the bucket holds five requests, so whatever the machine's speed some of each burst of more
    // than five are refused (sequential requests on a loaded machine could each wait for a refill).
    const burst = await Promise.all(Array.from({ length: 12 }, () => post(`${daemon.baseUrl}/analytics/${busy.token}`, { externalId: 'busy', action: 'x' })));
    const statuses = burst.map((reply) => reply.status);
    assert.ok(statuses.every((status) => status === 202 || status === 429), statuses.join(','));
    assert.ok(statuses.filter((status) => status === 202).length >= 5, statuses.join(','));
    const refused = burst.find((reply) => reply.status === 429);
    assert.ok(refused, statuses.join(','));
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(refused.body.accepted, 0);
    assert.match(refused.body.error, /too many requests for this tenant \(RATE_LIMIT_PER_TENANT\)/);
    assert.equal((await post(`${daemon.baseUrl}/analytics/${calm.token}`, { externalId: 'calm', action: 'x' })).status, 202);
    const httpApi = (await Promise.all(Array.from({ length: 6 }, () => post(`${daemon.baseUrl}/2/httpapi`, { api_key: busy.token, events: [{ event_type: 'x', user_id: 'u' }] })))).find((reply) => reply.status === 429);
    assert.ok(httpApi, 'one of six at once is over the limit on the HTTP V2 API too');
    assert.equal(httpApi.headers.get('retry-after'), '1');
    assert.equal(httpApi.body.code, 429);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((await post(`${daemon.baseUrl}/analytics/${busy.token}`, { externalId: 'busy', action: 'x' })).status, 202);
  });

  it('the rate limiter: a burst of one second, then one request per 1/rate s, Retry-After rounded up; 0 is off', () => {
    const limiter = createRateLimiter(2);
    assert.deepEqual([limiter.take(1, 0), limiter.take(1, 0)], [{ allowed: true }, { allowed: true }]);
    assert.deepEqual(limiter.take(1, 0), { allowed: false, retryAfterSeconds: 1 });
    assert.deepEqual(limiter.take(2, 0), { allowed: true }, 'each tenant has its own bucket');
    assert.deepEqual(limiter.take(1, 500), { allowed: true });
    assert.deepEqual(limiter.take(1, 500), { allowed: false, retryAfterSeconds: 1 });
    const off = createRateLimiter(0);
    for (let i = 0; i < 1000; i++) assert.equal(off.take(1, 0).allowed, true);
  });
});
