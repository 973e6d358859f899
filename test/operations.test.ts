import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor, countRows, onlyOn, TestEnv, ADMIN_TOKEN } from './support/testEnv';
import { newTenant, spawnActivityd, runActivityd, ensureStopped, InProcessDaemon, ChildDaemon } from './support/daemon';
import { post, request } from './support/http';
import { Db } from '../src/store/db';
import { ADMIN_ROUTES } from '../src/admin/routeTable';
import { pruneDeliveries } from '../src/store/deliveryPruning';
import { useDaemon } from './support/fixtures';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe('operations: admin API, delivery log, metrics and health (over HTTP)', () => {
  let db: Db;
  let daemon: InProcessDaemon;
  const api = (path: string, init: { method?: string; body?: unknown } = {}) => request(`${daemon.baseUrl}/api/v1${path}`, { ...init, headers: admin });

  useDaemon({}, (parts) => ({ db, daemon } = parts));

  it('creates a tenant (201, token shown once), lists tenants without tokens, and the token ingests', async () => {
    const created = await api('/tenants', { body: { name: 'ops-acme' } });
    assert.equal(created.status, 201);
    assert.deepEqual(Object.keys(created.body).sort(), ['enabled', 'id', 'name', 'token']);
    assert.equal(created.body.enabled, true);
    const listed = await api('/tenants');
    assert.equal(listed.status, 200);
    assert.ok(listed.body.data.some((tenant: { name: string }) => tenant.name === 'ops-acme'));
    assert.equal(listed.text.includes(created.body.token), false);
    assert.equal(JSON.stringify(await db('tenants').select('*')).includes(created.body.token), false, 'only a hash is stored');
    await waitFor('the token ingests', async () => (await post(`${daemon.baseUrl}/analytics/${created.body.token}`, { externalId: 'u', action: 'x' })).status === 202, 5000);
    const duplicate = await api('/tenants', { body: { name: 'ops-acme' } });
    assert.equal(duplicate.status, 409);
    assert.equal((await api('/tenants', { body: { name: '' } })).status, 400);
    assert.equal((await api('/tenants', { body: [1] })).status, 400);
    const extra = await api('/tenants', { body: { name: 'ops-extra', enabled: false } });
    assert.deepEqual([extra.status, extra.body.error], [400, 'enabled: not a field of a new tenant (it takes name)']);
    assert.equal((await api('/tenants')).body.data.some((tenant: { name: string }) => tenant.name === 'ops-extra'), false, 'no tenant made');
  });

  it('PATCH disables, enables and changes settings; POST /token?keepOld=0 rotates with no grace', async () => {
    const { body: tenant } = await api('/tenants', { body: { name: 'ops-patch' } });
    const ingest = (token: string) => post(`${daemon.baseUrl}/analytics/${token}`, { externalId: 'u', action: 'x' });
    await waitFor('known', async () => (await ingest(tenant.token)).status === 202, 5000);
    const disabled = await api(`/tenants/${tenant.id}`, { method: 'PATCH', body: { enabled: false } });
    assert.equal(disabled.status, 200);
    assert.equal(disabled.body.enabled, false);
    await waitFor('403', async () => (await ingest(tenant.token)).status === 403, 5000);
    await api(`/tenants/${tenant.id}`, { method: 'PATCH', body: { enabled: true } });
    await waitFor('202 again', async () => (await ingest(tenant.token)).status === 202, 5000);

    const changed = await api(`/tenants/${tenant.id}`, { method: 'PATCH', body: { settings: { companyGroupType: 'account', autoCreateCompanies: false, includeActions: ['a*', 'b'] } } });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.settings.companyGroupType, 'account');
    assert.equal(changed.body.settings.autoCreateCompanies, false);
    assert.deepEqual(changed.body.settings.includeActions, ['a*', 'b']);
    const bad = await api(`/tenants/${tenant.id}`, { method: 'PATCH', body: { settings: { colour: 'blue' } } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /^settings\.unknown setting "colour"/);
    assert.equal((await api(`/tenants/${tenant.id}`, { method: 'PATCH', body: { enabled: 'yes' } })).body.error, 'enabled: must be true or false, got a string');
    assert.equal((await api(`/tenants/${tenant.id}`, { method: 'PATCH', body: { name: 'x' } })).status, 400);
    assert.equal((await api('/tenants/99999', { method: 'PATCH', body: { enabled: true } })).status, 404);

    const rotated = await api(`/tenants/${tenant.id}/token?keepOld=0`, { method: 'POST' });
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.token, tenant.token);
    await waitFor('old token refused', async () => (await ingest(tenant.token)).status === 401, 5000);
    await waitFor('new token works', async () => (await ingest(rotated.body.token)).status === 202, 5000);
  });

  it('upserts companies, assets and projects, and pages through them', async () => {
    const tenant = await newTenant(db);
    const companies = await api(`/tenants/${tenant.id}/companies`, { body: [{ externalId: 'c1', name: 'One', domains: ['one.io'] }, { externalId: 'c2' }] });
    assert.deepEqual(companies.body, { created: 2, updated: 0, rejected: [] });
    const again = await api(`/tenants/${tenant.id}/companies`, { body: [{ externalId: 'c1', name: 'One Inc', domains: ['one.com'] }] });
    assert.deepEqual(again.body, { created: 0, updated: 1, rejected: [] });
    const page1 = await api(`/tenants/${tenant.id}/companies?limit=1`);
    assert.deepEqual(page1.body.data[0], { id: page1.body.data[0].id, externalId: 'c1', name: 'One Inc', domains: ['one.com', 'one.io'], properties: {} });
    const page2 = await api(`/tenants/${tenant.id}/companies?limit=1&cursor=${page1.body.nextCursor}`);
    assert.equal(page2.body.data[0].externalId, 'c2');
    assert.equal(page2.body.nextCursor, null);
    const assets = await api(`/tenants/${tenant.id}/assets`, { body: [{ externalId: 'a1', name: 'Server', companyExternalId: 'c1' }, { externalId: 'a2', companyExternalId: 'nope' }, { name: 'no id' }] });
    assert.equal(assets.status, 200);
    assert.deepEqual(assets.body, { created: 1, updated: 0, rejected: [{ index: 1, error: 'companyExternalId: no company "nope"' }, { index: 2, error: 'externalId: missing' }] });
    assert.deepEqual((await api(`/tenants/${tenant.id}/assets`)).body.data.map((row: { externalId: string; name: string; companyExternalId: string }) => [row.externalId, row.name, row.companyExternalId]), [['a1', 'Server', 'c1']]);
    const projects = await api(`/tenants/${tenant.id}/projects`, { body: [{ externalId: 'p1', companyExternalId: 'c2' }] });
    assert.deepEqual(projects.body, { created: 1, updated: 0, rejected: [] });
    assert.equal((await api(`/tenants/${tenant.id}/projects`, { body: { not: 'an array' } })).status, 400);
  });

  it('serves an OpenAPI document that names every admin route and the ingest routes, without credentials', async () => {
    const { status, body: doc } = await request(`${daemon.baseUrl}/api/v1/openapi.json`);
    assert.equal(status, 200);
    assert.equal(doc.openapi, '3.1.0');
    for (const route of ADMIN_ROUTES) {
      const documented = doc.paths[`/api/v1${route.path.replace(/:([A-Za-z]+)/g, '{$1}')}`];
      assert.ok(documented?.[route.method], `${route.method} ${route.path} is documented`);
    }
    for (const path of ['/analytics/{token}', '/analytics', '/analytics/bulk/{token}', '/analytics/bulk', '/2/httpapi', '/batch', '/healthz', '/readyz', '/metrics', '/admin/queues']) {
      assert.ok(doc.paths[path], `${path} is documented`);
    }
  });

  it('every admin route refuses without credentials', async () => {
    for (const route of ADMIN_ROUTES) {
      const url = `${daemon.baseUrl}/api/v1${route.path.replace(':tenantId', '1').replace(':deliveryId', 'x')}`;
      const reply = await request(url, { method: route.method.toUpperCase(), ...(route.method !== 'get' && { raw: '{}' }) });
      assert.equal(reply.status, 401, `${route.method} ${route.path}`);
    }
  });

  it('records every delivery: accepted with outcomes (stored, duplicate), refused with reasons; newest first, filtered by status', async () => {
    const tenant = await newTenant(db);
    const url = `${daemon.baseUrl}/analytics/${tenant.token}`;
    await waitFor('known', async () => (await post(url, [{ externalId: 'd', action: 'first', insertId: 'dup-1' }], { 'user-agent': 'first-agent' })).status === 202, 5000);
    const mixed = await post(url, [{ externalId: 'd', action: 'again', insertId: 'dup-1' }, { action: 'who' }, { externalId: 'd', action: 'new', insertId: 'new-1' }], { 'user-agent': 'Amplitude/Webhook/1.0' });
    assert.equal(mixed.status, 202);
    const refused = await post(url, [{ action: 'nobody' }]);
    assert.equal(refused.status, 400);
    const deliveries = await waitFor('three deliveries', async () => {
      const listed = (await api(`/tenants/${tenant.id}/deliveries`)).body.data;
      return listed.length === 3 && listed[1].outcomes.pending === 0 && listed;
    });
    assert.deepEqual(deliveries.map((delivery: { status: number }) => delivery.status), [400, 202, 202], 'newest first');
    const [refusal, accepted] = deliveries;
    assert.deepEqual(refusal.rejected, [{ index: 0, error: 'externalId: missing: an event needs externalId or email' }]);
    assert.equal(accepted.userAgent, 'Amplitude/Webhook/1.0');
    assert.equal(accepted.endpoint, 'analytics');
    assert.equal(accepted.accepted, 2);
    assert.equal(accepted.rejectedCount, 1);
    assert.deepEqual(accepted.outcomes, { stored: 1, duplicate: 1, filtered: 0, identified: 0, failed: 0, pruned: 0, pending: 0 });
    const detail = await api(`/tenants/${tenant.id}/deliveries/${accepted.id}`);
    assert.deepEqual(detail.body.events.map((event: { index: number; insertId: string; outcome: string }) => [event.index, event.insertId, event.outcome]), [[0, 'dup-1', 'duplicate'], [2, 'new-1', 'stored']]);
    assert.deepEqual((await api(`/tenants/${tenant.id}/deliveries?status=400`)).body.data.map((delivery: { id: string }) => delivery.id), [refusal.id]);
    assert.equal((await api(`/tenants/${tenant.id}/deliveries?status=abc`)).status, 400);
    assert.equal((await api(`/tenants/${tenant.id}/deliveries/not-there`)).status, 404);
    const other = await newTenant(db);
    assert.equal((await api(`/tenants/${other.id}/deliveries/${accepted.id}`)).status, 404, 'another tenant cannot see it');
  });

  it('prunes deliveries older than the retention', async () => {
    const tenant = await newTenant(db);
    const old = Date.now() - 20 * 24 * 3600 * 1000;
    await db('deliveries').insert({ id: 'old-delivery', tenant_id: tenant.id, received_at: old, endpoint: 'analytics', user_agent: null, status: 400, accepted: 0, rejected: '[]' });
    await db('delivery_events').insert({ delivery_id: 'old-delivery', event_index: 0, insert_id: 'x', outcome: 'duplicate', error: null, at: old });
    const removed = await pruneDeliveries(db, Date.now() - 14 * 24 * 3600 * 1000);
    assert.ok(removed >= 1);
    assert.equal(await countRows(db, 'deliveries', { id: 'old-delivery' }), 0);
    assert.equal(await countRows(db, 'delivery_events', { delivery_id: 'old-delivery' }), 0);
  });

  it('GET /metrics: requests, events, enqueue latency, outcomes, processing latency, queue counts and process metrics', async () => {
    const tenant = await newTenant(db);
    await waitFor('known', async () => (await post(`${daemon.baseUrl}/analytics/${tenant.token}`, [{ externalId: 'm', action: 'x' }, { externalId: 'm' }])).status === 202, 5000);
    await waitFor('stored', async () => (await countRows(db, 'activities', { tenant_id: tenant.id })) >= 1);
    const metrics = await request(`${daemon.baseUrl}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
    for (const pattern of [
      /activityd_http_requests_total\{route="analytics",status="202"\} \d+/,
      /activityd_events_accepted_total \d+/,
      /activityd_events_rejected_total\{reason="action"\} \d+/,
      /activityd_enqueue_duration_seconds_bucket\{le="0.005"\} \d+/,
      /activityd_events_processed_total\{outcome="stored"\} \d+/,
      /activityd_processing_latency_seconds_count \d+/,
      /activityd_queue_jobs\{state="waiting"\} \d+/,
      /activityd_queue_jobs\{state="failed"\} \d+/,
      /process_resident_memory_bytes \d+/,
    ]) {
      assert.match(metrics.text, pattern);
    }
  });

  it('GET /healthz and /readyz', async () => {
    assert.deepEqual((await request(`${daemon.baseUrl}/healthz`)).body, { status: 'ok' });
    assert.deepEqual((await request(`${daemon.baseUrl}/readyz`)).body, { status: 'ready', redis: 'ok', database: 'ok' });
  });
});

describe('operations: readiness when a dependency is down', () => {
  let daemon: InProcessDaemon;

  useDaemon({ settings: { REDIS_URL: 'redis://127.0.0.1:1', ENQUEUE_TIMEOUT_MS: '200' }, worker: false }, (parts) => ({ daemon } = parts));

  it('/readyz answers 503 and says Redis is down; /healthz still 200', async () => {
    const ready = await request(`${daemon.baseUrl}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(ready.body.database, 'ok');
    assert.match(ready.body.redis, /^down: /);
    assert.equal((await request(`${daemon.baseUrl}/healthz`)).status, 200);
  });
});

