import assert from 'node:assert/strict';
import { waitFor, countRows, ADMIN_TOKEN } from './support/testEnv';
import { newTenant, InProcessDaemon } from './support/daemon';
import { post, request } from './support/http';
import { Db } from '../src/store/db';
import { changeTenantSettings } from '../src/tenants/tenantAccounts';
import { useDaemon } from './support/fixtures';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe('customer model: companies, assets, projects, mappings, filters and identify (over HTTP)', () => {
  let db: Db;
  let daemon: InProcessDaemon;
  let tenant: { id: number; token: string };

  useDaemon(
    {
      perTest: true,
      seed: async (db) => {
        tenant = await newTenant(db);
      },
    },
    (parts) => ({ db, daemon } = parts),
  );
  beforeEach(async () => {
    await waitFor('tenant known', async () => (await post(ingestUrl(), { externalId: 'warmup', action: 'warmup' })).status === 202, 5000);
    // `send` counts activities before and after: the warmup must be stored first, or it is counted as the test's own.
    await waitFor('the warmup activity', async () => (await countRows(db, 'activities', { tenant_id: tenant.id })) >= 1);
  });

  const ingestUrl = () => `${daemon.baseUrl}/analytics/${tenant.token}`;
  const api = async (path: string) => (await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}${path}`, { headers: admin })).body;
  /** Sends events and waits until the worker has stored `expectActivities` more activities. */
  async function send(events: unknown[], expectActivities = events.length) {
    const before = await countRows(db, 'activities', { tenant_id: tenant.id });
    const reply = await post(ingestUrl(), events);
    assert.equal(reply.status, 202, reply.text);
    await waitFor(`${expectActivities} activities`, async () => (await countRows(db, 'activities', { tenant_id: tenant.id })) === before + expectActivities);
  }
  const user = async (externalId: string) => (await api(`/endusers?externalId=${externalId}`)).data[0];
  const activity = async (insertId: string) => (await api('/activities?limit=1000')).data.find((row: { insertId: string }) => row.insertId === insertId);
  const company = async (externalId: string) => (await api('/companies?limit=1000')).data.find((row: { externalId: string }) => row.externalId === externalId);

  it('takes the company from the Amplitude group (default type "company", or the tenant\'s) and names it from group properties', async () => {
    await send([{ event_type: 'Open', user_id: 'g1', insert_id: 'g-1', groups: { company: ['acme', 'other'] }, group_properties: { company: { acme: { name: 'Acme Inc' } } } }]);
    assert.equal((await activity('g-1')).companyExternalId, 'acme');
    assert.equal((await company('acme')).name, 'Acme Inc');
    await changeTenantSettings(db, tenant.id, { companyGroupType: 'account' });
    // The receiver takes up a settings change within TENANT_REFRESH_MS: send until an event is read with the new type.
    let attempt = 0;
    await waitFor('the new group type', async () => {
      attempt += 1;
      await send([{ event_type: 'Open', user_id: 'g2', insert_id: `g-2-${attempt}`, groups: { company: 'ignored', account: 'globex' }, group_properties: { account: { name: 'Globex' } } }]);
      return (await activity(`g-2-${attempt}`)).companyExternalId === 'globex';
    }, 5000, 100);
    assert.equal((await company('globex')).name, 'Globex');
  });

  it('a top-level companyExternalId wins over the group', async () => {
    await send([{ event_type: 'Open', user_id: 'g3', insert_id: 'g-3', companyExternalId: 'direct', groups: { company: 'grouped' } }]);
    assert.equal((await activity('g-3')).companyExternalId, 'direct');
  });

  it('matches a company by business email domain (admin domains and learned ones), never by free-mail domains, and not by a domain two companies claim', async () => {
    const upsert = await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/companies`, { body: [{ externalId: 'initech', name: 'Initech', domains: ['initech.com'] }, { externalId: 'bad', domains: ['gmail.com'] }], headers: admin });
    assert.equal(upsert.status, 200);
    assert.deepEqual(upsert.body, { created: 1, updated: 0, rejected: [{ index: 1, error: 'domains[0]: gmail.com is a free-mail domain and cannot identify a company' }] });
    await send([{ externalId: 'peter', email: 'peter@initech.com', action: 'login', insertId: 'd-1' }]);
    assert.equal((await activity('d-1')).companyExternalId, 'initech');
    assert.equal((await user('peter')).companyExternalId, 'initech');

    // Learned: a user of a named company teaches it the business domain.
    await send([{ externalId: 'bill', email: 'bill@hooli.io', companyExternalId: 'hooli', action: 'login', insertId: 'd-2' }]);
    assert.deepEqual((await company('hooli')).domains, ['hooli.io']);
    await send([{ email: 'gavin@hooli.io', action: 'login', insertId: 'd-3' }]);
    assert.equal((await activity('d-3')).companyExternalId, 'hooli');

    await send([{ externalId: 'freemail', email: 'someone@gmail.com', action: 'login', insertId: 'd-4' }]);
    assert.equal((await activity('d-4')).companyExternalId, null);

    await send([{ externalId: 'consultant', email: 'c@initech.com', companyExternalId: 'hooli', action: 'login', insertId: 'd-5' }]);
    await send([{ email: 'new@initech.com', action: 'login', insertId: 'd-6' }]);
    assert.equal((await activity('d-6')).companyExternalId, null, 'initech.com is now claimed by two companies');
  });

  it('keeps the first company as primary; each activity goes to its event\'s company', async () => {
    await send([{ externalId: 'multi', action: 'a', companyExternalId: 'first', insertId: 'm-1' }]);
    await send([{ externalId: 'multi', action: 'b', companyExternalId: 'second', insertId: 'm-2' }]);
    assert.equal((await user('multi')).companyExternalId, 'first');
    assert.equal((await activity('m-1')).companyExternalId, 'first');
    assert.equal((await activity('m-2')).companyExternalId, 'second');
  });

  it('autoCreateCompanies=false: an unknown company is not created, the activity has none, and the user is listed as unassigned', async () => {
    await changeTenantSettings(db, tenant.id, { autoCreateCompanies: 'false' });
    await send([{ externalId: 'known-co-user', action: 'a', companyExternalId: 'existing', insertId: 'ac-0' }]);
    assert.equal((await activity('ac-0')).companyExternalId, null);
    await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/companies`, { body: [{ externalId: 'existing' }], headers: admin });
    await send([{ externalId: 'orphan', action: 'a', companyExternalId: 'nowhere', insertId: 'ac-1' }, { externalId: 'placed', action: 'a', companyExternalId: 'existing', insertId: 'ac-2' }]);
    assert.equal(await company('nowhere'), undefined);
    assert.equal((await activity('ac-1')).companyExternalId, null);
    assert.equal((await activity('ac-2')).companyExternalId, 'existing');
    const unassigned = (await api('/endusers?unassigned=true')).data.map((row: { externalId: string }) => row.externalId);
    assert.ok(unassigned.includes('orphan') && !unassigned.includes('placed'), JSON.stringify(unassigned));
  });

  it('attaches activities to assets and projects of the activity\'s company, lists them, and filters activities by them', async () => {
    await send([
      { externalId: 'a1', action: 'deploy', companyExternalId: 'acme', assetExternalId: 'server-1', projectExternalId: 'rollout', insertId: 'ap-1' },
      { externalId: 'a1', action: 'deploy', companyExternalId: 'acme', assetExternalId: 'server-2', insertId: 'ap-2' },
    ]);
    const assets = (await api('/assets')).data.map((row: { externalId: string; companyExternalId: string }) => [row.externalId, row.companyExternalId]);
    assert.deepEqual(assets, [['server-1', 'acme'], ['server-2', 'acme']]);
    const projects = (await api('/projects')).data;
    assert.deepEqual(projects.map((row: { externalId: string; name: string; companyExternalId: string; id: number }) => [row.externalId, row.companyExternalId]), [['rollout', 'acme']]);
    const first = await activity('ap-1');
    assert.equal(first.assetExternalId, 'server-1');
    assert.equal(first.projectExternalId, 'rollout');
    assert.deepEqual((await api('/activities?assetExternalId=server-2')).data.map((row: { insertId: string }) => row.insertId), ['ap-2']);
    assert.deepEqual((await api('/activities?projectExternalId=rollout')).data.map((row: { insertId: string }) => row.insertId), ['ap-1']);
    assert.equal((await api('/activities?companyExternalId=acme')).data.length, 2);
  });

  it('applies a mapping change without a restart', async () => {
    const event = (n: number) => ({ event_type: 'Mapped', user_id: `amp-${n}`, insert_id: `map-${n}`, event_properties: { account_user: `acct-${n}`, workspace: `ws-${n}` }, user_properties: { work_email: `w${n}@mapped.io` } });
    await send([event(1)]);
    assert.equal((await activity('map-1')).externalId, 'amp-1');
    await changeTenantSettings(db, tenant.id, { externalId: 'event_properties.account_user', email: 'user_properties.work_email', projectExternalId: 'event_properties.workspace' });
    let attempt = 1;
    await waitFor('the new mapping', async () => {
      attempt += 1;
      await send([event(attempt)]);
      return (await activity(`map-${attempt}`)).externalId === `acct-${attempt}`;
    }, 5000, 200);
    const mapped = await activity(`map-${attempt}`);
    assert.equal(mapped.email, `w${attempt}@mapped.io`);
    assert.equal(mapped.projectExternalId, `ws-${attempt}`);
  });

  it('drops actions the tenant filters out, counts them per action, and stores the rest', async () => {
    // No wait: the worker reads the tenant's filters in each batch's own transaction.
    await changeTenantSettings(db, tenant.id, { includeActions: 'Report *,login', excludeActions: 'Report Draft*' });
    const reply = await post(ingestUrl(), [
      { externalId: 'f', action: 'Report Exported', insertId: 'f-1' },
      { externalId: 'f', action: 'Report Draft Saved', insertId: 'f-2' },
      { externalId: 'f', action: 'page_view', insertId: 'f-3' },
      { externalId: 'f', action: 'page_view', insertId: 'f-4' },
      { externalId: 'f', action: 'login', insertId: 'f-5' },
    ]);
    assert.equal(reply.body.accepted, 5);
    await waitFor('filtered counts', async () => (await api('/filtered-actions')).data.length === 2);
    assert.deepEqual((await api('/activities?externalId=f')).data.map((row: { insertId: string }) => row.insertId), ['f-1', 'f-5']);
    const counts = (await api('/filtered-actions')).data.map((row: { action: string; count: number }) => [row.action, row.count]);
    assert.deepEqual(counts, [['Report Draft Saved', 1], ['page_view', 2]]);
  });

  it('an $identify event, or a user payload without event_type, updates the end user and stores no activity', async () => {
    await send([{ externalId: 'who', action: 'login', insertId: 'i-0' }]);
    const reply = await post(ingestUrl(), [
      { event_type: '$identify', user_id: 'who', insert_id: 'i-1', user_properties: { $set: { email: 'Who@Example.com', name: 'Dr Who' } }, groups: { company: 'tardis' } },
    ]);
    assert.equal(reply.status, 202);
    await waitFor('identify applied', async () => (await user('who'))?.email === 'who@example.com');
    const identified = await user('who');
    assert.equal(identified.name, 'Dr Who');
    assert.equal(identified.companyExternalId, 'tardis');
    assert.equal(identified.activityCount, 1);

    const userPayload = await post(ingestUrl(), { user_id: 'newcomer', user_properties: { email: 'new@comer.io', name: 'New Comer' } });
    assert.equal(userPayload.status, 202);
    await waitFor('user payload applied', async () => (await user('newcomer'))?.email === 'new@comer.io');
    assert.equal((await user('newcomer')).activityCount, 0);
    assert.equal(await countRows(db, 'activities', { action: '$identify' }), 0);
  });
});
