/** Several PostgreSQL worker processes writing overlapping events at once end as some serial order of their jobs would, without deadlocks. */
import assert from 'node:assert/strict';
import { waitFor, countRows, onlyOn, TestEnv, ADMIN_TOKEN } from './support/testEnv';
import { newTenant, spawnActivityd, ensureStopped, ChildDaemon, InProcessDaemon } from './support/daemon';
import { post, request } from './support/http';
import { Db } from '../src/store/db';
import { openIngestQueue } from '../src/queue/ingestQueue';
import { connectRedis } from '../src/queue/redis';
import { changeTenantSettings } from '../src/tenants/tenantAccounts';
import { useDaemon } from './support/fixtures';

const CONSUMING = /worker consuming the ingest queue/;
const RETRIED = /"msg":"job will be retried"/g;
const ONLY_POSTGRES = 'several worker processes share one database only on PostgreSQL';

describe('worker races: three PostgreSQL worker processes on overlapping events', function () {
  // 200 instances over three worker processes take 10-35 s on a quiet machine; a loaded CI machine needs room.
  this.timeout(180000);
  let env: TestEnv;
  let db: Db;
  let receiver: InProcessDaemon;
  let workers: ChildDaemon[];
  useDaemon({ worker: false }, (parts) => ({ env, db, daemon: receiver, children: workers } = parts));

  /**
   * Queues the requests while the queue is paused, then lets three workers take them at once: one job per request
   * and one job per transaction, so neighbouring requests are written concurrently. Resolves once `done` holds,
   * and the queue is empty, with the number of job retries the workers logged.
   */
  async function race(tenant: { id: number; token: string }, requests: unknown[][], done: () => Promise<boolean>): Promise<number> {
    const url = `${receiver.baseUrl}/analytics/${tenant.token}`;
    await waitFor('tenant known', async () => (await post(url, { externalId: 'warmup', action: 'warmup', insertId: 'warm' })).status === 202, 5000);
    const redis = connectRedis(env.config.REDIS_URL, 'producer');
    const queue = openIngestQueue(env.config, redis);
    await queue.pause();
    const maxEvents = String(Math.max(...requests.map((events) => events.length)));
    const workerEnv = { ...env.env, LOG_LEVEL: 'info', WORKER_CONCURRENCY: '2', BATCH_MAX_EVENTS: maxEvents, DB_POOL_MAX: '3' };
    workers.push(...Array.from({ length: 3 }, () => spawnActivityd(['worker'], workerEnv)));
    await Promise.all(workers.map((worker) => worker.waitForOutput(CONSUMING)));
    for (let start = 0; start < requests.length; start += 50) {
      const replies = await Promise.all(requests.slice(start, start + 50).map((events) => post(url, events)));
      assert.deepEqual(new Set(replies.map((reply) => reply.status)), new Set([202]));
    }
    await queue.resume();
    const retried = () => workers.reduce((sum, worker) => sum + (worker.output().match(RETRIED) ?? []).length, 0);
    try {
      await waitFor('every job written', done, 150000);
      // A job that changed nothing (a repeat) leaves no trace to wait for: the queue must be empty too.
      await waitFor('the queue drained', async () => Object.values(await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).every((count) => count === 0));
    } catch (error) {
      throw new Error(`${(error as Error).message} (${retried()} job retries so far)`);
    } finally {
      await queue.close();
      redis.disconnect();
    }
    const retries = retried();
    await Promise.all(workers.splice(0).map(ensureStopped));
    return retries;
  }
  const activitiesStored = (tenantId: number, count: number) => async () => (await countRows(db, 'activities', { tenant_id: tenantId })) === count + 1;

  it('a domain two companies learn at once matches neither: never one user on each company by that domain (100 instances)', async function () {
    onlyOn(this, 'postgres', ONLY_POSTGRES);
    const tenant = await newTenant(db);
    const instances = Array.from({ length: 100 }, (_, n) => n);
    const requests = instances.flatMap((n) => [
      [{ externalId: `x1-${n}`, email: `a@d${n}.example`, companyExternalId: `c1-${n}`, action: 'join', insertId: `a-${n}` }, { externalId: `x3-${n}`, email: `c@d${n}.example`, action: 'join', insertId: `c-${n}` }],
      [{ externalId: `x2-${n}`, email: `b@d${n}.example`, companyExternalId: `c2-${n}`, action: 'join', insertId: `b-${n}` }, { externalId: `x4-${n}`, email: `d@d${n}.example`, action: 'join', insertId: `d-${n}` }],
    ]);
    const retries = await race(tenant, requests, activitiesStored(tenant.id, 400));

    const primaries = new Map<string, string | null>(
      (await db('end_users as u').leftJoin('companies as c', 'c.id', 'u.company_id').where('u.tenant_id', tenant.id).select('u.external_id', 'c.external_id as company'))
        .map((row: { external_id: string; company: string | null }) => [row.external_id, row.company]),
    );
    const claims = await db('company_domains').where({ tenant_id: tenant.id }).select('domain');
    const impossible = instances.filter((n) => primaries.get(`x3-${n}`) && primaries.get(`x4-${n}`));
    assert.deepEqual(impossible, [], 'instances where x3 and x4 both got a company by a domain both companies claim');
    for (const n of instances) {
      assert.equal(claims.filter((row: { domain: string }) => row.domain === `d${n}.example`).length, 2, `d${n}.example is claimed by both companies`);
      assert.equal([primaries.get(`x3-${n}`), primaries.get(`x4-${n}`)].filter(Boolean).length, 1, `the instance written first gives its company to its second user (${n})`);
    }
    assert.equal(retries, 0, 'no job was retried');
  });

  it('an insert id two events take at once changes nothing for the one that comes second: one person, company and asset per instance (200 instances)', async function () {
    onlyOn(this, 'postgres', ONLY_POSTGRES);
    const tenant = await newTenant(db);
    const instances = Array.from({ length: 200 }, (_, n) => n);
    const one = (n: number, side: string) => [{ externalId: `p${side}-${n}`, companyExternalId: `co${side}-${n}`, assetExternalId: `as${side}-${n}`, action: 'dup', insertId: `dup-${n}` }];
    const retries = await race(tenant, instances.flatMap((n) => [one(n, 'a'), one(n, 'b')]), activitiesStored(tenant.id, 200));
    const idsIn = async (table: string) => new Set((await db(table).where({ tenant_id: tenant.id }).select('external_id')).map((row: { external_id: string }) => row.external_id));
    const [people, companies, assets] = [await idsIn('end_users'), await idsIn('companies'), await idsIn('assets')];
    const owners = new Map((await db('activities as a').join('end_users as u', 'u.id', 'a.end_user_id').where('a.tenant_id', tenant.id).select('a.insert_id', 'u.external_id')).map((row: { insert_id: string; external_id: string }) => [row.insert_id, row.external_id]));
    const both = instances.filter((n) => people.has(`pa-${n}`) && people.has(`pb-${n}`));
    assert.deepEqual(both, [], 'instances where both people were made');
    for (const n of instances) {
      const side = owners.get(`dup-${n}`) === `pa-${n}` ? 'a' : 'b';
      const other = side === 'a' ? 'b' : 'a';
      assert.ok(people.has(`p${side}-${n}`) && companies.has(`co${side}-${n}`) && assets.has(`as${side}-${n}`), `the stored event made its person, company and asset (${n})`);
      assert.ok(!people.has(`p${other}-${n}`) && !companies.has(`co${other}-${n}`) && !assets.has(`as${other}-${n}`), `the repeat made nothing (${n})`);
    }
    assert.equal(retries, 0, 'no job was retried');
  });

  it('a person an identify moves to a new email while another worker reaches them by the old one: the outcome of one order or the other (200 instances)', async function () {
    onlyOn(this, 'postgres', ONLY_POSTGRES);
    const tenant = await newTenant(db);
    const instances = Array.from({ length: 200 }, (_, n) => n);
    // Each person is stored first, with an email and no company.
    const setUp = instances.map((n) => [{ externalId: `x-${n}`, email: `u${n}@gmail.com`, action: 'signup', insertId: `s-${n}` }]);
    assert.equal(await race(tenant, setUp, activitiesStored(tenant.id, 200)), 0);
    const requests = instances.flatMap((n) => [
      [{ event_type: '$identify', user_id: `x-${n}`, insert_id: `move-${n}`, user_properties: { $set: { email: `u${n}.new@gmail.com` } }, groups: { company: `ca-${n}` } }],
      [{ email: `u${n}@gmail.com`, companyExternalId: `cb-${n}`, action: 'old mailbox', insertId: `old-${n}` }],
    ]);
    const retries = await race(tenant, requests, activitiesStored(tenant.id, 400));

    const people = new Map((await db('end_users as u').leftJoin('companies as c', 'c.id', 'u.company_id').where('u.tenant_id', tenant.id).select('u.id', 'u.external_id', 'u.email', 'c.external_id as company'))
      .map((row: { id: number; external_id: string | null; email: string; company: string | null }) => [row.id, row]));
    const owners = new Map((await db('activities').where({ tenant_id: tenant.id }).select('insert_id', 'end_user_id')).map((row: { insert_id: string; end_user_id: number }) => [row.insert_id, row.end_user_id]));
    const mixed = instances.filter((n) => {
      const moved = [...people.values()].find((row) => row.external_id === `x-${n}`);
      const tookOldMailbox = owners.get(`old-${n}`) === moved?.id;
      // Old mailbox first: it is x's, and x's first company is cb. Identify first: a new person has it, and x has ca.
      return moved?.email !== `u${n}.new@gmail.com` || moved.company !== (tookOldMailbox ? `cb-${n}` : `ca-${n}`);
    });
    assert.deepEqual(mixed, [], 'instances whose outcome no order of the two events explains');
    assert.equal(retries, 0, 'no job was retried');
  });

  it('workers updating one person\'s and one company\'s properties at once lose no update: every $add counted, every $append kept (200 requests)', async function () {
    onlyOn(this, 'postgres', ONLY_POSTGRES);
    const tenant = await newTenant(db);
    // The person is known by externalId and by email: the requests reach them by one key or the other.
    assert.equal(await race(tenant, [[{ externalId: 'p', email: 'p@props.example', action: 'signup', insertId: 'signup' }]], activitiesStored(tenant.id, 1)), 0);
    const requests = Array.from({ length: 200 }, (_, r) => [
      r % 2 === 0
        ? { event_type: 'Used', user_id: 'p', insert_id: `u-${r}`, user_properties: { $add: { n: 1 }, $append: { seen: `r${r}` } } }
        : { event_type: '$identify', insert_id: `i-${r}`, user_properties: { $set: { email: 'p@props.example' }, $add: { n: 1 }, $append: { seen: `r${r}` } } },
      { event_type: '$groupidentify', insert_id: `g-${r}`, groups: { company: 'acme' }, group_properties: { $add: { seats: 1 }, $postInsert: { requests: r } } },
    ]);
    const retries = await race(tenant, requests, activitiesStored(tenant.id, 101));
    const person = await db('end_users').where({ tenant_id: tenant.id, external_id: 'p' }).first('properties');
    assert.equal(await countRows(db, 'end_users', { tenant_id: tenant.id, email: 'p@props.example' }), 1, 'one person, by either key');
    assert.equal(person.properties.n, 200);
    assert.deepEqual([...person.properties.seen].sort(), requests.map((_, r) => `r${r}`).sort());
    const company = await db('companies').where({ tenant_id: tenant.id, external_id: 'acme' }).first('properties');
    assert.equal(company.properties.seats, 200);
    assert.equal(company.properties.requests.length, 200);
    assert.equal(retries, 0, 'no job was retried');
  });

  it('jobs counting the same filtered actions in different orders, for the same people, never deadlock: no job retried', async function () {
    onlyOn(this, 'postgres', ONLY_POSTGRES);
    const tenant = await newTenant(db);
    await changeTenantSettings(db, tenant.id, { excludeActions: 'noise *' });
    const noise = ['noise a', 'noise b', 'noise c', 'noise d'];
    // Each request counts the four actions in its own rotation, and stores one activity for one of three people.
    const requests = Array.from({ length: 300 }, (_, r) => [
      ...noise.map((_, i) => ({ externalId: `f${r % 3}`, action: noise[(i + r) % noise.length], insertId: `n-${r}-${i}` })),
      ...[...noise].reverse().map((action, i) => ({ externalId: `f${(r + 1) % 3}`, action, insertId: `m-${r}-${i}` })),
      { externalId: `f${r % 3}`, action: 'kept', insertId: `k-${r}` },
    ]);
    const counted = async () => Number((await db('filtered_actions').where({ tenant_id: tenant.id }).sum({ total: 'count' }))[0].total ?? 0);
    const retries = await race(tenant, requests, async () => (await activitiesStored(tenant.id, 300)()) && (await counted()) === 300 * 8);
    const counts = await db('filtered_actions').where({ tenant_id: tenant.id }).orderBy('action').select('action', 'count');
    assert.deepEqual(counts.map((row: { action: string; count: string | number }) => [row.action, Number(row.count)]), noise.map((action) => [action, 600]));
    assert.equal(retries, 0, 'no job was retried (a deadlock spends one of its attempts)');
  });
});

