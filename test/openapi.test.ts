/**
 * /api/v1/openapi.json against a standard OpenAPI validator, and the real answers of every route against it: each
 * request below goes to a running receiver and worker, and its answer must be one the document lists for that
 * route and status, with a body its schema accepts (answers are strict: a field the schema does not name fails).
 */
import assert from 'node:assert/strict';
import Ajv2020, { ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { ADMIN_TOKEN, waitFor } from './support/testEnv';
import { request, Reply } from './support/http';
import { useDaemon } from './support/fixtures';
import { newTenant } from './support/daemon';
import { setTenantEnabled } from '../src/tenants/tenantAccounts';

interface Document {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
}

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const MAX_EVENTS = 20;
const MAX_BODY_BYTES = 65536;

describe('openapi.json: a valid OpenAPI document, served without credentials, that every real answer fits', function () {
  this.timeout(120000);
  let baseUrl = '';
  let tenant = { id: 0, token: '' };
  let disabled = { id: 0, token: '' };
  let doc: Document;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction>();
  /** "METHOD /template STATUS" of every answer checked. */
  const seen = new Set<string>();

  useDaemon(
    {
      settings: { MAX_EVENTS_PER_REQUEST: String(MAX_EVENTS), MAX_BODY_BYTES: String(MAX_BODY_BYTES) },
      seed: async (db) => {
        tenant = await newTenant(db);
        disabled = await newTenant(db);
        await setTenantEnabled(db, disabled.id, false);
      },
    },
    ({ daemon }) => (baseUrl = daemon.baseUrl),
  );

  /** Sends a request and checks its answer against the document's schema for this route (as a template) and status. */
  async function call(method: string, template: string, init: { path?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
    const path = init.path ?? template;
    const reply = await request(`${baseUrl}${path}`, { method, body: init.body, raw: init.raw, headers: init.headers });
    const where = `${method} ${template} answered ${reply.status}`;
    const operation = doc.paths[template.replace(/:([A-Za-z]+)/g, '{$1}')]?.[method.toLowerCase()];
    assert.ok(operation, `${method} ${template} is in the document`);
    const documented = operation.responses[String(reply.status)];
    assert.ok(documented, `${where}, a status the document does not list: ${reply.text.slice(0, 300)}`);
    const [mediaType, { schema }] = Object.entries(documented.content ?? {})[0] ?? [];
    assert.ok(mediaType, `${where}: the document gives no body for it`);
    assert.ok(reply.headers.get('content-type')?.startsWith(mediaType.split(';')[0]), `${where} with ${reply.headers.get('content-type')}, documented ${mediaType}`);
    if (mediaType === 'application/json') {
      const key = `${method} ${template} ${reply.status}`;
      let validate = validators.get(key);
      if (!validate) validators.set(key, (validate = ajv.compile(schema)));
      assert.ok(validate(reply.body), `${where} with a body its schema refuses: ${ajv.errorsText(validate.errors)}\n${reply.text.slice(0, 500)}`);
    }
    seen.add(`${method} ${template} ${reply.status}`);
    return reply;
  }

  const adminCall = (method: string, template: string, init: { path?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) =>
    call(method, `/api/v1${template}`, { ...init, path: init.path && `/api/v1${init.path}`, headers: { ...admin, ...init.headers } });

  before(async () => {
    const served = await request(`${baseUrl}/api/v1/openapi.json`);
    assert.equal(served.status, 200, 'served without credentials');
    doc = served.body;
  });

  it('is valid OpenAPI 3.1 by a standard validator, and lists its own route as needing no credential', async () => {
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const result = await new Validator().validate(doc as never);
    assert.deepEqual(result, { valid: true });
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual((doc.paths['/api/v1/openapi.json'].get as unknown as { security: unknown[] }).security, []);
    // OpenAPI has no templated parameter names: a generated client would send a name such as "property.{name}" literally.
    const operations = Object.values(doc.paths).flatMap((path) => Object.values(path)) as unknown as { parameters?: { name: string; in: string }[] }[];
    const names = operations.flatMap((operation) => (operation.parameters ?? []).filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name));
    assert.deepEqual(names.filter((name) => !/^[A-Za-z]+$/.test(name)), []);
    await call('GET', '/api/v1/openapi.json');
  });

  it('health, readiness and metrics answer as documented', async () => {
    await call('GET', '/healthz');
    await call('GET', '/readyz');
    await call('GET', '/metrics');
  });

  it('the Planhat and Amplitude ingest routes answer as documented, accepted or refused', async () => {
    const event = (n: number) => ({ externalId: `user-${n}`, email: `user-${n}@example.com`, action: 'opened', companyExternalId: 'acme' });
    const token = tenant.token;
    assert.equal((await call('POST', '/analytics/:token', { path: `/analytics/${token}`, body: [event(1), { action: 'nobody' }] })).status, 202);
    assert.equal((await call('POST', '/analytics/:token', { path: `/analytics/${token}`, body: { action: 'nobody' } })).status, 400);
    assert.equal((await call('POST', '/analytics/:token', { path: `/analytics/${token}`, raw: '{"not json' })).status, 400);
    assert.equal((await call('POST', '/analytics/:token', { path: `/analytics/${token}x`, body: event(2) })).status, 401);
    assert.equal((await call('POST', '/analytics/:token', { path: `/analytics/${disabled.token}`, body: event(2) })).status, 403);
    assert.equal((await call('POST', '/analytics/:token', { path: `/analytics/${token}`, body: Array.from({ length: MAX_EVENTS + 1 }, (_, n) => event(n)) })).status, 413);
    assert.equal((await call('POST', '/analytics/:token', { path: `/analytics/${token}`, raw: JSON.stringify([{ ...event(3), info: { pad: 'x'.repeat(MAX_BODY_BYTES) } }]) })).status, 413);
    assert.equal((await call('POST', '/analytics/:token', { path: `/analytics/${token}`, raw: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status, 415);
    assert.equal((await call('POST', '/analytics', { body: event(4), headers: { authorization: `Bearer ${token}` } })).status, 202);
    assert.equal((await call('POST', '/analytics', { body: event(4) })).status, 401);
    assert.equal((await call('POST', '/analytics/bulk/:token', { path: `/analytics/bulk/${token}`, body: [{ id: 'user-5', action: 'bulked' }] })).status, 202);
    assert.equal((await call('POST', '/analytics/bulk/:token', { path: `/analytics/bulk/${token}`, body: event(5) })).status, 400);
    assert.equal((await call('POST', '/analytics/bulk', { body: [event(6)], headers: { authorization: `Bearer ${token}` } })).status, 202);

    const amplitude = (n: number) => ({ event_type: 'clicked', user_id: `amp-${n}`, insert_id: `amp-insert-${n}` });
    for (const path of ['/2/httpapi', '/batch']) {
      assert.equal((await call('POST', path, { body: { api_key: token, events: [amplitude(1)] } })).status, 200);
      assert.equal((await call('POST', path, { body: { api_key: `${token}x`, events: [amplitude(1)] } })).status, 400);
      assert.equal((await call('POST', path, { body: { api_key: token } })).status, 400);
      assert.equal((await call('POST', path, { raw: '[' })).status, 400);
      assert.equal((await call('POST', path, { body: { api_key: token, events: [amplitude(2), { event_type: 'no one' }] } })).status, 400);
      assert.equal((await call('POST', path, { body: { api_key: token, events: Array.from({ length: MAX_EVENTS + 1 }, (_, n) => amplitude(n)) } })).status, 413);
      assert.equal((await call('POST', path, { raw: JSON.stringify({ api_key: token, events: [{ ...amplitude(3), event_properties: { pad: 'x'.repeat(MAX_BODY_BYTES) } }] }) })).status, 413);
      assert.equal((await call('POST', path, { raw: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status, 415);
    }
  });

  it('the Identify and Group Identify APIs answer as documented, in forms and JSON', async () => {
    const token = tenant.token;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const encoded = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
    for (const [path, identification] of [
      ['/identify', { user_id: 'identified-1', user_properties: { $set: { plan: 'Pro' } } }],
      ['/groupidentify', { group_type: 'company', group_value: 'acme', group_properties: { $set: { tier: 'gold' } } }],
    ] as const) {
      assert.equal((await call('POST', path, { raw: encoded({ api_key: token, identification: JSON.stringify(identification) }), headers: form })).status, 200);
      assert.equal((await call('POST', path, { body: { api_key: token, identification: [identification] } })).status, 200);
      assert.equal((await call('POST', path, { raw: encoded({ api_key: `${token}x`, identification: JSON.stringify(identification) }), headers: form })).status, 400);
      assert.equal((await call('POST', path, { raw: encoded({ api_key: token }), headers: form })).status, 400);
      assert.equal((await call('POST', path, { body: { api_key: disabled.token, identification } })).status, 403);
      assert.equal((await call('POST', path, { raw: encoded({ api_key: token, identification: JSON.stringify({ ...identification, pad: 'x'.repeat(MAX_BODY_BYTES) }) }), headers: form })).status, 413);
      assert.equal((await call('POST', path, { raw: 'api_key', headers: { 'content-type': 'text/csv' } })).status, 415);
    }
  });

  it('the admin and read API answer as documented: found, created, refused, missing and without credentials', async () => {
    const tenantPath = `/tenants/${tenant.id}`;
    assert.equal((await adminCall('GET', '/tenants', { headers: { authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await adminCall('GET', '/tenants')).status, 200);
    assert.equal((await adminCall('POST', '/tenants', { body: { name: 'documented' } })).status, 201);
    assert.equal((await adminCall('POST', '/tenants', { body: { name: 'documented' } })).status, 409);
    const extra = await adminCall('POST', '/tenants', { body: { name: 'other', token: 'mine' } });
    assert.deepEqual([extra.status, extra.body.error], [400, 'token: not a field of a new tenant (it takes name)']);
    assert.equal((await adminCall('POST', '/tenants', { raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status, 415);

    assert.equal((await adminCall('PATCH', '/tenants/:tenantId', { path: `/tenants/${disabled.id}`, body: { enabled: false, settings: { companyGroupType: 'account', email: null } } })).status, 200);
    const badSetting = await adminCall('PATCH', '/tenants/:tenantId', { path: tenantPath, body: { settings: { includeActions: 3 } } });
    assert.deepEqual([badSetting.status, badSetting.body.error], [400, 'settings.includeActions: must be a string, true or false, an array of strings or null, got a number']);
    assert.equal((await adminCall('PATCH', '/tenants/:tenantId', { path: tenantPath, body: { settings: { excludeActions: ['ignored'] } } })).status, 200);
    assert.equal((await adminCall('GET', '/tenants/:tenantId', { path: tenantPath })).status, 200);
    assert.equal((await adminCall('GET', '/tenants/:tenantId', { path: '/tenants/999999' })).status, 404);
    assert.equal((await adminCall('GET', '/tenants/:tenantId', { path: '/tenants/abc' })).status, 400);
    assert.equal((await adminCall('POST', '/tenants/:tenantId/token', { path: '/tenants/999999/token' })).status, 404);
    assert.equal((await adminCall('POST', '/tenants/:tenantId/token', { path: `${tenantPath}/token?keepOld=forever` })).status, 400);

    for (const [template, body, wrong] of [
      ['/tenants/:tenantId/companies', [{ externalId: 'acme', name: 'Acme', domains: ['acme.example'] }, { externalId: 'free', domains: ['gmail.com'] }], [{ externalId: 'x', colour: 'red' }]],
      ['/tenants/:tenantId/assets', [{ externalId: 'server', companyExternalId: 'acme' }], [{ name: 'no id' }]],
      ['/tenants/:tenantId/projects', [{ externalId: 'launch', name: null }], 'not an array'],
    ] as const) {
      const path = template.replace(':tenantId', String(tenant.id));
      assert.equal((await adminCall('POST', template, { path, body })).status, 200);
      assert.equal((await adminCall('POST', template, { path, body: wrong })).status, 400);
      assert.equal((await adminCall('POST', template, { path: template.replace(':tenantId', '999999'), body })).status, 404);
      assert.equal((await adminCall('GET', template, { path: `${path}?limit=1` })).status, 200);
    }
    assert.equal((await adminCall('POST', '/tenants/:tenantId/companies', { path: `${tenantPath}/companies`, body: Array.from({ length: 10001 }, (_, n) => ({ externalId: `c${n}` })) })).status, 413);

    // The events of the ingest test, stored: activities, end users and a filtered action to read back.
    await waitFor('an ignored action is filtered', async () => {
      await request(`${baseUrl}/analytics/${tenant.token}`, { body: { externalId: 'user-1', action: 'ignored' } });
      return (await adminCall('GET', '/tenants/:tenantId/filtered-actions', { path: `${tenantPath}/filtered-actions` })).body.data.length > 0;
    });
    for (const list of ['endusers', 'activities', 'deliveries']) {
      const template = `/tenants/:tenantId/${list}`;
      await waitFor(`${list} has rows to check`, async () => (await adminCall('GET', template, { path: `${tenantPath}/${list}?limit=2` })).body.data.length > 0);
      assert.equal((await adminCall('GET', template, { path: `${tenantPath}/${list}?limit=0` })).status, 400);
      assert.equal((await adminCall('GET', template, { path: `/tenants/999999/${list}` })).status, 404);
    }
    // The property filter as the document's deepObject parameter serializes it.
    assert.equal((await adminCall('GET', '/tenants/:tenantId/endusers', { path: `${tenantPath}/endusers?property%5Bplan%5D=Enterprise` })).status, 200);
    const delivery = (await adminCall('GET', '/tenants/:tenantId/deliveries', { path: `${tenantPath}/deliveries?status=202&limit=1` })).body.data[0];
    assert.equal((await adminCall('GET', '/tenants/:tenantId/deliveries/:deliveryId', { path: `${tenantPath}/deliveries/${delivery.id}` })).status, 200);
    assert.equal((await adminCall('GET', '/tenants/:tenantId/deliveries/:deliveryId', { path: `${tenantPath}/deliveries/nope` })).status, 404);
    assert.equal((await adminCall('POST', '/tenants/:tenantId/token', { path: `${tenantPath}/token?keepOld=0` })).status, 200);
  });

  it('the board answers as documented', async () => {
    assert.equal((await call('GET', '/admin/queues', { headers: admin })).status, 200);
    assert.equal((await call('GET', '/admin/queues')).status, 401);
  });

  it('every documented route was called and its answer checked', () => {
    const called = new Set([...seen].map((answer) => answer.split(' ').slice(0, 2).join(' ')));
    const missing = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods)
        .map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`)
        .filter((route) => !called.has(route)),
    );
    assert.deepEqual(missing, []);
    assert.ok(seen.size >= 60, `${seen.size} route and status pairs checked`);
  });
});