describe('operations: the worker process\'s metrics, status and failed jobs (real processes)', () => {
  let env: TestEnv;
  let db: Db;
  let receiver: InProcessDaemon;
  let tenant: { id: number; token: string };
  let children: ChildDaemon[];

  useDaemon(
    {
      settings: { JOB_ATTEMPTS: '1', DB_BUSY_TIMEOUT_MS: '50' },
      worker: false,
      seed: async (db) => {
        // Made before the receiver starts, so it knows the token from its first load.
        tenant = await newTenant(db);
      },
    },
    (parts) => ({ env, db, daemon: receiver, children: children } = parts),
  );

  const cli = (...args: string[]) => runActivityd(args, env.env);

  it('a job that runs out of tries is kept, listed, shown as failed in the delivery log, replayed once by `failed retry`, or discarded', async function () {
    onlyOn(this, 'sqlite', 'it holds the SQLite file lock to make jobs fail');
    const url = `${receiver.baseUrl}/analytics/${tenant.token}`;
    const sqlite3 = await import('sqlite3');
    const locker = new sqlite3.default.Database((env.config.DATABASE_URL as { filename: string }).filename);
    const run = (sql: string) => new Promise<void>((resolve, reject) => locker.run(sql, (error) => (error ? reject(error) : resolve())));
    await run('BEGIN EXCLUSIVE');
    try {
      await run('UPDATE write_lock SET generation = generation + 1');
      const worker = spawnActivityd(['worker'], { ...env.env, LOG_LEVEL: 'info', WORKER_METRICS_PORT: '0' });
      children.push(worker);
      await worker.waitForOutput(/worker consuming the ingest queue/);
      assert.equal((await post(url, [{ externalId: 'f', action: 'x', insertId: 'fail-1' }, { externalId: 'f', action: 'y', insertId: 'fail-2' }])).status, 202);
      assert.equal((await post(url, [{ externalId: 'f', action: 'z', insertId: 'fail-3' }])).status, 202);
      await worker.waitForOutput(/job failed; kept for inspection[\s\S]*job failed; kept for inspection/, 20000);
    } finally {
      await run('COMMIT');
      locker.close();
    }

    const failed = JSON.parse((await cli('failed', 'list')).out);
    type FailedJob = { id: string; tenantId: number; events: number; reason: string; deliveryId: string; deliveries: Array<{ id: string; events: number }> };
    const mine = (failed as FailedJob[]).filter((job) => job.tenantId === tenant.id && job.reason.includes('SQLITE_BUSY'));
    assert.equal(mine.length, 2, JSON.stringify(failed));
    const twoEventJob = mine.find((job) => job.events === 2) as FailedJob;
    const oneEventJob = mine.find((job) => job.events === 1) as FailedJob;
    assert.deepEqual(twoEventJob.deliveries, [{ id: twoEventJob.deliveryId, events: 2 }]);
    await waitFor('the failure in the delivery log', async () => {
      const detail = await request(`${receiver.baseUrl}/api/v1/tenants/${tenant.id}/deliveries/${twoEventJob.deliveryId}`, { headers: admin });
      return detail.status === 200 && detail.body.outcomes.failed === 2 && detail.body;
    });

    const retried = await cli('failed', 'retry', twoEventJob.id);
    assert.equal(retried.code, 0, retried.out);
    assert.match(retried.out, /"retried":1/);
    await waitFor('replayed events stored', async () => (await countRows(db, 'activities', { tenant_id: tenant.id })) === 2);
    const detail = await request(`${receiver.baseUrl}/api/v1/tenants/${tenant.id}/deliveries/${twoEventJob.deliveryId}`, { headers: admin });
    assert.deepEqual(detail.body.outcomes, { stored: 2, duplicate: 0, filtered: 0, identified: 0, failed: 0, pruned: 0, pending: 0 });
    const again = await cli('failed', 'retry', twoEventJob.id);
    assert.equal(again.code, 1, 'a job that is no longer failed is reported, not retried');
    assert.match(again.out, new RegExp(`"notFailed":\\["${twoEventJob.id}"\\]`));

    const discarded = await cli('failed', 'discard', oneEventJob.id);
    assert.match(discarded.out, /"discarded":1/);
    assert.equal(await countRows(db, 'activities', { insert_id: 'fail-3' }), 0);
    assert.equal((await cli('failed', 'retry')).code, 2, 'needs --all or ids');
    assert.equal(await countRows(db, 'activities', { tenant_id: tenant.id }), 2, 'no event stored twice');
  });

  it('`activityd status` shows queue counts, the oldest waiting job and the stored rate', async () => {
    if (children.every((child) => child.child.exitCode !== null)) {
      const worker = spawnActivityd(['worker'], { ...env.env, LOG_LEVEL: 'info' });
      children.push(worker);
      await worker.waitForOutput(/worker consuming the ingest queue/);
    }
    assert.equal((await post(`${receiver.baseUrl}/analytics/${tenant.token}`, [{ externalId: 's', action: 'x', insertId: 'status-1' }, { externalId: 's', action: 'y', insertId: 'status-2' }])).status, 202);
    await waitFor('stored', async () => (await countRows(db, 'activities', { insert_id: 'status-2' })) === 1);
    const status = await cli('status');
    assert.equal(status.code, 0);
    assert.match(status.out, /queue +waiting \d+ +active \d+ +delayed \d+ +failed \d+/);
    assert.match(status.out, /stored +\d+ in the last minute/);
    const json = JSON.parse((await cli('status', '--json')).out);
    assert.deepEqual(Object.keys(json).sort(), ['oldestWaitingAgeSeconds', 'queue', 'storedLastMinute', 'storedPerSecondLastMinute']);
    assert.ok(json.storedLastMinute >= 2);
  });

  it('a worker on its own serves /metrics, /healthz and /readyz on WORKER_METRICS_PORT', async () => {
    await Promise.all(children.splice(0).map(ensureStopped));
    const worker = spawnActivityd(['worker'], { ...env.env, LOG_LEVEL: 'info', WORKER_METRICS_PORT: String(20000 + (process.pid % 20000)) });
    children.push(worker);
    const port = (await worker.waitForOutput(/"port":(\d+),"msg":"worker metrics listening"/))[1];
    assert.equal((await post(`${receiver.baseUrl}/analytics/${tenant.token}`, { externalId: 'wm', action: 'x', insertId: 'wm-1' })).status, 202);
    await waitFor('stored', async () => (await countRows(db, 'activities', { insert_id: 'wm-1' })) === 1);
    const metrics = await waitFor('worker metrics', async () => {
      const reply = await request(`http://127.0.0.1:${port}/metrics`);
      return /activityd_events_processed_total\{outcome="stored"\} [1-9]/.test(reply.text) && reply.text;
    });
    assert.match(metrics, /activityd_processing_latency_seconds_bucket/);
    assert.match(metrics, /activityd_queue_jobs\{state="active"\}/);
    assert.equal((await request(`http://127.0.0.1:${port}/readyz`)).status, 200);
    assert.equal((await request(`http://127.0.0.1:${port}/healthz`)).status, 200);
  });

  it('imports companies from a CSV with a summary of created, updated and refused rows (with line numbers)', async () => {
    const tenant = await newTenant(db, 'csv-import');
    await db('companies').insert({ tenant_id: tenant.id, external_id: 'existing', name: 'Old', created_at: 1 });
    const file = path.join(env.dir, 'companies.csv');
    fs.writeFileSync(file, ['externalId,name,domains', 'acme,Acme Inc,acme.com;acme.io', 'existing,"Existing, Renamed",', ',No Id,', 'globex,Globex,gmail.com', 'initech,"Initech, Inc",initech.com'].join('\n'));
    const result = await cli('import', 'companies', file, '--tenant', String(tenant.id));
    const summary = JSON.parse(result.out.split('\n').find((line) => line.startsWith('{')) as string);
    assert.deepEqual(summary, {
      rows: 5,
      created: 2,
      updated: 1,
      refused: [
        { line: 4, error: 'externalId: missing' },
        { line: 5, error: 'domains[0]: gmail.com is a free-mail domain and cannot identify a company' },
      ],
    });
    assert.equal(result.code, 1, 'refused rows make the exit code 1');
    assert.match(result.out, /importing companies \[#+\] 5\/5/);
    const rows = await db('companies').where({ tenant_id: tenant.id }).orderBy('external_id');
    assert.deepEqual(rows.map((row) => [row.external_id, row.name]), [['acme', 'Acme Inc'], ['existing', 'Existing, Renamed'], ['initech', 'Initech, Inc']]);
    assert.equal((await cli('import', 'companies', path.join(env.dir, 'missing.csv'), '--tenant', String(tenant.id))).code, 1);
    assert.equal((await cli('import', 'companies', file)).code, 2);
  });
});
