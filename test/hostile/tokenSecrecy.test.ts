import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { createTestEnv, openMigrated, waitFor, TestEnv, ADMIN_TOKEN } from '../support/testEnv';
import { spawnActivityd, ensureStopped, newTenant, ChildDaemon } from '../support/daemon';
import { post, request } from '../support/http';
import { rawExchange } from '../support/rawHttp';
import { generateToken, hashToken } from '../../src/tenants/tokens';
import { setTenantEnabled } from '../../src/tenants/tenantAccounts';
import { Db } from '../../src/store/db';

const LISTENING = /"port":(\d+),"msg":"receiver listening"/;

describe('tokens: random, stored as hashes, never logged', () => {
  let env: TestEnv;
  let db: Db;
  let daemon: ChildDaemon | undefined;

  before(async () => {
    env = createTestEnv({ CREATE_DEFAULT_TENANT: 'false', MAX_BODY_BYTES: '4096', MAX_EVENT_BYTES: '1024', HEADERS_TIMEOUT_MS: '500', REQUEST_TIMEOUT_MS: '1000', RATE_LIMIT_PER_TENANT: '1000' });
    db = await openMigrated(env.config);
  });
  after(async () => {
    await ensureStopped(daemon);
    await db.destroy();
    await env.cleanup();
  });

  it('a token carries 256 random bits and only its SHA-256 hash is stored', async () => {
    const tokens = new Set(Array.from({ length: 1000 }, generateToken));
    assert.equal(tokens.size, 1000);
    for (const token of tokens) assert.equal(Buffer.from(token, 'base64url').length, 32);
    const tenant = await newTenant(db, 'hashed');
    const row = await db('tenants').where({ id: tenant.id }).first();
    assert.ok(!JSON.stringify(row).includes(tenant.token), 'no column holds the token');
    assert.equal(row.token_hash, hashToken(tenant.token));
  });

  it('`activityd start` at LOG_LEVEL=debug never logs a token: in the path, in the header, in errors, in garbage', async () => {
    const tenant = await newTenant(db, 'secret');
    const disabled = await newTenant(db, 'disabled');
    await setTenantEnabled(db, disabled.id, false);
    daemon = spawnActivityd(['start'], { ...env.env, LOG_LEVEL: 'debug' });
    const port = Number((await daemon.waitForOutput(LISTENING))[1]);
    const base = `http://127.0.0.1:${port}`;
    const t = tenant.token;
    const bearer = { authorization: `Bearer ${t}` };

    const expect = async (what: string, reply: Promise<{ status: number }>, status: number) => assert.equal((await reply).status, status, what);
    await expect('path', post(`${base}/analytics/${t}`, { externalId: 'u1', action: 'ok' }), 202);
    await expect('bulk path', post(`${base}/analytics/bulk/${t}`, [{ id: 'u1', action: 'ok' }]), 202);
    await expect('header', post(`${base}/analytics`, { externalId: 'u1', action: 'ok' }, bearer), 202);
    await expect('bulk header', post(`${base}/analytics/bulk`, [{ id: 'u1', action: 'ok' }], bearer), 202);
    await expect('http api', post(`${base}/2/httpapi`, { api_key: t, events: [{ event_type: 'ok', user_id: 'u1' }] }), 200);
    await expect('invalid event', post(`${base}/analytics/${t}`, { action: 'no one' }), 400);
    await expect('bad JSON', request(`${base}/analytics/${t}`, { raw: `{"token":"${t}",` }), 400);
    await expect('bad gzip', request(`${base}/analytics/${t}`, { raw: 'nope', headers: { 'content-encoding': 'gzip' } }), 400);
    await expect('bad encoding', request(`${base}/analytics/${t}`, { raw: '{}', headers: { 'content-encoding': 'br' } }), 415);
    await expect('bad type', request(`${base}/analytics/${t}`, { raw: '{}', headers: { 'content-type': 'text/html' } }), 415);
    await expect('too large', request(`${base}/analytics/${t}`, { raw: zlib.gzipSync(Buffer.alloc(100000, 'a')), headers: { 'content-encoding': 'gzip' } }), 413);
    await expect('wrong method', request(`${base}/analytics/${t}`, { method: 'GET' }), 405);
    await expect('wrong method header', request(`${base}/analytics`, { method: 'PUT', headers: bearer }), 405);
    await expect('no route', post(`${base}/analytics/${t}/more`, {}), 404);
    await expect('token in a wrong path', post(`${base}/analytic/${t}`, {}), 404);
    await expect('token in the query', post(`${base}/nothing?token=${t}`, {}), 404);
    await expect('near miss', post(`${base}/analytics/${t}x`, { externalId: 'u', action: 'x' }), 401);
    await expect('near miss header', post(`${base}/analytics`, { externalId: 'u', action: 'x' }, { authorization: `Bearer ${t}x` }), 401);
    await expect('disabled', post(`${base}/analytics/${disabled.token}`, { externalId: 'u', action: 'x' }), 403);
    await expect('http api unknown key', post(`${base}/2/httpapi`, { api_key: `${t}x`, events: [{ event_type: 'x', user_id: 'u' }] }), 400);
    await expect('tenant token on the admin API', request(`${base}/api/v1/tenants/${tenant.id}/activities`, { headers: bearer }), 401);
    await expect('admin API', request(`${base}/api/v1/tenants/${tenant.id}/activities`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }), 200);
    const garbage = await rawExchange(port, [`POST /analytics/${t} HTTP/1.1\r\nHost: x\r\nContent-Length: nope ${t}\r\n\r\n`]);
    assert.equal(garbage.status, 400);
    const badLine = await rawExchange(port, [`GET /analytics/${t} HTTP/9.9 ${t}\r\n\r\n`]);
    assert.equal(badLine.status, 400);
    const slow = await rawExchange(port, [`POST /analytics/${t} HTTP/1.1\r\n`, 'Host: x\r\n'], { gapMs: 700 });
    assert.equal(slow.status, 408);
    const truncated = await rawExchange(port, [`POST /analytics/${t} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`], { endAfterWrite: true });
    assert.equal(truncated.status, 400);

    await waitFor('the accepted events stored', async () => {
      const [{ n }] = await db('activities').where({ tenant_id: tenant.id }).count({ n: '*' });
      return Number(n) === 5;
    });
    daemon.signal('SIGTERM');
    assert.equal(await daemon.exited, 0);
    const output = daemon.output();
    assert.match(output, /"msg":"request"/, 'debug request lines were written');
    assert.match(output, /"status":405/);
    for (const secret of [t, disabled.token, hashToken(t)]) {
      const at = output.indexOf(secret);
      assert.equal(at, -1, `a token appears in the log: ${output.slice(Math.max(0, at - 300), at + 100)}`);
    }
    // Not even a long piece of it.
    for (let start = 0; start + 16 <= t.length; start += 8) assert.ok(!output.includes(t.slice(start, start + 16)), 'a piece of the token appears in the log');
  });

  it('the token check compares hashes, so a near miss and a hit take the same path', () => {
    // A wrong token that shares a long prefix with the right one hashes to an unrelated value: lookup time cannot reveal the token.
    const token = generateToken();
    const nearMiss = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    assert.notEqual(hashToken(token).slice(0, 8), hashToken(nearMiss).slice(0, 8));
    assert.equal(crypto.createHash('sha256').update(token).digest('hex'), hashToken(token));
  });
});
