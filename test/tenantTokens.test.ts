import assert from 'node:assert/strict';
import { createTestEnv, openMigrated, TestEnv, ADMIN_TOKEN, TEST_DATABASE_NAME } from './support/testEnv';
import { spawnActivityd, ensureStopped, ChildDaemon } from './support/daemon';
import { post, request } from './support/http';
import type { Db } from '../src/store/db';
import { createLogger } from '../src/log';
import { startTenantDirectory } from '../src/tenants/directory';

const LISTENING = /"port":(\d+),"msg":"receiver listening"/;
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe(`tenant tokens: a new tenant at once in every receiver, on ${TEST_DATABASE_NAME}`, function () {
  this.timeout(60000);
  let env: TestEnv;
  let db: Db;
  const receivers: ChildDaemon[] = [];
  const urls: string[] = [];

  before(async () => {
    // The longest refresh allowed: a token seen at once cannot be the periodic reload's doing.
    env = createTestEnv({ TENANT_REFRESH_MS: '5000' });
    db = await openMigrated(env.config);
    for (let i = 0; i < 2; i++) {
      const receiver = spawnActivityd(['receiver'], { ...env.env, PORT: '0', LOG_LEVEL: 'info' });
      receivers.push(receiver);
      urls.push(`http://127.0.0.1:${(await receiver.waitForOutput(LISTENING))[1]}`);
    }
  });

  after(async () => {
    await Promise.all(receivers.map(ensureStopped));
    await db?.destroy();
    await env?.cleanup();
  });

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
