/** What a real process logs under hostile or broken conditions: no token in any logged path, and an outage reported in a few counted lines, not one per request. */
import assert from 'node:assert/strict';
import { createTestEnv, openMigrated, TestEnv } from '../support/testEnv';
import { spawnActivityd, ensureStopped, newTenant, ChildDaemon } from '../support/daemon';
import { post, request } from '../support/http';
import { Db } from '../../src/store/db';

const LISTENING = /"port":(\d+),"msg":"receiver listening"/;

describe('hostile: logs', function () {
  this.timeout(60000);
  let env: TestEnv;
  let db: Db;
  let daemon: ChildDaemon | undefined;

  afterEach(async () => {
    await ensureStopped(daemon);
    await db?.destroy();
    await env?.cleanup();
  });

  it('a tenant token in an admin or board path is masked in the refusal and request lines', async () => {
    env = createTestEnv({ CREATE_DEFAULT_TENANT: 'false', LOG_LEVEL: 'debug' });
    db = await openMigrated(env.config);
    const { token } = await newTenant(db);
    daemon = spawnActivityd(['receiver'], env.env);
    const base = `http://127.0.0.1:${(await daemon.waitForOutput(LISTENING))[1]}`;
    for (const path of [`/api/v1/tenants/${token}`, `/api/v1/tenants/${token}/activities`, `/API/v1/tenants/${token}`, `/admin/queues/api/queues/${token}`]) {
      for (const headers of [{}, { authorization: `Bearer ${token}` }] as Array<Record<string, string>>) {
        const answer = await request(`${base}${path}`, { headers });
        assert.ok(answer.status === 401 || answer.status === 404, `${path}: ${answer.status}`);
      }
    }
    // The requests went one after another: once the last one's line is written, so are the others'.
    await daemon.waitForOutput(/"path":"\/admin\/queues\/api\/queues\/[^"]*"[^\n]*"status":401[^\n]*"msg":"request"[^\n]*\n[^\n]*"path":"\/admin\/queues\/api\/queues\//);
    const output = daemon.output();
    assert.equal(output.match(/"msg":"admin request refused"/g)?.length, 4, 'each refused admin request is logged');
    assert.ok(!output.includes(token), `the token is in the log: ${output.slice(Math.max(0, output.indexOf(token) - 200), output.indexOf(token) + 60)}`);
    assert.ok(!output.includes(token.slice(0, 16)), 'a piece of the token is in the log');
  });

  it('while Redis is down, the 503 warning is written at most once per 5 s, with a count of the ones left out, in plain words', async () => {
    // Redis is "down" for this receiver: nothing listens where it points.
    env = createTestEnv({ CREATE_DEFAULT_TENANT: 'false', LOG_LEVEL: 'info', REDIS_URL: 'redis://127.0.0.1:1', ENQUEUE_TIMEOUT_MS: '200' });
    db = await openMigrated(env.config);
    const { token } = await newTenant(db);
    daemon = spawnActivityd(['receiver'], env.env);
    const base = `http://127.0.0.1:${(await daemon.waitForOutput(LISTENING))[1]}`;
    const sent = 300;
    for (let start = 0; start < sent; start += 30) {
      const answers = await Promise.all(Array.from({ length: 30 }, () => post(`${base}/analytics/${token}`, { externalId: 'u', action: 'down' })));
      for (const answer of answers) assert.equal(answer.status, 503);
    }
    // The interval's summary line comes when the interval ends.
    await daemon.waitForOutput(/more times in the last 5 s/, 15000);
    const warnings = daemon
      .output()
      .split('\n')
      .filter((line) => line.includes('ingest requests are answered 503'))
      .map((line) => JSON.parse(line) as { msg: string; repeated?: number });
    assert.ok(warnings.length >= 2 && warnings.length <= 4, `${warnings.length} warning lines for ${sent} refused requests`);
    assert.equal(warnings[0].msg, 'Redis is unreachable: ingest requests are answered 503 (nothing accepted; senders retry later)');
    assert.equal(1 + warnings.slice(1).reduce((sum, line) => sum + (line.repeated ?? 0), 0), sent, 'every refusal is counted');
    assert.match(warnings[1].msg, /\(\d+ more times in the last 5 s\)$/);
    assert.doesNotMatch(daemon.output(), /Redis connection is/, 'no ioredis jargon');
  });
});
