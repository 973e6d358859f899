/**
 * End users and companies carry their current properties: Amplitude payloads as its export and its SDKs send them,
 * through the daemon (receiver, Redis, worker, database), leave the properties Amplitude's operations say; a
 * redelivery applies nothing twice; limits refuse an update and still store the activity; the read API shows and
 * filters them.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { waitFor, countRows, ADMIN_TOKEN, TEST_DATABASE_NAME } from './support/testEnv';
import { newTenant, InProcessDaemon } from './support/daemon';
import { post, request } from './support/http';
import { useDaemon, useStore } from './support/fixtures';
import { settledDeliveries } from './support/settled';
import { amplitudeExportEvent } from './fixtures/amplitudeExport';
import { Db, schemaOf } from '../src/store/db';
import { parseProperties, pruneAppliedUpdates } from '../src/store/properties';
import { migrateToLatest } from '../src/store/migrate';
import { changeTenantSettings } from '../src/tenants/tenantAccounts';
import { writeBatch, BatchEntry } from '../src/process/writeBatch';
import { newSequencedId } from '../src/timeOrderedIds';
import type { ActivityEvent } from '../src/normalize/activityEvent';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const BROWSER_SDK = { library: 'amplitude-ts/2.11.1', platform: 'Web', os_name: 'Chrome', os_version: '131', device_model: 'Macintosh', language: 'en-US', ip: '$remote' };

/** An event as Amplitude's Browser SDK 2 puts it in its HTTP V2 request. */
const sdkEvent = (fields: Record<string, unknown>) => ({ device_id: 'b6f1c0d4-3e2a-4f57-9c1d-8e0a7b5c2f91', session_id: 1793610843102, time: 1793610845211, ...BROWSER_SDK, ...fields });

