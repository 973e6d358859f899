import assert from 'node:assert/strict';
import { TestEnv, ADMIN_TOKEN, TEST_DATABASE_NAME, waitFor } from './support/testEnv';
import { InProcessDaemon, newTenant, runActivityd } from './support/daemon';
import { useDaemon, useReceivers } from './support/fixtures';
import { post, request } from './support/http';
import type { Db } from '../src/store/db';
import { createLogger } from '../src/log';
import { startTenantDirectory } from '../src/tenants/directory';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe(`tenant tokens: a new tenant at once in every receiver, on ${TEST_DATABASE_NAME}`, function () {
  this.timeout(60000);
  let env: TestEnv;
  let db: Db;
  let urls: string[] = [];

  // The longest refresh allowed: a token seen at once cannot be the periodic reload's doing.
  useReceivers(2, { TENANT_REFRESH_MS: '5000' }, (parts) => ({ env, db, urls } = parts));

  it('a tenant created through one receiver is accepted by its first request to the other, every time', async () => {
    for (let i = 0; i < 10; i++) {
      const [maker, taker] = i % 2 === 0 ? urls : [...urls].reverse();
      const created = await request(`${maker}/api/v1/tenants`, { method: 'POST', body: { name: `at-once-${i}` }, headers: admin });
      assert.equal(created.status, 201, created.text);
      const first = await post(`${taker}/analytics/${created.body.token}`, { externalId: 'u', action: 'first' });
      assert.equal(first.status, 202, `tenant ${i}: ${first.text}`);
    }
  });

  it('a flood of unknown tokens costs at most one tenant reload at a time, shared by every waiting request', async () => {
    const directory = await startTenantDirectory(db, 5000, createLogger(env.config, 'test'));
    let reloads = 0;
    const countReloads = (query: { sql: string }) => {
      if (/from ["`]?tenants["`]?/i.test(query.sql)) reloads++;
    };
    db.on('query', countReloads);
    try {
      const checks = await Promise.all(Array.from({ length: 200 }, (_, i) => directory.check(`no-such-token-${i}`)));
      assert.ok(checks.every((check) => check.status === 'unknown'));
      assert.ok(reloads >= 1 && reloads <= 2, `${reloads} reloads for 200 unknown tokens`);
    } finally {
      db.off('query', countReloads);
      directory.stop();
    }
  });
});

describe(`tenant tokens: rotation with a grace period, over real HTTP on ${TEST_DATABASE_NAME}`, function () {
  this.timeout(60000);
  let env: TestEnv;
  let db: Db;
  let daemon: InProcessDaemon;

  // The longest refresh allowed, so a grace that ends on time is each request's check, not a reload.
  useDaemon({ worker: false, settings: { TENANT_REFRESH_MS: '5000' } }, (parts) => ({ env, db, daemon } = parts));

  const ingest = async (token: string) => (await post(`${daemon.baseUrl}/analytics/${token}`, { externalId: 'u', action: 'x' })).status;
  const tenantShown = async (id: number) => (await request(`${daemon.baseUrl}/api/v1/tenants/${id}`, { headers: admin })).body;
  const cli = async (...args: string[]) => {
    const run = await runActivityd(args, env.env);
    return { code: run.code, out: run.out, json: run.code === 0 ? JSON.parse(run.out) : undefined };
  };

  it('POST /tenants/:id/token?keepOld=3s: old and new tokens both work, then the old one stops when its grace ends', async () => {
    const tenant = await newTenant(db);
    assert.equal(await ingest(tenant.token), 202);
    const rotated = await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/token?keepOld=3s`, { method: 'POST', headers: admin });
    assert.equal(rotated.status, 200, rotated.text);
    const validUntil = Date.parse(rotated.body.oldTokenValidUntil);
    assert.ok(Math.abs(validUntil - (Date.now() + 3000)) < 1000, rotated.text);
    assert.equal(await ingest(rotated.body.token), 202, 'the new token at once');
    assert.equal(await ingest(tenant.token), 202, 'the old token during its grace');
    assert.equal((await tenantShown(tenant.id)).oldTokenValidUntil, rotated.body.oldTokenValidUntil);
    const listed = (await request(`${daemon.baseUrl}/api/v1/tenants`, { headers: admin })).body.data.find((row: { id: number }) => row.id === tenant.id);
    assert.equal(listed.oldTokenValidUntil, rotated.body.oldTokenValidUntil);

    let lastAccepted = 0;
    await waitFor('the old token refused', async () => {
      // The time it was sent: the receiver checked the grace after it, so an accepted request was sent before the end.
      const sentAt = Date.now();
      const status = await ingest(tenant.token);
      if (status === 202) lastAccepted = sentAt;
      return status === 401;
    }, 10000, 20);
    const refusedAt = Date.now();
    assert.ok(lastAccepted > 0 && lastAccepted < validUntil, 'accepted until the grace ended');
    assert.ok(refusedAt >= validUntil && refusedAt - validUntil < 2500, `refused ${refusedAt - validUntil} ms after the grace ended`);
    assert.equal(await ingest(rotated.body.token), 202);
    assert.equal((await tenantShown(tenant.id)).oldTokenValidUntil, null);
  });

  it('tenant rotate-token keeps the old token for 24 hours by default; tenant list shows until when; --keep-old 0 cuts it', async () => {
    const tenant = await newTenant(db);
    assert.equal(await ingest(tenant.token), 202);
    const rotated = await cli('tenant', 'rotate-token', String(tenant.id));
    assert.equal(rotated.code, 0, rotated.out);
    assert.ok(Math.abs(Date.parse(rotated.json.oldTokenValidUntil) - (Date.now() + 24 * 3_600_000)) < 60000, rotated.out);
    assert.equal(await ingest(rotated.json.token), 202, 'the new token, made by another process, at once');
    assert.equal(await ingest(tenant.token), 202, 'the old token during its grace');
    const listed = (await cli('tenant', 'list')).json.find((row: { id: number }) => row.id === tenant.id);
    assert.equal(listed.oldTokenValidUntil, rotated.json.oldTokenValidUntil);

    const cut = await cli('tenant', 'rotate-token', String(tenant.id), '--keep-old', '0');
    assert.equal(cut.code, 0, cut.out);
    assert.equal(cut.json.oldTokenValidUntil, null);
    assert.equal(await ingest(cut.json.token), 202);
    const started = Date.now();
    await waitFor('the cut token refused', async () => (await ingest(rotated.json.token)) === 401, 5000, 20);
    assert.ok(Date.now() - started <= 5000);
    assert.equal(await ingest(tenant.token), 401, 'the first token: its grace ended with the second rotation');
    assert.equal((await cli('tenant', 'show', String(tenant.id))).json.oldTokenValidUntil, null);
  });

  it('refuses a grace that is not a duration or over 30 days, naming it, and changes nothing', async () => {
    const tenant = await newTenant(db);
    for (const keepOld of ['5', '31d', 'soon', '-1h']) {
      const run = await cli('tenant', 'rotate-token', String(tenant.id), `--keep-old=${keepOld}`);
      assert.equal(run.code, 2, run.out);
      assert.match(run.out, /--keep-old: must be a duration such as 0, 90s, 30m, 24h or 7d, at most 30d/);
      const api = await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/token?keepOld=${encodeURIComponent(keepOld)}`, { method: 'POST', headers: admin });
      assert.equal(api.status, 400, api.text);
      assert.match(api.body.error, /^keepOld: must be a duration/);
    }
    assert.equal(await ingest(tenant.token), 202);
    assert.equal((await tenantShown(tenant.id)).oldTokenValidUntil, null);
  });
});
