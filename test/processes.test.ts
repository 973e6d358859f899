/** Behaviour that crosses processes: the real activityd binary, started as child processes. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sqlite3 from 'sqlite3';
import { createTestEnv, openMigrated, waitFor, countRows, onlyOn, TestEnv, ADMIN_TOKEN, TEST_DATABASE, REPO_ROOT } from './support/testEnv';
import { startInProcess, newTenant, spawnActivityd, runActivityd, spawnWatched, ensureStopped, ChildDaemon, InProcessDaemon } from './support/daemon';
import { post, request } from './support/http';
import { Db } from '../src/store/db';
import { openIngestQueue } from '../src/queue/ingestQueue';
import { connectRedis } from '../src/queue/redis';
import { useDaemon } from './support/fixtures';
import { waitForQueueDrained } from './support/settled';

const LISTENING = /"port":(\d+),"msg":"receiver listening"/;
const CONSUMING = /worker consuming the ingest queue/;

describe('processes: two worker processes racing', () => {
  let env: TestEnv;
  let db: Db;
  let receiver: InProcessDaemon;
  let workers: ChildDaemon[];

  useDaemon({ worker: false }, (parts) => ({ env, db, daemon: receiver, children: workers } = parts));

  it('50 concurrent events for one new externalId, consumed by two `activityd worker` processes, make one user', async () => {
    const tenant = await newTenant(db);
    const url = `${receiver.baseUrl}/analytics/${tenant.token}`;
    await waitFor('tenant known', async () => (await post(url, { externalId: 'warmup', action: 'x' })).status === 202, 5000);
    // Both workers are consuming before the events arrive, so both take part in the race.
    const workerEnv = { ...env.env, LOG_LEVEL: 'debug', WORKER_CONCURRENCY: '2', BATCH_MAX_EVENTS: '3' };
    workers.push(spawnActivityd(['worker'], workerEnv), spawnActivityd(['worker'], workerEnv));
    await Promise.all(workers.map((worker) => worker.waitForOutput(CONSUMING)));
    // Half name the person by externalId and email, half by email only, so both identity rules race.
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => post(url, i % 2 ? { externalId: 'racer', email: 'racer@example.com', action: 'race', insertId: `race-${i}` } : { email: 'racer@example.com', action: 'race', insertId: `race-${i}` })),
    );
    assert.deepEqual(new Set(replies.map((reply) => reply.status)), new Set([202]));
    await waitFor('51 activities', async () => (await countRows(db, 'activities', { tenant_id: tenant.id })) === 51, 30000);
    const people = await db('end_users').where({ tenant_id: tenant.id }).whereNot({ external_id: 'warmup' }).orWhereNull('external_id').andWhere({ tenant_id: tenant.id });
    assert.equal(people.length, 1, JSON.stringify(people));
    assert.equal(people[0].external_id, 'racer');
    assert.equal(people[0].email, 'racer@example.com');
    const jobsPerWorker = workers.map((worker) => (worker.output().match(/"msg":"job stored"/g) ?? []).length);
    assert.ok(jobsPerWorker.every((jobs) => jobs > 0), `both workers stored jobs: ${jobsPerWorker}`);
    // The next race brings its own two workers.
    await Promise.all(workers.splice(0).map(ensureStopped));
  });

  it('creates each new user, company, asset and project exactly once', async () => {
    const tenant = await newTenant(db);
    const url = `${receiver.baseUrl}/analytics/${tenant.token}`;
    await waitFor('tenant known', async () => (await post(url, { externalId: 'warmup', action: 'x', insertId: 'warm' })).status === 202, 5000);
    // 10 people, 3 companies, 4 assets, 2 projects, each named by many events spread over many jobs.
    const replies = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        post(url, [{
          ...(i % 3 === 0 ? { email: `person${i % 10}@corp${i % 10 % 3}.com` } : { externalId: `person-${i % 10}`, email: `person${i % 10}@corp${i % 10 % 3}.com` }),
          action: 'race',
          companyExternalId: `company-${i % 3}`,
          assetExternalId: `asset-${i % 4}`,
          projectExternalId: `project-${i % 2}`,
          insertId: `wide-${i}`,
        }]),
      ),
    );
    assert.deepEqual(new Set(replies.map((reply) => reply.status)), new Set([202]));
    const workerEnv = { ...env.env, LOG_LEVEL: 'debug', WORKER_CONCURRENCY: '4', BATCH_MAX_EVENTS: '2' };
    workers.push(spawnActivityd(['worker'], workerEnv), spawnActivityd(['worker'], workerEnv));
    await waitFor('121 activities', async () => (await countRows(db, 'activities', { tenant_id: tenant.id })) === 121, 60000).catch((error: Error) => {
      throw new Error(`${error.message}\n${workers.map((worker) => worker.output().split('\n').filter((line) => !line.includes('job stored')).slice(-5).join('\n')).join('\n---\n')}`);
    });
    assert.equal(await countRows(db, 'companies', { tenant_id: tenant.id }), 3);
    assert.equal(await countRows(db, 'assets', { tenant_id: tenant.id }), 4);
    assert.equal(await countRows(db, 'projects', { tenant_id: tenant.id }), 2);
    const externalIds = (await db('end_users').where({ tenant_id: tenant.id }).select('external_id')).map((row: { external_id: string | null }) => row.external_id);
    // Every person is also sent by email alone (i % 3 === 0); an email-only user made first is adopted later, so each person is one user.
    assert.deepEqual(externalIds.sort(), ['warmup', ...Array.from({ length: 10 }, (_, p) => `person-${p}`)].sort());
    const jobsPerWorker = workers.map((worker) => (worker.output().match(/"msg":"job stored"/g) ?? []).length);
    assert.ok(jobsPerWorker.every((jobs) => jobs > 0), `both workers stored jobs: ${jobsPerWorker}`);
  });
});

describe('processes: four worker processes racing on overlapping identities (PostgreSQL)', () => {
  let env: TestEnv;
  let db: Db;
  let receiver: InProcessDaemon;
  let workers: ChildDaemon[];

  useDaemon({ worker: false }, (parts) => ({ env, db, daemon: receiver, children: workers } = parts));

  // 40 people, 32 events each in 4 consecutive requests (jobs) of 8, so jobs in flight at once name the same people.
  // People 0-29 alternate between requests naming them by email alone and by externalId and email; 30-39 are only
  // ever named by email. Companies, assets and projects are named across all of them.
  const PEOPLE = 40;
  const emailOf = (person: number) => `person${person}@corp${person % 5}.com`;
  function raceEvent(i: number) {
    const person = Math.floor(i / 32);
    const byEmailOnly = person >= 30 || Math.floor(i / 8) % 2 === 0;
    return {
      ...(byEmailOnly ? { email: emailOf(person) } : { externalId: `person-${person}`, email: emailOf(person) }),
      action: 'race',
      companyExternalId: `company-${i % 8}`,
      ...(i % 2 === 0 && { assetExternalId: `asset-${(i / 2) % 6}` }),
      ...(i % 3 !== 2 && { projectExternalId: `project-${i % 5}` }),
      insertId: `four-${i}`,
    };
  }

  it('creates each user, company, asset and project exactly once, and stores every activity exactly once', async function () {
    // Several SQLite worker processes would only take turns at the file's one write lock: there, one worker process is the shape.
    onlyOn(this, 'postgres', 'several worker processes share one database only on PostgreSQL');
    const tenant = await newTenant(db);
    const url = `${receiver.baseUrl}/analytics/${tenant.token}`;
    await waitFor('tenant known', async () => (await post(url, { externalId: 'warmup', action: 'x', insertId: 'warm' })).status === 202, 5000);
    // The queue is paused while the four workers start and the events arrive; resumed, it hands all four workers
    // neighbouring jobs at once. One job per transaction, so concurrent transactions name the same person in both forms.
    const redis = connectRedis(env.config.REDIS_URL, 'producer');
    const queue = openIngestQueue(env.config, redis);
    await queue.pause();
    const workerEnv = { ...env.env, LOG_LEVEL: 'debug', WORKER_CONCURRENCY: '2', BATCH_MAX_EVENTS: '8', DB_POOL_MAX: '3' };
    workers.push(...Array.from({ length: 4 }, () => spawnActivityd(['worker'], workerEnv)));
    await Promise.all(workers.map((worker) => worker.waitForOutput(CONSUMING)));
    const events = Array.from({ length: 1280 }, (_, i) => raceEvent(i));
    const replies = await Promise.all(Array.from({ length: 160 }, (_, r) => post(url, events.slice(r * 8, r * 8 + 8))));
    assert.deepEqual(new Set(replies.map((reply) => reply.status)), new Set([202]));
    await queue.resume();
    await queue.close();
    redis.disconnect();
    await waitFor('1281 activities', async () => (await countRows(db, 'activities', { tenant_id: tenant.id })) === 1281, 90000).catch((error: Error) => {
      throw new Error(`${error.message}\n${workers.map((worker) => worker.output().split('\n').filter((line) => !line.includes('job stored')).slice(-5).join('\n')).join('\n---\n')}`);
    });
    await waitForQueueDrained(env);

    const activities: Array<{ insert_id: string; email: string; external_id: string | null }> = await db('activities as a')
      .join('end_users as u', 'u.id', 'a.end_user_id')
      .where('a.tenant_id', tenant.id)
      .select('a.insert_id', 'u.email', 'u.external_id');
    assert.equal(activities.length, 1281, 'every activity exactly once');
    assert.deepEqual(new Set(activities.map((row) => row.insert_id)), new Set(['warm', ...events.map((event) => event.insertId)]));
    for (const [i, event] of events.entries()) {
      const row = activities.find((activity) => activity.insert_id === event.insertId);
      assert.equal(row?.email, event.email, `four-${i} belongs to its person`);
    }

    const users: Array<{ external_id: string | null; email: string | null }> = await db('end_users').where({ tenant_id: tenant.id }).whereNot({ external_id: 'warmup' }).orWhereNull('external_id').andWhere({ tenant_id: tenant.id });
    assert.equal(users.length, PEOPLE, 'one user per person');
    for (let person = 0; person < PEOPLE; person++) {
      const matches = users.filter((user) => user.email === emailOf(person));
      assert.equal(matches.length, 1, `${emailOf(person)}: ${JSON.stringify(matches)}`);
      assert.equal(matches[0].external_id, person < 30 ? `person-${person}` : null);
    }

    const externalIdsOf = async (table: string) => (await db(table).where({ tenant_id: tenant.id }).select('external_id')).map((row: { external_id: string }) => row.external_id).sort();
    const names = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`).sort();
    assert.deepEqual(await externalIdsOf('companies'), names('company', 8));
    assert.deepEqual(await externalIdsOf('assets'), names('asset', 6));
    assert.deepEqual(await externalIdsOf('projects'), names('project', 5));

    const jobsPerWorker = workers.map((worker) => (worker.output().match(/"msg":"job stored"/g) ?? []).length);
    assert.ok(jobsPerWorker.every((jobs) => jobs > 0), `all four workers stored jobs: ${jobsPerWorker}`);
  });
});

describe('processes: shutdown and failures', () => {
  let env: TestEnv;
  let db: Db;
  const children: ChildDaemon[] = [];

  beforeEach(async () => {
    env = createTestEnv();
    db = await openMigrated(env.config);
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map(ensureStopped));
    await db.destroy();
    await env.cleanup();
  });

  it('SIGINT while busy: exits 0, and every event answered 202 is stored exactly once', async () => {
    const tenant = await newTenant(db);
    const daemon = spawnActivityd(['start'], { ...env.env, LOG_LEVEL: 'info', WORKER_CONCURRENCY: '8', BATCH_MAX_EVENTS: '50' });
    children.push(daemon);
    const port = (await daemon.waitForOutput(LISTENING))[1];
    const url = `http://127.0.0.1:${port}/analytics/${tenant.token}`;
    const accepted: string[] = [];
    let refused = 0;
    let sent = 0;
    const sender = async (lane: number) => {
      for (let round = 0; round < 400; round++) {
        const events = Array.from({ length: 20 }, (_, i) => ({ externalId: `user-${(round * 7 + i) % 30}`, action: 'busy', insertId: `l${lane}-r${round}-e${i}` }));
        sent += events.length;
        try {
          const reply = await post(url, events);
          if (reply.status === 202) accepted.push(...events.map((event) => event.insertId));
          else refused += 1;
        } catch {
          return; // the receiver has closed; events not answered 202 were not promised
        }
      }
    };
    const lanes = Promise.all([0, 1, 2, 3].map(sender));
    await waitFor('some events accepted', async () => accepted.length >= 2000, 30000, 10);
    daemon.signal('SIGINT');
    const code = await daemon.exited;
    await lanes;
    assert.equal(code, 0, daemon.output().slice(-2000));
    assert.match(daemon.output(), /"msg":"stopped cleanly"/);
    assert.ok(accepted.length > 0 && refused === 0, `accepted ${accepted.length} of ${sent}, refused ${refused}`);

    const storedBeforeRestart = await countRows(db, 'activities', { tenant_id: tenant.id });
    assert.ok(storedBeforeRestart < accepted.length, `the worker was busy: ${storedBeforeRestart} of ${accepted.length} stored when it stopped`);
    // Whatever the stopped worker did not store is still queued: a new worker stores the rest.
    const drainer = spawnActivityd(['worker'], { ...env.env, LOG_LEVEL: 'info' });
    children.push(drainer);
    await waitFor('every accepted event stored', async () => (await countRows(db, 'activities', { tenant_id: tenant.id })) >= accepted.length, 60000, 100);
    await waitForQueueDrained(env);
    const stored: string[] = (await db('activities').where({ tenant_id: tenant.id }).select('insert_id')).map((row: { insert_id: string }) => row.insert_id);
    assert.equal(stored.length, accepted.length, 'no event stored twice, none extra');
    assert.deepEqual(new Set(stored), new Set(accepted));
  });

  it('a transient database failure (SQLite file locked by another process) is retried to exactly one activity', async function () {
    // PostgreSQL has no file lock to hold; its transient failure (the server unreachable) is a test of its own.
    onlyOn(this, 'sqlite', 'it holds the SQLite file lock');
    const tenant = await newTenant(db);
    const receiver = await startInProcess(env.config, db, { worker: false });
    const filename = (env.config.DATABASE_URL as { filename: string }).filename;
    const locker = new sqlite3.Database(filename);
    const run = (sql: string) => new Promise<void>((resolve, reject) => locker.run(sql, (error) => (error ? reject(error) : resolve())));
    try {
      await run('BEGIN EXCLUSIVE');
      await run('UPDATE write_lock SET generation = generation + 1');
      const worker = spawnActivityd(['worker'], { ...env.env, LOG_LEVEL: 'info', DB_BUSY_TIMEOUT_MS: '100', JOB_BACKOFF_MS: '100', JOB_ATTEMPTS: '30' });
      children.push(worker);
      await worker.waitForOutput(CONSUMING);
      await waitFor('tenant known', async () => (await post(`${receiver.baseUrl}/analytics/${tenant.token}`, [{ externalId: 'patient', action: 'wait', insertId: 'locked-1' }])).status === 202, 5000);
      await worker.waitForOutput(/SQLITE_BUSY[\s\S]*job will be retried/, 20000);
    } finally {
      await run('COMMIT');
      locker.close();
    }
    await waitFor('the activity', async () => (await countRows(db, 'activities', { insert_id: 'locked-1' })) === 1, 20000);
    await waitForQueueDrained(env);
    assert.equal(await countRows(db, 'activities', { tenant_id: tenant.id }), 1);
    await receiver.stop();
  });

  it('refuses an invalid setting at start-up, naming it, with a non-zero exit', async () => {
    const daemon = spawnActivityd(['start'], { ...env.env, PORT: 'eighty', WORKER_CONCURRENCY: '0' });
    const code = await daemon.exited;
    assert.equal(code, 2);
    assert.match(daemon.output(), /invalid setting: PORT must be a whole number, got "eighty"; WORKER_CONCURRENCY must be between 1 and 1000, got 0/);
  });

  it('a receiver or worker started alone refuses an unmigrated database', async () => {
    // A new SQLite file, or on PostgreSQL a new schema next to this run's.
    const fresh = TEST_DATABASE === 'postgres' ? env.env.DATABASE_URL.replace(/schema=(\w+)/, 'schema=$1_fresh') : path.join(env.dir, 'fresh', 'db.sqlite');
    try {
      const worker = spawnActivityd(['worker'], { ...env.env, DATABASE_URL: fresh });
      assert.equal(await worker.exited, 1);
      assert.match(worker.output(), /schema is behind .* run "activityd migrate" first/);
    } finally {
      const target = env.configWith({ DATABASE_URL: fresh }).DATABASE_URL;
      if (target.client === 'postgres') await db.raw(`DROP SCHEMA IF EXISTS "${target.schema}" CASCADE`);
    }
  });
});

describe('processes: first start with `npm start`', () => {
  let env: TestEnv;
  const children: ChildDaemon[] = [];

  before(() => {
    env = createTestEnv();
  });
  after(async () => {
    await Promise.all(children.map(ensureStopped));
    await env.cleanup();
  });

  it('on an empty data folder: migrates, creates tenant "default", prints its token and ingest URL; later starts print no secret', async () => {
    const dataDir = path.join(env.dir, 'data');
    assert.equal(fs.existsSync(dataDir), false);
    const runEnv = { ...env.env, DATABASE_URL: path.join(dataDir, 'activityd.sqlite'), LOG_LEVEL: 'info' };
    const first = spawnWatched('npm', ['start'], runEnv, { group: true });
    children.push(first);
    const [, token] = await first.waitForOutput(/token: +(\S+)/, 120000);
    const port = (await first.waitForOutput(LISTENING))[1];
    assert.match(first.output(), new RegExp(`ingest URL: http://127\\.0\\.0\\.1:${port}/analytics/${token}`), 'the URL names the port the receiver got (PORT=0)');
    const reply = await post(`http://127.0.0.1:${port}/analytics/${token}`, { externalId: 'first', action: 'hello' });
    assert.equal(reply.status, 202);
    await waitFor('the activity', async () => {
      const listed = await request(`http://127.0.0.1:${port}/api/v1/tenants/1/activities`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      return listed.body.data.length === 1;
    });
    first.signal('SIGINT');
    await first.exited;

    const second = spawnActivityd(['start'], runEnv);
    children.push(second);
    await second.waitForOutput(LISTENING);
    second.signal('SIGTERM');
    assert.equal(await second.exited, 0);
    assert.doesNotMatch(second.output(), /token/);
    assert.doesNotMatch(second.output(), new RegExp(token));
  });
});

describe('processes: the tenant CLI', () => {
  let env: TestEnv;

  before(() => {
    env = createTestEnv();
  });
  after(async () => {
    await env.cleanup();
  });

  const cli = (...args: string[]) => runActivityd(args, env.env);

  it('says to migrate first, then migrates', async () => {
    const early = await cli('tenant', 'list');
    assert.equal(early.code, 1);
    assert.match(early.out, /run "activityd migrate" first/);
    const migrated = await cli('migrate');
    assert.equal(migrated.code, 0);
    const shipped = fs.readdirSync(path.join(REPO_ROOT, 'dist/migrations')).filter((file) => file.endsWith('.js')).sort();
    assert.ok(shipped.length >= 3);
    assert.deepEqual(JSON.parse(migrated.out), { applied: shipped });
  });

  it('creates, lists, disables, enables and rotates tenants', async () => {
    const created = await cli('tenant', 'create', 'acme');
    assert.equal(created.code, 0);
    const tenant = JSON.parse(created.out);
    assert.deepEqual(Object.keys(tenant), ['id', 'name', 'token']);
    assert.equal(tenant.name, 'acme');
    assert.ok(tenant.token.length >= 43, 'at least 256 bits of token');

    const listed = JSON.parse((await cli('tenant', 'list')).out);
    assert.equal(listed.length, 1);
    assert.equal(listed[0].name, 'acme');
    assert.equal(listed[0].enabled, true);
    assert.equal(JSON.stringify(listed).includes(tenant.token), false, 'tokens are never listed');

    assert.equal(JSON.parse((await cli('tenant', 'disable', String(tenant.id))).out).enabled, false);
    assert.equal(JSON.parse((await cli('tenant', 'enable', String(tenant.id))).out).enabled, true);
    const rotated = JSON.parse((await cli('tenant', 'rotate-token', String(tenant.id))).out);
    assert.equal(rotated.id, tenant.id);
    assert.notEqual(rotated.token, tenant.token);
  });

  it('shows and sets tenant settings; refuses a bad key or path', async () => {
    const shown = JSON.parse((await cli('tenant', 'show', '1')).out);
    assert.equal(shown.name, 'acme');
    assert.deepEqual(shown.settings.mappings, { externalId: 'user_id', email: 'user_properties.email', name: 'user_properties.name' });
    assert.equal(shown.settings.companyGroupType, 'company');
    const set = await cli('tenant', 'set', '1', 'externalId=event_properties.account_id', 'companyGroupType=account', 'autoCreateCompanies=false', 'excludeActions=debug*, test');
    assert.equal(set.code, 0, set.out);
    const after = JSON.parse((await cli('tenant', 'show', '1')).out).settings;
    assert.equal(after.mappings.externalId, 'event_properties.account_id');
    assert.equal(after.companyGroupType, 'account');
    assert.equal(after.autoCreateCompanies, false);
    assert.deepEqual(after.excludeActions, ['debug*', 'test']);
    assert.equal((await cli('tenant', 'set', '1', 'externalId=')).code, 0);
    assert.equal(JSON.parse((await cli('tenant', 'show', '1')).out).settings.mappings.externalId, 'user_id', 'an empty value resets the default');
    const cases: Array<[string[], RegExp]> = [
      [['tenant', 'set', '1', 'colour=blue'], /unknown setting "colour"; known: externalId, email/],
      [['tenant', 'set', '1', 'email=user properties..email'], /email: "user properties..email" is not a property path/],
      [['tenant', 'set', '1', 'autoCreateCompanies=sometimes'], /autoCreateCompanies: must be true or false, got "sometimes"/],
      [['tenant', 'set', '1', 'externalId'], /"externalId" is not key=value/],
      [['tenant', 'set', '1'], /tenant set needs at least one key=value/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(...args);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.out, message, args.join(' '));
    }
  });

  it('refuses bad use with a clear message and a non-zero exit', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['tenant', 'create', 'acme'], 1, /a tenant named "acme" already exists/],
      [['tenant', 'enable', 'abc'], 2, /tenant ID must be a whole number, got "abc"/],
      [['tenant', 'disable', '999'], 1, /no tenant with id 999/],
      [['tenant', 'rotate-token'], 2, /tenant rotate-token needs an ID/],
      [['tenant', 'remove', '1'], 2, /unknown tenant command "remove"/],
      [['tenant', 'create'], 2, /tenant create needs a NAME/],
      [['launch'], 2, /unknown command "launch"/],
    ];
    for (const [args, code, message] of cases) {
      const result = await cli(...args);
      assert.equal(result.code, code, args.join(' '));
      assert.match(result.out, message, args.join(' '));
    }
  });
});