describe(`user and company properties, through the daemon (real ${TEST_DATABASE_NAME})`, () => {
  let db: Db;
  let daemon: InProcessDaemon;
  let tenant: { id: number; token: string };
  let requests: number;
  useDaemon({}, (parts) => ({ db, daemon } = parts));

  beforeEach(async () => {
    tenant = await newTenant(db);
    requests = 0;
  });

  /** Sends Amplitude events over its HTTP V2 API, one request, and waits until the worker settled them. */
  async function sendAmplitude(events: unknown[]) {
    const reply = await waitFor('the tenant known', async () => {
      const answer = await post(`${daemon.baseUrl}/2/httpapi`, { api_key: tenant.token, events });
      return answer.status === 401 ? undefined : answer;
    }, 5000);
    assert.equal(reply.status, 200, reply.text);
    requests++;
    return (await settledDeliveries(daemon.baseUrl, tenant.id, requests)).at(-1) as { id: string; outcomes: Record<string, number> };
  }
  const endUsers = async (query = '') => (await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/endusers${query}`, { headers: admin })).body.data as Array<Record<string, any>>;
  const propertiesOf = async (externalId: string) => (await endUsers(`?externalId=${externalId}`))[0]?.properties;
  const companyProperties = async (externalId: string) =>
    ((await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/companies`, { headers: admin })).body.data as Array<Record<string, any>>).find((company) => company.externalId === externalId)?.properties;
  const deliveryEvents = async (id: string) => (await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/deliveries/${id}`, { headers: admin })).body.events as Array<Record<string, any>>;

  it('an export event sets its plain user_properties; SDK identify operations then change them as Amplitude would', async () => {
    await sendAmplitude([amplitudeExportEvent()]);
    assert.deepEqual(await propertiesOf('export-user-1'), { email: 'Ann.Export@export-corp.example', plan: 'Enterprise', role: 'admin' });
    assert.deepEqual(await companyProperties('export-corp'), { name: 'Export Corp' });
    await sendAmplitude([
      sdkEvent({ user_id: 'export-user-1', event_type: '$identify', insert_id: 'idf-1', user_properties: { $set: { plan: 'Growth' }, $setOnce: { plan: 'never', initial_referrer: 'ads' }, $add: { logins: 2 }, $append: { seen: 'home' }, $unset: { role: '-' } } }),
      sdkEvent({ user_id: 'export-user-1', event_type: 'Page Viewed', insert_id: 'pv-1', user_properties: { $add: { logins: 1 }, $postInsert: { seen: ['home', 'pricing'] } } }),
    ]);
    assert.deepEqual(await propertiesOf('export-user-1'), { email: 'Ann.Export@export-corp.example', plan: 'Growth', initial_referrer: 'ads', logins: 3, seen: ['home', 'pricing'] });
    assert.equal(await countRows(db, 'activities', { tenant_id: tenant.id }), 2, 'the export event and the page view; the identify stores none');
  });

  it('within one request, updates apply in the order the events were sent', async () => {
    await sendAmplitude([
      sdkEvent({ user_id: 'o', event_type: '$identify', insert_id: 'o-1', user_properties: { $set: { plan: 'A' }, $append: { trail: 1 } } }),
      sdkEvent({ user_id: 'o', event_type: 'x', insert_id: 'o-2', user_properties: { plan: 'B', $append: { trail: 2 } } }),
      sdkEvent({ user_id: 'o', event_type: '$identify', insert_id: 'o-3', user_properties: { $prepend: { trail: 0 }, $clearAll: '-' } }),
      sdkEvent({ user_id: 'o', event_type: '$identify', insert_id: 'o-4', user_properties: { $set: { plan: 'C' }, $append: { trail: 3 } } }),
    ]);
    assert.deepEqual(await propertiesOf('o'), { plan: 'C', trail: [0, 3] }, '$clearAll applies before the $prepend beside it');
  });

  it('a redelivered identify or event (same insert id) does not apply its $add twice', async () => {
    const identify = sdkEvent({ user_id: 'r', event_type: '$identify', insert_id: 'r-1', user_properties: { $add: { credits: 5 } } });
    const event = amplitudeExportEvent({ user_id: 'r', user_properties: { $add: { credits: 1 } } });
    await sendAmplitude([identify, event]);
    const again = await sendAmplitude([identify, event]);
    assert.deepEqual(again.outcomes, { stored: 0, duplicate: 2, filtered: 0, identified: 0, failed: 0, pruned: 0, pending: 0 });
    assert.deepEqual(await propertiesOf('r'), { credits: 6 });
    // Past DELIVERY_RETENTION_DAYS the identify's insert id is forgotten, with its request in the delivery log.
    await pruneAppliedUpdates(db, Date.now() + 1);
    await sendAmplitude([identify]);
    assert.deepEqual(await propertiesOf('r'), { credits: 11 });
  });

  it('a $groupidentify updates or creates its company, stores no activity, and one of another group type is ignored, saying so', async () => {
    await sendAmplitude([sdkEvent({ user_id: 'g', event_type: 'Signed In', insert_id: 'g-0', groups: { company: 'acme' }, group_properties: { company: { name: 'Acme', tier: 'silver' } } })]);
    const delivery = await sendAmplitude([
      sdkEvent({ event_type: '$groupidentify', insert_id: 'g-1', groups: { company: 'acme' }, group_properties: { $set: { tier: 'gold' }, $add: { seats: 10 } } }),
      sdkEvent({ event_type: '$groupidentify', insert_id: 'g-2', groups: { company: 'globex' }, group_properties: { $set: { name: 'Globex', tier: 'bronze' } } }),
      sdkEvent({ event_type: '$groupidentify', insert_id: 'g-3', groups: { team: 'red' }, group_properties: { $set: { size: 4 } } }),
    ]);
    assert.deepEqual(await companyProperties('acme'), { name: 'Acme', tier: 'gold', seats: 10 });
    assert.deepEqual(await companyProperties('globex'), { name: 'Globex', tier: 'bronze' });
    assert.deepEqual(delivery.outcomes, { stored: 0, duplicate: 0, filtered: 1, identified: 2, failed: 0, pruned: 0, pending: 0 });
    const ignored = (await deliveryEvents(delivery.id)).find((event) => event.insertId === 'g-3');
    assert.equal(ignored?.outcome, 'filtered');
    assert.match(ignored?.error, /company group type "company"/);
    assert.equal(await countRows(db, 'activities', { tenant_id: tenant.id }), 1);
  });

  it('with autoCreateCompanies=false, group properties of an unknown company are not applied, and the delivery log says why', async () => {
    await changeTenantSettings(db, tenant.id, { autoCreateCompanies: 'false' });
    const delivery = await sendAmplitude([
      sdkEvent({ event_type: '$groupidentify', insert_id: 'n-1', groups: { company: 'nowhere' }, group_properties: { $set: { tier: 'gold' } } }),
      sdkEvent({ user_id: 'n', event_type: 'x', insert_id: 'n-2', groups: { company: 'nowhere' }, group_properties: { company: { tier: 'gold' } } }),
    ]);
    assert.deepEqual(delivery.outcomes, { stored: 1, duplicate: 0, filtered: 1, identified: 0, failed: 0, pruned: 0, pending: 0 });
    const reasons = (await deliveryEvents(delivery.id)).map((event) => [event.outcome, event.error]);
    const why = 'group_properties: company nowhere does not exist and the tenant does not create companies (autoCreateCompanies=false); its properties were not applied';
    assert.deepEqual(reasons, [['filtered', why], ['stored', why]]);
    assert.equal(await countRows(db, 'companies', { tenant_id: tenant.id }), 0);
  });

  it('an update over a limit is refused with its reason in the delivery log, and the event\'s activity is still stored', async () => {
    await sendAmplitude([sdkEvent({ user_id: 'l', event_type: 'x', insert_id: 'l-0', user_properties: { plan: 'pro' } })]);
    const delivery = await sendAmplitude([
      sdkEvent({ user_id: 'l', event_type: 'Note Saved', insert_id: 'l-1', user_properties: { plan: 'enterprise', note: 'n'.repeat(1025) } }),
      sdkEvent({ user_id: 'l', event_type: '$identify', insert_id: 'l-2', user_properties: { $add: { plan: 1 } } }),
    ]);
    assert.deepEqual(delivery.outcomes, { stored: 1, duplicate: 0, filtered: 0, identified: 1, failed: 0, pruned: 0, pending: 0 });
    const [stored, identified] = await deliveryEvents(delivery.id);
    assert.equal(stored.outcome, 'stored');
    assert.equal(stored.error, 'user_properties.note: a property value is at most 1024 characters; the update was not applied');
    assert.equal(identified.error, 'user_properties.$add.plan: the property is not a number, skipped');
    assert.deepEqual(await propertiesOf('l'), { plan: 'pro' });
    // PostgreSQL's jsonb and text take no U+0000: the update is refused by name, the activity stored, nothing fails.
    const zero = await sendAmplitude([sdkEvent({ user_id: 'l', event_type: 'Zero', insert_id: 'l-3', user_properties: { 'a\u0000b': 1, plan: 'x' } })]);
    assert.deepEqual(zero.outcomes, { stored: 1, duplicate: 0, filtered: 0, identified: 0, failed: 0, pruned: 0, pending: 0 });
    assert.equal((await deliveryEvents(zero.id))[0].error, 'user_properties.a\\u0000b: holds U+0000 or an unpaired surrogate, which cannot be stored; the update was not applied');
    assert.deepEqual(await propertiesOf('l'), { plan: 'pro' });
    assert.equal(await countRows(db, 'activities', { tenant_id: tenant.id, insert_id: 'l-1' }), 1);
  });

  it('the read API filters end users by one property, as text, number or boolean, and refuses a bad filter by name', async () => {
    await sendAmplitude([
      sdkEvent({ user_id: 'f1', event_type: '$identify', insert_id: 'f-1', user_properties: { plan: 'Enterprise', seats: 5, beta: true } }),
      sdkEvent({ user_id: 'f2', event_type: '$identify', insert_id: 'f-2', user_properties: { plan: 'Free', seats: '5', 'odd "name"': 'x' } }),
    ]);
    const ids = async (query: string) => (await endUsers(query)).map((user) => user.externalId);
    assert.deepEqual(await ids('?property.plan=Enterprise'), ['f1']);
    assert.deepEqual(await ids('?property.seats=5'), ['f1', 'f2']);
    assert.deepEqual(await ids('?property.beta=true'), ['f1']);
    assert.deepEqual(await ids(`?property.${encodeURIComponent('odd "name"')}=x`), ['f2']);
    assert.deepEqual(await ids('?property.plan=enterprise'), [], 'values match exactly');
    // OpenAPI's deepObject spelling, what a client generated from openapi.json sends.
    assert.deepEqual(await ids(`?${encodeURIComponent('property[plan]')}=Enterprise`), ['f1']);
    assert.deepEqual(await ids('?property[seats]=5'), ['f1', 'f2']);
    const bad = async (query: string) => request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/endusers${query}`, { headers: admin });
    const two = await bad('?property.plan=Free&property.seats=5');
    assert.equal(two.status, 400);
    assert.match(two.body.error, /one property at a time/);
    const unnamed = await bad('?property.=x');
    assert.equal(unnamed.status, 400);
    assert.match(unnamed.body.error, /^property\.: name the property/);
    assert.match((await bad('?property.plan=Free&property[seats]=5')).body.error, /one property at a time/);
    const control = await bad('?property.a%01b=x');
    assert.equal(control.status, 400);
    assert.match(control.body.error, /control characters/);
    assert.equal((await bad('?propertyplan=x')).status, 400);
  });
});