describe('property assignments with two PostgreSQL worker processes: the last received wins', function () {
  this.timeout(180000);
  let env: TestEnv;
  let db: Db;
  let receiver: InProcessDaemon;
  let workers: ChildDaemon[];
  useDaemon({ worker: false }, (parts) => ({ env, db, daemon: receiver, children: workers } = parts));

  it('300 identify requests answered one by one: the last $set wins, and every $append is kept once', async function () {
    onlyOn(this, 'postgres', ONLY_POSTGRES);
    workers.push(...[0, 1].map(() => spawnActivityd(['worker'], { ...env.env, LOG_LEVEL: 'info' })));
    await Promise.all(workers.map((worker) => worker.waitForOutput(CONSUMING)));
    const tenant = await newTenant(db);
    await waitFor('the tenant known', async () => ((await post(`${receiver.baseUrl}/2/httpapi`, { api_key: tenant.token, events: [{ user_id: 'warm', event_type: '$identify' }] })).status === 200 ? true : undefined), 10000);
    const sends = 300;
    for (let i = 0; i < sends; i++) {
      const body = new URLSearchParams({ api_key: tenant.token, identification: JSON.stringify({ user_id: 'ordered', user_properties: { $set: { last: i }, $append: { trail: i } } }) }).toString();
      const answer = await request(`${receiver.baseUrl}/identify`, { method: 'POST', raw: body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(answer.status, 200, answer.text);
    }
    const properties = await waitFor('every update applied', async () => {
      const page = await request(`${receiver.baseUrl}/api/v1/tenants/${tenant.id}/endusers?externalId=ordered`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const now = (page.body.data as Array<Record<string, any>>)[0]?.properties;
      return now?.trail?.length === sends ? now : undefined;
    }, 60000, 200);
    assert.equal(properties.last, sends - 1, 'the last $set received is the value kept, whichever worker committed last (docs/events.md, Arrival order)');
    // Accumulating operations apply once each in the order they are committed: jobs of two workers may interleave.
    assert.deepEqual([...(properties.trail as number[])].sort((a, b) => a - b), Array.from({ length: sends }, (_, i) => i));
  });
});
