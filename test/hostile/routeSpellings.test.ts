/**
 * Deny by default: every route of the receiver, the admin API and the board (Bull Board's own routes too), in every
 * spelling a router might take for it, without credentials, with a wrong one and with a tenant's token, over real
 * HTTP. Only routes declared public may answer 2xx; none may grant a cross-origin request.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { appRoutes } from '@bull-board/api/dist/routes.js';
import { useDaemon } from '../support/fixtures';
import { newTenant } from '../support/daemon';
import { post } from '../support/http';
import { ADMIN_TOKEN, TestEnv } from '../support/testEnv';
import { openQueueHandle } from '../../src/daemon/queueHandle';
import { createLogger } from '../../src/log';
import { finishDelivery, startDelivery } from '../../src/deliveries/deliveryRecord';
import { writeOutboxEntries } from '../../src/process/outboxEntries';
import { OPS_ROUTES } from '../../src/http/opsRoutes';
import { INGEST_ROUTES } from '../../src/receive/ingestRoutes';
import { ADMIN_ROUTES } from '../../src/admin/routeTable';
import { ADMIN_PREFIX, OPENAPI_ROUTE } from '../../src/admin/adminRoutes';
import { BOARD_PATH } from '../../src/admin/board';
import { BOARD_ROUTES } from '../../src/admin/boardRoutes';
import type { Access } from '../../src/http/routeAccess';

interface WalkedRoute {
  method: string;
  path: string;
  access: Access;
}

/** Every route the tables declare, and every route Bull Board defines (an unlisted one must be refused too). */
function allRoutes(): WalkedRoute[] {
  const bullBoard = [
    ...appRoutes.api.flatMap((route) => (Array.isArray(route.method) ? route.method : [route.method]).map((method) => ({ method, path: route.route }))),
    ...(Array.isArray(appRoutes.entryPoint.route) ? appRoutes.entryPoint.route : [appRoutes.entryPoint.route]).map((path) => ({ method: 'get', path })),
  ];
  return [
    ...OPS_ROUTES,
    ...INGEST_ROUTES,
    ...[OPENAPI_ROUTE, ...ADMIN_ROUTES].map((route) => ({ ...route, path: ADMIN_PREFIX + route.path })),
    ...[...BOARD_ROUTES, ...bullBoard.map((route) => ({ ...route, access: 'admin' as const }))].map((route) => ({ ...route, path: BOARD_PATH + route.path })),
  ].map(({ method, path, access }) => ({ method: method.toUpperCase(), path, access }));
}

/** Fills a route's parameters with values that exist, so a request that got past a guard would succeed. */
function concretePath(path: string, values: Record<string, string>): string {
  return path.replace(/[:*](\w+)/g, (_whole, name: string) => values[name] ?? 'x');
}

const upper = (text: string) => text.toUpperCase();
const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const encodedFirst = (text: string) => (text === '' ? text : `%${text.charCodeAt(0).toString(16).toUpperCase()}${text.slice(1)}`);
const encodedFirstUpper = (text: string) => (text === '' ? text : `%${text.toUpperCase().charCodeAt(0).toString(16)}${text.slice(1).toUpperCase()}`);

/** The spellings of a path that some router, proxy or decoder could take for it. */
export function spellings(path: string): string[] {
  const segments = path.split('/').slice(1);
  const join = (parts: string[]) => '/' + parts.join('/');
  const each = (change: (segment: string) => string) => segments.map((_, at) => join(segments.map((segment, i) => (i === at ? change(segment) : segment))));
  const variants = [
    path,
    upper(path),
    join(segments.map(capitalized)),
    ...each(upper),
    ...each(capitalized),
    ...each(encodedFirst),
    ...each(encodedFirstUpper),
    `${path}/`,
    `/${path}`,
    ...segments.slice(1).map((_, at) => join(segments.map((segment, i) => (i === at ? `${segment}/` : segment)))),
    ...segments.slice(1).map((_, at) => segments.slice(0, at + 1).join('/') + '%2F' + segments.slice(at + 1).join('/')).map((text) => '/' + text),
    ...segments.slice(1).map((_, at) => segments.slice(0, at + 1).join('/') + '%2f' + segments.slice(at + 1).join('/')).map((text) => '/' + text),
  ];
  return [...new Set(variants)];
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  json?: unknown;
}

/** node:http sends the path exactly as given (fetch would normalise some of it). */
function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string, readJson = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body !== undefined && { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => readJson && chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, json: readJson ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** A body the route would take, so that only a guard stands between the request and a 2xx. */
function bodyFor(route: WalkedRoute, token: string): string | undefined {
  if (route.method === 'GET' || route.method === 'HEAD' || route.method === 'OPTIONS') return undefined;
  if (/\/(companies|assets|projects)$/.test(route.path)) return JSON.stringify([{ externalId: 'spelled' }]);
  if (route.path.startsWith('/analytics/bulk')) return JSON.stringify([{ id: 'spelled', action: 'spelled' }]);
  if (/^\/(group)?identify$/.test(route.path)) return JSON.stringify({ api_key: token, identification: [{ user_id: 'spelled', group_type: 'company', group_value: 'spelled', group_properties: {} }] });
  if (route.access === 'tenant') return JSON.stringify({ api_key: token, events: [{ event_type: 'spelled', user_id: 'spelled' }], externalId: 'spelled', action: 'spelled' });
  return JSON.stringify({ name: `spelled-${Math.random().toString(36).slice(2)}`, enabled: true, data: { tenantId: 1, receivedAt: 0, events: [] } });
}

async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let start = 0; start < items.length; start += size) await Promise.all(items.slice(start, start + size).map(work));
}

