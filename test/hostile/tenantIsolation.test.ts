import assert from 'node:assert/strict';
import { waitFor, ADMIN_TOKEN } from '../support/testEnv';
import { newTenant, InProcessDaemon } from '../support/daemon';
import { post, request } from '../support/http';
import { changeTenantSettings } from '../../src/tenants/tenantAccounts';
import { Db } from '../../src/store/db';
import { useDaemon } from '../support/fixtures';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const ROUTES = ['endusers', 'activities', 'companies', 'assets', 'projects'] as const;
const TABLE = { endusers: 'end_users', activities: 'activities', companies: 'companies', assets: 'assets', projects: 'projects' } as const;

describe('tenant isolation: a token writes only its tenant, and each tenant route reads only its tenant', () => {
  let db: Db;
  let daemon: InProcessDaemon;
  let a: { id: number; token: string };
  let b: { id: number; token: string };

  useDaemon(
    {
      seed: async (db) => {
        a = await newTenant(db, 'tenant-a');
        b = await newTenant(db, 'tenant-b');
        await changeTenantSettings(db, a.id, { excludeActions: 'Dropped' });
        await changeTenantSettings(db, b.id, { excludeActions: 'Dropped' });
      },
    },
    (parts) => ({ db, daemon } = parts),
  );
  before(async () => {
    const url = (path: string) => `${daemon.baseUrl}${path}`;
    // The same ids in both tenants, and every way an event could try to name the other tenant.
    const same = (tag: string, other: { id: number }) => ({
      externalId: 'shared-user', email: 'shared@sharedcorp.com', action: `act-${tag}`, companyExternalId: 'shared-co', assetExternalId: 'shared-asset',
      projectExternalId: 'shared-project', insertId: 'shared-insert', tenantId: other.id, tenant_id: other.id, info: { tenantId: other.id },
    });
    assert.equal((await post(url(`/analytics/${a.token}`), [same('a', b), { externalId: 'only-a', action: 'Dropped' }])).status, 202);
    assert.equal((await post(url(`/analytics/${b.token}`), [same('b', a), { externalId: 'only-b', action: 'Dropped' }])).status, 202);
    // A token in the path and another in the header: the path's tenant alone gets the event.
    assert.equal((await post(url(`/analytics/bulk/${a.token}`), [{ id: 'path-wins', action: 'x' }], { authorization: `Bearer ${b.token}` })).status, 202);
    assert.equal((await post(url('/2/httpapi'), { api_key: a.token, events: [{ event_type: 'amp', user_id: 'api-key-wins', insert_id: 'amp-a' }] }, { authorization: `Bearer ${b.token}` })).status, 200);
    // B's users with A's learned domain must not land in A's company.
    assert.equal((await post(url(`/analytics/${b.token}`), { email: 'someone@sharedcorp.com', action: 'domain-probe' })).status, 202);
    await waitFor('both tenants written', async () => {
      const [{ n }] = await db('activities').count({ n: '*' });
      return Number(n) === 5;
    });
  });

  const read = async (tenantId: number, route: string, query = '') => {
    const reply = await request(`${daemon.baseUrl}/api/v1/tenants/${tenantId}/${route}${query}`, { headers: admin });
    assert.equal(reply.status, 200, reply.text);
    return reply.body.data as any[];
  };

  it('each token wrote only its own tenant, whatever tenant the event names', async () => {
    const rows: Array<{ tenant_id: number; action: string }> = await db('activities').select('tenant_id', 'action');
    const byTenant = (tenantId: number) => rows.filter((row) => row.tenant_id === tenantId).map((row) => row.action).sort();
    assert.deepEqual(byTenant(a.id), ['act-a', 'amp', 'x']);
    assert.deepEqual(byTenant(b.id), ['act-b', 'domain-probe']);
    assert.equal(await db('end_users').where({ tenant_id: b.id, external_id: 'path-wins' }).first(), undefined);
    assert.equal(await db('end_users').where({ tenant_id: b.id, external_id: 'api-key-wins' }).first(), undefined);
  });

  it('the same externalId, company, asset, project and insertId in two tenants are two separate records', async () => {
    for (const table of ['end_users', 'companies', 'assets', 'projects'] as const) {
      const rows = await db(table).where({ external_id: table === 'end_users' ? 'shared-user' : `shared-${{ companies: 'co', assets: 'asset', projects: 'project' }[table]}` }).select('tenant_id', 'id');
      assert.deepEqual(rows.map((row: { tenant_id: number }) => row.tenant_id).sort(), [a.id, b.id].sort(), table);
    }
    const shared = await db('activities').where({ insert_id: 'shared-insert' }).select('tenant_id');
    assert.equal(shared.length, 2, 'an insertId repeated in another tenant is not a duplicate');
  });

  it("a tenant's read routes list only rows of that tenant, both ways", async () => {
    for (const [mine, theirs] of [[a, b], [b, a]]) {
      for (const route of ROUTES) {
        const data = await read(mine.id, route, '?limit=1000');
        assert.ok(data.length > 0, `${route} of tenant ${mine.id} lists something`);
        const ids = data.map((row) => row.id);
        const owners: Array<{ tenant_id: number }> = await db(TABLE[route]).whereIn('id', ids).select('tenant_id');
        assert.deepEqual([...new Set(owners.map((row) => row.tenant_id))], [mine.id], `${route} of tenant ${mine.id} shows only its rows`);
        assert.equal(owners.length, ids.length);
      }
      const filtered = await read(mine.id, 'filtered-actions');
      assert.deepEqual(filtered.map((row) => [row.action, row.count]), [['Dropped', 1]]);
      // Filters naming the other tenant's only rows find nothing.
      const otherOnly = theirs === a ? 'path-wins' : 'domain-probe';
      assert.deepEqual(await read(mine.id, 'activities', `?externalId=${otherOnly}`), []);
      assert.deepEqual(await read(mine.id, 'activities', `?action=act-${theirs === a ? 'a' : 'b'}`), []);
    }
  });

  it("a company's learned domain does not assign another tenant's users", async () => {
    const [probe] = await read(b.id, 'activities', '?action=domain-probe');
    assert.equal(probe.companyExternalId, 'shared-co', "B's own company, which learned sharedcorp.com in B");
    const bCompany = await db('companies').where({ tenant_id: b.id, external_id: 'shared-co' }).first('id');
    const aCompany = await db('companies').where({ tenant_id: a.id, external_id: 'shared-co' }).first('id');
    const probeRow = await db('activities').where({ tenant_id: b.id, action: 'domain-probe' }).first('company_id');
    assert.equal(probeRow.company_id, bCompany.id);
    assert.notEqual(probeRow.company_id, aCompany.id);
  });

  it("another tenant's cursor, an odd tenant id or an unknown one never reaches another tenant's rows", async () => {
    const first = await request(`${daemon.baseUrl}/api/v1/tenants/${b.id}/activities?limit=1`, { headers: admin });
    const crossed = await read(a.id, 'activities', `?cursor=${first.body.nextCursor}`);
    const owners: Array<{ tenant_id: number }> = await db('activities').whereIn('id', crossed.map((row) => row.id)).select('tenant_id');
    assert.ok(owners.every((row) => row.tenant_id === a.id));
    for (const odd of [`${a.id} OR 1=1`, `-${a.id}`, `${a.id}.0`, '1e0', `${a.id}%00`, '%2e%2e', '__proto__']) {
      const reply = await request(`${daemon.baseUrl}/api/v1/tenants/${odd}/activities`, { headers: admin });
      assert.ok([400, 404].includes(reply.status), `${odd}: ${reply.status} ${reply.text}`);
      assert.equal(typeof reply.body.error, 'string');
    }
    const unknown = await request(`${daemon.baseUrl}/api/v1/tenants/999999/activities`, { headers: admin });
    assert.equal(unknown.status, 404);
  });

  it("a tenant token is not an admin token: it cannot read any tenant's routes", async () => {
    for (const token of [a.token, b.token]) {
      const reply = await request(`${daemon.baseUrl}/api/v1/tenants/${a.id}/activities`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(reply.status, 401);
    }
  });
});
