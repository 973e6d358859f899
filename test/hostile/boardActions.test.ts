/** The board inspects and replays; it does not forge or discard. State-changing admin and board requests take JSON or nothing, and no other origin is granted anything. */
import assert from 'node:assert/strict';
import { appRoutes } from '@bull-board/api/dist/routes.js';
import { useDaemon, DaemonParts } from '../support/fixtures';
import { newTenant } from '../support/daemon';
import { post, request } from '../support/http';
import { ADMIN_TOKEN } from '../support/testEnv';
import { openQueueHandle, QueueHandle } from '../../src/daemon/queueHandle';
import { createLogger } from '../../src/log';
import { BOARD_PATH } from '../../src/admin/board';
import { BOARD_ROUTES } from '../../src/admin/boardRoutes';

const BASIC = { authorization: `Basic ${Buffer.from(`ops:${ADMIN_TOKEN}`).toString('base64')}` };
const BEARER = { authorization: `Bearer ${ADMIN_TOKEN}` };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('hostile: the board inspects and replays; it does not forge or discard', () => {
  let parts: DaemonParts;
  let handle: QueueHandle;
  let token = '';
  let tenantId = 0;
  const board = (path: string) => `${parts.daemon.baseUrl}${BOARD_PATH}${path}`;

  // The receiver alone, so that queued jobs stay in the queue for the board to act on.
  useDaemon(
    {
      worker: false,
      seed: async (db) => {
        const tenant = await newTenant(db);
        token = tenant.token;
        tenantId = tenant.id;
      },
    },
    (received) => (parts = received),
  );
  before(async () => {
    handle = await openQueueHandle(parts.env.config, createLogger({ LOG_LEVEL: 'silent' }, 'test'));
    assert.equal((await post(`${parts.daemon.baseUrl}/analytics/${token}`, { externalId: 'u', action: 'queued', insertId: 'board-kept' })).status, 202);
  });
  after(() => handle?.close());

  const jobCount = async () => {
    const counts = await handle.queue.getJobCounts('waiting', 'delayed', 'failed', 'completed', 'prioritized');
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  };

  it('a forged add of a job (a form or JSON) is refused and adds no job; clean, empty and obliterate are refused and discard nothing', async () => {
    const before = await jobCount();
    assert.equal(before, 1);
    // The receiver names its jobs (a time-ordered id): act on the real one.
    const [{ id: jobId }] = await handle.queue.getJobs(['waiting']);
    const forged = { name: 'events', data: JSON.stringify({ tenantId, receivedAt: Date.now(), events: [{ externalId: 'forged', action: 'forged', date: Date.now(), count: 1, weight: 1, info: {}, insertId: 'forged-1' }] }) };
    const form = await request(board('/api/queues/ingest/add'), { method: 'POST', raw: new URLSearchParams(forged).toString(), headers: { ...BASIC, ...FORM } });
    assert.notEqual(form.status, 200, 'a cross-site form must not add a job');
    assert.ok(form.status === 403 || form.status === 415, `status ${form.status}`);
    const json = await request(board('/api/queues/ingest/add'), { method: 'POST', body: forged, headers: BASIC });
    assert.equal(json.status, 403);
    assert.match(json.body.error, /is not offered/);
    for (const path of ['/api/queues/ingest/clean/waiting', '/api/queues/ingest/empty', '/api/queues/ingest/obliterate', `/api/queues/ingest/${jobId}/clean`, '/api/queues/pause', '/api/queues/ingest/pause']) {
      const answer = await request(board(path), { method: 'PUT', body: {}, headers: BASIC });
      assert.equal(answer.status, 403, `PUT ${path}`);
    }
    const update = await request(board(`/api/queues/ingest/${jobId}/update-data`), { method: 'PATCH', body: { data: { tenantId: 999 } }, headers: BASIC });
    assert.equal(update.status, 403);
    assert.equal(await jobCount(), before);
    assert.equal(await handle.queue.isPaused(), false);
    assert.equal((await handle.queue.getJob(String(jobId)))?.data.tenantId, tenantId, 'the job is unchanged');
  });

  it('every Bull Board route that changes state and is not on the allow-list answers 403, whatever the body', async () => {
    const allowed = new Set(BOARD_ROUTES.map((route) => `${route.method} ${route.path}`));
    const changing = appRoutes.api.flatMap((route) => (Array.isArray(route.method) ? route.method : [route.method]).filter((method) => method !== 'get' && !allowed.has(`${method} ${route.route}`)).map((method) => ({ method, path: route.route })));
    assert.ok(changing.length >= 15, `${changing.length} refused routes`);
    for (const route of changing) {
      const path = String(route.path).replace(/:(\w+)/g, (_whole: string, name: string) => ({ queueName: 'ingest', jobId: '1', queueStatus: 'waiting' })[name] ?? 'x');
      const answer = await request(board(path), { method: route.method.toUpperCase(), body: {}, headers: BASIC });
      assert.equal(answer.status, 403, `${route.method} ${path}`);
    }
    assert.equal(await jobCount(), 1);
  });

  it('retry and promote stay, body-less or JSON; a form or text body is refused with 415 and a reason', async () => {
    const bodyless = await request(board('/api/queues/ingest/retry/failed'), { method: 'PUT', headers: { ...BASIC, 'content-type': '' } });
    assert.equal(bodyless.status, 200, bodyless.text);
    const json = await request(board('/api/queues/ingest/promote'), { method: 'PUT', body: {}, headers: BASIC });
    assert.equal(json.status, 200, json.text);
    for (const headers of [FORM, { 'content-type': 'text/plain' }, { 'content-type': 'multipart/form-data; boundary=x' }]) {
      const answer = await request(board('/api/queues/ingest/retry/failed'), { method: 'PUT', raw: 'a=b', headers: { ...BASIC, ...headers } });
      assert.equal(answer.status, 415, headers['content-type']);
      assert.match(answer.body.error, /is not accepted here: send JSON/);
    }
  });

  it('state-changing admin API requests refuse form and text bodies (415); JSON and a body-less POST work', async () => {
    const admin = (path: string) => `${parts.daemon.baseUrl}/api/v1${path}`;
    for (const headers of [FORM, { 'content-type': 'text/plain' }]) {
      const answer = await request(admin('/tenants'), { method: 'POST', raw: 'name=forged', headers: { ...BEARER, ...headers } });
      assert.equal(answer.status, 415, headers['content-type']);
      assert.match(answer.body.error, /Content-Type ".+" is not accepted here/);
    }
    const patch = await request(admin(`/tenants/${tenantId}`), { method: 'PATCH', raw: 'enabled=false', headers: { ...BEARER, ...FORM } });
    assert.equal(patch.status, 415);
    const created = await request(admin('/tenants'), { method: 'POST', body: { name: 'json-made' }, headers: BEARER });
    assert.equal(created.status, 201);
    const rotated = await request(admin(`/tenants/${created.body.id}/token`), { method: 'POST', headers: { ...BEARER, 'content-type': '' } });
    assert.equal(rotated.status, 200, rotated.text);
    const names = (await request(admin('/tenants'), { headers: BEARER })).body.data.map((tenant: { name: string }) => tenant.name);
    assert.ok(!names.includes('forged'));
  });

  it('a cross-origin preflight or request gets no CORS grant, even with the credential', async () => {
    const origin = { origin: 'https://evil.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization, content-type' };
    for (const url of [board('/api/queues/ingest/retry/failed'), board('/api/queues/ingest/add'), `${parts.daemon.baseUrl}/api/v1/tenants`, `${parts.daemon.baseUrl}/analytics/${token}`]) {
      for (const headers of [origin, { ...origin, ...BASIC }, { ...origin, ...BEARER }]) {
        const preflight = await request(url, { method: 'OPTIONS', headers });
        assert.ok(preflight.status >= 400, `OPTIONS ${url}: ${preflight.status}`);
        assert.deepEqual([...preflight.headers.keys()].filter((name) => name.startsWith('access-control-')), [], `OPTIONS ${url}`);
      }
    }
    const read = await request(board('/api/queues'), { headers: { ...origin, ...BASIC } });
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('access-control-allow-origin'), null);
  });
});