describe(`property updates that reach the database out of arrival order (real ${TEST_DATABASE_NAME})`, () => {
  let db: Db;
  let tenantId: number;
  useStore((parts) => ({ db, tenantId } = parts));

  /** One request's job: the receiver gives each request a delivery id, later requests later ones. */
  const job = (...userProperties: Array<Record<string, unknown>>): BatchEntry => {
    const id = newSequencedId();
    const events: ActivityEvent[] = userProperties.map((update, index) => ({ kind: 'identify', action: '$identify', externalId: 'p', date: 1, count: 1, weight: 1, info: {}, insertId: `${id}-${index}`, userProperties: update }));
    return { tenantId, receivedAt: Date.now(), events, delivery: { id, indexes: events.map((_, index) => index) } };
  };
  const properties = async () => parseProperties((await db('end_users').where({ tenant_id: tenantId, external_id: 'p' }).first('properties')).properties);

  it('a batch applies its jobs\' updates in the order their requests arrived, not the order the jobs reached the writer', async () => {
    const [first, second, third] = [job({ $set: { v: 1 }, $append: { trail: 1 } }), job({ $set: { v: 2 }, $append: { trail: 2 } }, { $append: { trail: 3 } }), job({ $append: { trail: 4 } })];
    await writeBatch(db, [third, second, first]);
    assert.deepEqual(await properties(), { v: 2, trail: [1, 2, 3, 4] });
  });

  it('an earlier request written after a later one changes no key the later one assigned ($set, $unset, $clearAll); its $add still counts once', async () => {
    const [earlier, later] = [job({ $set: { plan: 'free', seats: 1, role: 'admin' }, $add: { logins: 1 } }), job({ $set: { plan: 'pro' }, $unset: { role: '-' } })];
    await writeBatch(db, [later]);
    await writeBatch(db, [earlier]);
    assert.deepEqual(await properties(), { plan: 'pro', seats: 1, logins: 1 });
    const [clearing, newest] = [job({ $clearAll: '-' }), job({ $set: { plan: 'enterprise' } })];
    await writeBatch(db, [newest]);
    await writeBatch(db, [clearing]);
    await writeBatch(db, [earlier]);
    assert.deepEqual(await properties(), { plan: 'enterprise' }, 'the $clearAll removed what came before it, not the later $set; the older request (a duplicate now) changes nothing');
  });

  it('jobs queued before delivery ids existed are ordered by their receivedAt', async () => {
    const old = (receivedAt: number, v: number): BatchEntry => ({ tenantId, receivedAt, events: [{ kind: 'identify', action: '$identify', externalId: 'p', date: 1, count: 1, weight: 1, info: {}, insertId: `old-${v}`, userProperties: { $set: { v } } }] });
    await writeBatch(db, [old(2000, 2)]);
    await writeBatch(db, [old(1000, 1)]);
    assert.deepEqual(await properties(), { v: 2 });
  });
});

