/** Started without a Redis: one line says which Redis and what to do, no stack trace per retry, and a signal stops it within SHUTDOWN_TIMEOUT_MS. */
import assert from 'node:assert/strict';
import { createTestEnv, openMigrated, TestEnv } from '../support/testEnv';
import { spawnActivityd, ensureStopped, runActivityd, ChildDaemon } from '../support/daemon';
import { freePort } from '../support/net';
import { Db } from '../../src/store/db';

const SHUTDOWN_TIMEOUT_MS = 3000;
// Time for the process to end once it decided to (exit handlers, the OS reaping it), measured from the test.
const EXIT_SLACK_MS = 700;

describe('faults: Redis missing', function () {
  this.timeout(60000);
  let env: TestEnv;
  let db: Db;
  let closedRedisUrl: string;
  const children: ChildDaemon[] = [];

  before(async () => {
    env = createTestEnv();
    db = await openMigrated(env.config);
    closedRedisUrl = `redis://127.0.0.1:${await freePort()}`;
  });
  after(async () => {
    await Promise.all(children.map(ensureStopped));
    await db.destroy();
    await env.cleanup();
  });

  const startWithoutRedis = () => {
    // ENQUEUE_TIMEOUT_MS bounds each wait for the first connection: the start takes two of them, several reconnect attempts each.
    const daemon = spawnActivityd(['start'], { ...env.env, REDIS_URL: closedRedisUrl, ENQUEUE_TIMEOUT_MS: '2000', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS), LOG_LEVEL: 'info' });
    children.push(daemon);
    return daemon;
  };
  const timedStop = async (daemon: ChildDaemon) => {
    const sent = Date.now();
    daemon.signal('SIGTERM');
    const code = await daemon.exited;
    return { code, tookMs: Date.now() - sent };
  };

  it('one line names the unreachable Redis and how to start one, with no stack trace per reconnect attempt; SIGTERM then exits within SHUTDOWN_TIMEOUT_MS', async () => {
    const daemon = startWithoutRedis();
    await daemon.waitForOutput(/worker consuming the ingest queue/);
    const lines = daemon.output().split('\n');
    const unreachable = lines.filter((line) => line.includes('is unreachable'));
    assert.equal(unreachable.length, 1, daemon.output());
    assert.match(unreachable[0], new RegExp(`Redis at ${closedRedisUrl} \\(REDIS_URL\\) is unreachable: connection refused.*Start one \\(redis-server`));
    assert.doesNotMatch(daemon.output(), /ECONNREFUSED|"stack"/);

    const { code, tookMs } = await timedStop(daemon);
    assert.ok(tookMs <= SHUTDOWN_TIMEOUT_MS + EXIT_SLACK_MS, `took ${tookMs} ms to exit; output:\n${daemon.output()}`);
    assert.ok(code === 0 || /could not finish/.test(daemon.output()), `exit ${code} without saying what it could not finish:\n${daemon.output()}`);
  });

  it('SIGTERM while the start still waits for Redis exits cleanly at once: nothing listens, no ready after the stop', async () => {
    const daemon = startWithoutRedis();
    await daemon.waitForOutput(/is unreachable/);
    const { code, tookMs } = await timedStop(daemon);
    assert.ok(tookMs <= SHUTDOWN_TIMEOUT_MS + EXIT_SLACK_MS, `took ${tookMs} ms to exit; output:\n${daemon.output()}`);
    assert.equal(code, 0, daemon.output());
    const after = daemon.output().slice(daemon.output().indexOf('stopping: no new work taken'));
    assert.match(after, /stopped cleanly/);
    assert.doesNotMatch(daemon.output(), /receiver listening|"msg":"ready"/, 'a stop during the start binds nothing and never says ready');
  });

  it('a REDIS_URL db that is not a number, or that the Redis does not have, stops the start with exit 2 and one line naming REDIS_URL', async () => {
    const redisUrl = env.env.REDIS_URL.replace(/\/\d*$/, '');
    const notANumber = await runActivityd(['start'], { ...env.env, REDIS_URL: `${redisUrl}/abc` });
    assert.equal(notANumber.code, 2, notANumber.out);
    assert.equal(notANumber.out.trim(), 'activityd: invalid setting: REDIS_URL db (the path) must be a whole number, as in redis://HOST:PORT/0, got "/abc"');
    // 9999: far above the 16 databases a Redis has by default.
    const missing = await runActivityd(['start'], { ...env.env, REDIS_URL: `${redisUrl}/9999`, LOG_LEVEL: 'error' });
    assert.equal(missing.code, 2, missing.out);
    assert.match(missing.out.trim(), /^activityd: invalid setting: REDIS_URL db 9999 is not one that Redis has \(ERR DB index is out of range/);
    assert.equal(missing.out.trim().split('\n').length, 1, missing.out);
  });
});