describe('hostile: every route in every spelling, without the right credential', function () {
  this.timeout(300000);
  let port = 0;
  let values: Record<string, string> = {};
  let tenantToken = '';
  let env: TestEnv;

  // The receiver alone: the job its one event makes stays in the queue, so job routes have a real job to act on.
  useDaemon(
    {
      worker: false,
      seed: async (db) => {
        const tenant = await newTenant(db);
        tenantToken = tenant.token;
        const delivery = finishDelivery(startDelivery('analytics', 'spelling test', Date.now()), tenant.id, 400, 0, []);
        await writeOutboxEntries(db, [{ kind: 'record', record: delivery }]);
        values = { tenantId: String(tenant.id), deliveryId: delivery.id, queueName: 'ingest', queueStatus: 'failed', jobId: 'set once the job is queued', schedulerId: 'x', file: 'images/logo.svg' };
      },
    },
    ({ daemon, env: received }) => {
      port = Number(new URL(daemon.baseUrl).port);
      env = received;
    },
  );
  before(async () => {
    assert.equal((await post(`http://127.0.0.1:${port}/analytics/${tenantToken}`, { externalId: 'u', action: 'queued' })).status, 202);
    // The receiver names its jobs (a time-ordered id), so the job routes walk that job's real id.
    const handle = await openQueueHandle(env.config, createLogger({ LOG_LEVEL: 'silent' }, 'test'));
    try {
      const [job] = await handle.queue.getJobs(['waiting']);
      values.jobId = String(job.id);
    } finally {
      await handle.close();
    }
  });

  it('only health, readiness, metrics and the OpenAPI document are public', () => {
    const publicRoutes = allRoutes().filter((route) => route.access === 'public').map((route) => `${route.method} ${route.path}`);
    assert.deepEqual(publicRoutes.sort(), ['GET /api/v1/openapi.json', 'GET /healthz', 'GET /metrics', 'GET /readyz']);
  });

  it('the walk is real: with the admin credential, the exact spelling of every admin and board GET route answers 2xx', async () => {
    // A route registered outside the tables would still be in the OpenAPI document: it must be walked too.
    const walked = new Set(allRoutes().map((route) => `${route.method} ${route.path}`));
    const documented = (await send(port, 'GET', '/api/v1/openapi.json', {}, undefined, true)).json as { paths: Record<string, Record<string, unknown>> };
    for (const [path, methods] of Object.entries(documented.paths)) {
      for (const method of Object.keys(methods)) assert.ok(walked.has(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`), `${method} ${path} is documented but not walked`);
    }
    const reads = allRoutes().filter((route) => route.access === 'admin' && route.method === 'GET' && (!route.path.startsWith(BOARD_PATH) || BOARD_ROUTES.some((allowed) => BOARD_PATH + allowed.path === route.path)));
    assert.ok(reads.length >= 25, `walked ${reads.length} readable admin routes`);
    const failures: string[] = [];
    await inBatches(reads, 8, async (route) => {
      const path = concretePath(route.path, values);
      const answer = await send(port, 'GET', path, { authorization: `Bearer ${ADMIN_TOKEN}` });
      if (answer.status < 200 || answer.status > 299) failures.push(`GET ${path}: ${answer.status}`);
    });
    assert.deepEqual(failures, []);
  });

  it('no spelling, method (its own, HEAD, OPTIONS) or wrong credential gets a 2xx from a route that is not public, nor a CORS grant, nor a 500', async () => {
    const wrongAdmin = `Bearer ${ADMIN_TOKEN}x`;
    const credentials = (access: Access): Array<[string, Record<string, string>]> => [
      ['none', {}],
      ['wrong token', { authorization: wrongAdmin }],
      ['wrong Basic', { authorization: `Basic ${Buffer.from(`ops:${ADMIN_TOKEN}x`).toString('base64')}` }],
      ...(access === 'admin' ? [['tenant token', { authorization: `Bearer ${tenantToken}` }] as [string, Record<string, string>]] : []),
    ];
    const requests: Array<{ route: WalkedRoute; method: string; path: string; who: string; headers: Record<string, string> }> = [];
    for (const route of allRoutes()) {
      // A tenant route's token is in its path, its header or its body: here it is always a wrong one.
      const path = concretePath(route.path, { ...values, token: `${tenantToken}x` });
      for (const spelled of spellings(path)) {
        for (const method of new Set([route.method, 'HEAD', 'OPTIONS'])) {
          for (const [who, headers] of credentials(route.access)) requests.push({ route, method, path: spelled, who, headers: { ...headers, origin: 'https://evil.example' } });
        }
      }
    }
    assert.ok(requests.length > 5000, `walked ${requests.length} requests`);
    const failures: string[] = [];
    await inBatches(requests, 16, async ({ route, method, path, who, headers }) => {
      const answer = await send(port, method, path, headers, method === route.method ? bodyFor(route, `${tenantToken}x`) : undefined);
      const granted = Object.keys(answer.headers).filter((name) => name.startsWith('access-control-allow'));
      const wrong =
        answer.status >= 500 ? 'a server error' : granted.length > 0 ? `a CORS grant (${granted.join(', ')})` : route.access !== 'public' && answer.status >= 200 && answer.status <= 299 ? 'a 2xx' : undefined;
      if (wrong) failures.push(`${method} ${path} (${route.access}, ${who}): ${wrong}, status ${answer.status}`);
    });
    assert.deepEqual(failures.slice(0, 40), [], `${failures.length} requests got through`);
  });
});
