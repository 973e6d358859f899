/** A start that cannot complete (port taken, database unreachable, bad setting) exits non-zero with one line naming what failed. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createTestEnv, openMigrated, TestEnv } from '../support/testEnv';
import { spawnActivityd, ensureStopped, ChildDaemon } from '../support/daemon';

/** How long a failed start may take to exit: Redis and the database answer at once here. */
const EXIT_WITHIN_MS = 15000;

describe('hostile: start-up failures exit non-zero with one clear line', function () {
  this.timeout(60000);
  let env: TestEnv;
  let holder: net.Server;
  let takenPort = 0;
  const started: ChildDaemon[] = [];

  before(async () => {
    env = createTestEnv({ CREATE_DEFAULT_TENANT: 'false', LOG_LEVEL: 'info' });
    await (await openMigrated(env.config)).destroy();
    holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    takenPort = (holder.address() as net.AddressInfo).port;
  });
  after(async () => {
    await Promise.all(started.map(ensureStopped));
    holder?.close();
    await env?.cleanup();
  });

  /** Runs activityd until it exits (or the deadline passes: then the test fails, the process still running). */
  async function failedStart(args: string[], settings: Record<string, string>): Promise<{ code: number | null; lines: string[]; output: string }> {
    const daemon = spawnActivityd(args, { ...env.env, ...settings });
    started.push(daemon);
    const code = await Promise.race([daemon.exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), EXIT_WITHIN_MS).unref())]);
    assert.notEqual(code, 'running', `activityd ${args.join(' ')} still runs ${EXIT_WITHIN_MS} ms after a failed start; output:\n${daemon.output().slice(-2000)}`);
    const output = daemon.output();
    // Everything but the structured (JSON) log lines: what an operator reads.
    const lines = output.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('{'));
    return { code: code as number | null, lines, output };
  }

  for (const role of ['start', 'receiver']) {
    it(`\`activityd ${role}\` whose PORT is taken exits 1 with one line naming the port`, async () => {
      const { code, lines } = await failedStart([role], { PORT: String(takenPort) });
      assert.equal(code, 1);
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(lines[0], new RegExp(`^activityd: cannot start: the receiver cannot listen on 127\\.0\\.0\\.1:${takenPort} \\(HOST, PORT\\): the port is already in use`));
    });
  }

  it('`activityd worker` whose WORKER_METRICS_PORT is taken exits 1 with one line naming the port', async () => {
    const { code, lines } = await failedStart(['worker'], { WORKER_METRICS_PORT: String(takenPort) });
    assert.equal(code, 1);
    assert.deepEqual(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], new RegExp(`^activityd: cannot start: the worker's metrics server cannot listen on 127\\.0\\.0\\.1:${takenPort} .*WORKER_METRICS_PORT.*already in use`));
  });

  it('a database that cannot be reached or opened at start: exit 1, one line naming the database, no stack trace', async () => {
    const unreachable = await failedStart(['start'], { DATABASE_URL: 'postgres://activityd:secret@127.0.0.1:1/nowhere' });
    assert.equal(unreachable.code, 1);
    assert.deepEqual(unreachable.lines.length, 1, unreachable.lines.join('\n'));
    assert.match(unreachable.lines[0], /^activityd: cannot start: the database \(PostgreSQL postgres:\/\/activityd:\*\*\*@127\.0\.0\.1:1\/nowhere .*DATABASE_URL\) is not usable: connection refused/);
    assert.ok(!unreachable.output.includes('secret'), 'the password is not shown');

    const notAFolder = path.join(env.dir, 'a-file');
    fs.writeFileSync(notAFolder, '');
    const unopenable = await failedStart(['receiver'], { DATABASE_URL: path.join(notAFolder, 'activityd.sqlite') });
    assert.equal(unopenable.code, 1);
    assert.deepEqual(unopenable.lines.length, 1, unopenable.lines.join('\n'));
    assert.match(unopenable.lines[0], /^activityd: cannot start: the database \(SQLite file .*a-file\/activityd\.sqlite, DATABASE_URL\) cannot be opened: /);
  });

  it('a DATABASE_URL whose folder and its parent do not exist (a typo) is refused, not made: exit 1, one line naming the folder, no database created', async () => {
    const typo = path.join(env.dir, 'no-such-folder', 'deeper', 'activityd.sqlite');
    const missing = await failedStart(['start'], { DATABASE_URL: typo });
    assert.equal(missing.code, 1);
    assert.deepEqual(missing.lines.length, 1, missing.lines.join('\n'));
    assert.match(missing.lines[0], /the folder .*no-such-folder\/deeper of DATABASE_URL does not exist, nor its parent: create it, or correct the path/);
    assert.ok(!fs.existsSync(path.join(env.dir, 'no-such-folder')), 'no folder was made');
    assert.ok(!missing.output.includes('token'), 'no tenant was made and no token printed');
  });

  it('a bad REDIS_URL: exit 2, one line naming the setting', async () => {
    const { code, lines } = await failedStart(['start'], { REDIS_URL: 'http://127.0.0.1:6379' });
    assert.equal(code, 2);
    assert.deepEqual(lines.length, 1, lines.join('\n'));
    assert.match(lines[0], /^activityd: invalid setting: REDIS_URL must be/);
  });
});