describe(`the properties migration converts an existing database (real ${TEST_DATABASE_NAME})`, () => {
  let db: Db;
  let tenantId: number;
  useStore((parts) => ({ db, tenantId } = parts));

  it('existing end users and companies get empty properties; the migration also goes down and up again', async () => {
    const config = { directory: path.resolve(__dirname, '../migrations'), loadExtensions: ['.js'], tableName: 'knex_migrations', schemaName: schemaOf(db) };
    // By name: later migrations (the admin token's, say) stay where they are.
    const [, undone] = await db.migrate.down({ ...config, name: '20261201010000_properties.js' });
    assert.deepEqual(undone.map((file: string) => path.basename(file, '.js')), ['20261201010000_properties']);
    const [company] = await db('companies').insert({ tenant_id: tenantId, external_id: 'old-co', name: null, created_at: 1 }).returning('id');
    await db('end_users').insert({ tenant_id: tenantId, external_id: 'old-user', email: null, name: null, company_id: company.id, created_at: 1, updated_at: 1 });
    await migrateToLatest(db);
    const user = await db('end_users').where({ tenant_id: tenantId, external_id: 'old-user' }).first('properties');
    const converted = await db('companies').where({ tenant_id: tenantId, external_id: 'old-co' }).first('properties');
    assert.deepEqual([parseProperties(user.properties), parseProperties(converted.properties)], [{}, {}]);
  });

  it('existing end users and companies get no property stamps, so their next update of each key applies; the stamps migration also goes down and up again', async () => {
    const config = { directory: path.resolve(__dirname, '../migrations'), loadExtensions: ['.js'], tableName: 'knex_migrations', schemaName: schemaOf(db) };
    const [, undone] = await db.migrate.down({ ...config, name: '20261201030000_property_stamps.js' });
    assert.deepEqual(undone.map((file: string) => path.basename(file, '.js')), ['20261201030000_property_stamps']);
    await db('end_users').insert({ tenant_id: tenantId, external_id: 'old-user', email: null, name: null, company_id: null, created_at: 1, updated_at: 1, properties: JSON.stringify({ plan: 'free' }) });
    await migrateToLatest(db);
    const user = await db('end_users').where({ tenant_id: tenantId, external_id: 'old-user' }).first('properties', 'property_stamps');
    assert.deepEqual([parseProperties(user.properties), parseProperties(user.property_stamps)], [{ plan: 'free' }, {}]);
    await writeBatch(db, [{ tenantId, receivedAt: 1, events: [{ kind: 'identify', action: '$identify', externalId: 'old-user', date: 1, count: 1, weight: 1, info: {}, insertId: 'after-migration', userProperties: { $set: { plan: 'pro' } } }] }]);
    assert.deepEqual(parseProperties((await db('end_users').where({ tenant_id: tenantId, external_id: 'old-user' }).first('properties')).properties), { plan: 'pro' });
  });
});
