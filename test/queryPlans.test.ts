/** Every list query of the read API is planned on an index in its order: no full scan of a table, no temporary sort. */
import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import type { Db } from '../src/store/db';
import { dialectOf } from '../src/store/db';
import { writeBatch } from '../src/process/writeBatch';
import { refreshPlannerStatistics } from '../src/store/plannerStatistics';
import { listActivities, listCompanies, listEndUsers, listOwned } from '../src/store/readQueries';
import { listDeliveries } from '../src/store/deliveryReads';
import { ActivityEvent } from '../src/normalize/activityEvent';
import { useDaemon, useStore } from './support/fixtures';
import { newTenant } from './support/daemon';
import { waitFor } from './support/testEnv';
import { schemaOf } from '../src/store/db';

// Every table holds a few thousand rows, so each planner chooses as it would for a grown tenant, not for a table of one page.
const ACTIVITIES = 4000;
const USERS = 2000;
const OWNERS = 1000;
const PAGE_LIMIT = 100;

async function seed(db: Db, tenantId: number): Promise<void> {
  for (let start = 0; start < ACTIVITIES; start += 500) {
    const events: ActivityEvent[] = [];
    for (let i = start; i < start + 500; i++) {
      const user = i % USERS;
      events.push({
        action: `action-${i % 200}`, date: Date.UTC(2024, 0, 1) + i * 60000, count: 1, weight: 1, info: {}, insertId: `e-${i}`,
        externalId: `user-${user}`, email: `user${user}@example.com`, companyExternalId: user % 3 === 0 ? undefined : `company-${i % OWNERS}`,
        assetExternalId: `asset-${i % OWNERS}`, projectExternalId: `project-${i % OWNERS}`,
      });
    }
    await writeBatch(db, [{ tenantId, receivedAt: Date.UTC(2024, 5, 1), events }]);
  }
  const deliveries = Array.from({ length: ACTIVITIES }, (_, i) => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, tenant_id: tenantId, received_at: Date.UTC(2024, 0, 1) + i * 1000,
    endpoint: 'planhat', user_agent: null, status: i % 10 === 0 ? 400 : 202, accepted: 1, rejected: '[]', rejected_count: 0,
  }));
  for (let start = 0; start < deliveries.length; start += 200) await db('deliveries').insert(deliveries.slice(start, start + 200));
  const outcomes = deliveries.map((delivery) => ({ delivery_id: delivery.id, event_index: 0, insert_id: delivery.id, outcome: 'duplicate', error: null, at: delivery.received_at }));
  for (let start = 0; start < outcomes.length; start += 200) await db('delivery_events').insert(outcomes.slice(start, start + 200));
  const companies: Array<{ id: number }> = await db('companies').where('tenant_id', tenantId).select('id');
  const domains = companies.flatMap(({ id }) => [1, 2].map((n) => ({ tenant_id: tenantId, company_id: id, domain: `d${n}.company-${id}.example`, source: 'admin' })));
  for (let start = 0; start < domains.length; start += 200) await db('company_domains').insert(domains.slice(start, start + 200));
}

/** The statements a read sends, as the database gets them. */
async function statementsOf(db: Db, read: () => Promise<unknown>): Promise<Knex.Sql[]> {
  const sent: Knex.Sql[] = [];
  const listen = (query: Knex.Sql) => sent.push(query);
  db.on('query', listen);
  try {
    await read();
  } finally {
    db.off('query', listen);
  }
  return sent;
}

/** The plan's lines that read a whole table or sort rows outside an index, one string per finding. */
async function planProblems(db: Db, statement: Knex.Sql): Promise<string[]> {
  if (dialectOf(db) === 'sqlite') {
    const plan: Array<{ detail: string }> = await db.raw(`EXPLAIN QUERY PLAN ${statement.sql}`, statement.bindings as Knex.RawBinding[]);
    // "SCAN x" without an index is a full scan; a covering-index scan of a subquery's own result is not a table.
    return plan.map((row) => row.detail).filter((detail) => /^SCAN (?!.*USING (COVERING )?INDEX)/.test(detail) || detail.includes('TEMP B-TREE'));
  }
  // At a few thousand rows PostgreSQL rightly reads a small joined table or an IN list's worth of rows whole; with
  // sequential scans and sorts priced out, a Seq Scan or a Sort that remains is one no index can replace.
  const result = await db.transaction(async (trx): Promise<{ rows: Array<{ 'QUERY PLAN': string }> }> => {
    await trx.raw('SET LOCAL enable_seqscan = off');
    await trx.raw('SET LOCAL enable_sort = off');
    // knex reports PostgreSQL statements with $1.. placeholders; raw() takes ?.
    return trx.raw(`EXPLAIN ${statement.sql.replace(/\$\d+/g, '?')}`, statement.bindings as Knex.RawBinding[]);
  });
  // A sort of no more rows than a page (a filter's few matches) is not the tenant's rows sorted.
  const sortsMoreThanAPage = (line: string) => /^(-> +)?Sort /.test(line) && Number(/rows=(\d+)/.exec(line)?.[1]) > PAGE_LIMIT;
  return result.rows.map((row) => row['QUERY PLAN'].trim()).filter((line) => line.includes('Seq Scan') || sortsMoreThanAPage(line));
}

describe('query plans of the read API', function () {
  this.timeout(120000);
  let db: Db;
  let tenantId: number;
  useStore((parts) => ({ db, tenantId } = parts));

  it('plans every list route, with each of its filters, at depth, on indexes without a full scan or temporary sort', async () => {
    await seed(db, tenantId);
    await refreshPlannerStatistics(db);
    const page = { limit: PAGE_LIMIT, afterId: ACTIVITIES / 2 };
    const reads: Record<string, () => Promise<unknown>> = {
      'activities': () => listActivities(db, tenantId, {}, page),
      'activities by externalId': () => listActivities(db, tenantId, { externalId: 'user-7' }, page),
      'activities by email': () => listActivities(db, tenantId, { email: 'user7@example.com' }, page),
      'activities by action': () => listActivities(db, tenantId, { action: 'action-3' }, page),
      'activities by company': () => listActivities(db, tenantId, { companyExternalId: 'company-5' }, page),
      'activities by asset': () => listActivities(db, tenantId, { assetExternalId: 'asset-5' }, page),
      'activities by project': () => listActivities(db, tenantId, { projectExternalId: 'project-5' }, page),
      'activities by date range': () => listActivities(db, tenantId, { from: Date.UTC(2024, 0, 2), to: Date.UTC(2024, 0, 3) }, page),
      'endusers': () => listEndUsers(db, tenantId, {}, { limit: PAGE_LIMIT, afterId: USERS / 2 }),
      'endusers by externalId': () => listEndUsers(db, tenantId, { externalId: 'user-7' }, page),
      'endusers by email': () => listEndUsers(db, tenantId, { email: 'user7@example.com' }, page),
      'endusers by company': () => listEndUsers(db, tenantId, { companyExternalId: 'company-5' }, { limit: PAGE_LIMIT, afterId: 0 }),
      'endusers unassigned': () => listEndUsers(db, tenantId, { unassigned: true }, { limit: PAGE_LIMIT, afterId: 0 }),
      'companies': () => listCompanies(db, tenantId, { limit: PAGE_LIMIT, afterId: 0 }),
      'assets': () => listOwned(db, 'assets', tenantId, { limit: PAGE_LIMIT, afterId: 0 }),
      'projects': () => listOwned(db, 'projects', tenantId, { limit: PAGE_LIMIT, afterId: 0 }),
      'deliveries': () => listDeliveries(db, tenantId, {}, PAGE_LIMIT, undefined),
      'deliveries by status': () => listDeliveries(db, tenantId, { status: 400 }, PAGE_LIMIT, undefined),
      'deliveries by date range': () => listDeliveries(db, tenantId, { from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 0, 1, 0, 30) }, PAGE_LIMIT, undefined),
    };
    const problems: string[] = [];
    for (const [route, read] of Object.entries(reads)) {
      const statements = await statementsOf(db, read);
      assert.ok(statements.length > 0, `${route} sent no statement`);
      for (const statement of statements) {
        for (const problem of await planProblems(db, statement)) problems.push(`${route}: ${problem}\n    ${statement.sql}`);
      }
    }
    assert.deepEqual(problems, []);
  });
});

/** Whether the planner has statistics on the activities table. */
async function activitiesAnalyzed(db: Db): Promise<boolean> {
  if (dialectOf(db) === 'sqlite') {
    const stat: Array<{ name: string }> = await db.raw("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'");
    return stat.length > 0 && (await db('sqlite_stat1').where('tbl', 'activities').first()) !== undefined;
  }
  const row = await db('pg_stat_user_tables').where({ schemaname: schemaOf(db), relname: 'activities' }).first('last_analyze', 'last_autoanalyze');
  return Boolean(row?.last_analyze ?? row?.last_autoanalyze);
}

describe('planner statistics', () => {
  let db: Db;
  useDaemon(
    {
      // 40 rows stay under PostgreSQL's autovacuum analyze threshold (50 changed rows), so only the worker can analyze them.
      seed: async (seeded) => {
        const tenantId = (await newTenant(seeded)).id;
        const events: ActivityEvent[] = Array.from({ length: 40 }, (_, i) => ({ action: 'use', date: i, count: 1, weight: 1, info: {}, insertId: `e-${i}`, externalId: `user-${i % 5}` }));
        await writeBatch(seeded, [{ tenantId, receivedAt: 1, events }]);
        assert.equal(await activitiesAnalyzed(seeded), false);
      },
    },
    (parts) => ({ db } = parts),
  );

  it('are refreshed by the worker when it starts', async () => {
    await waitFor('statistics on activities', () => activitiesAnalyzed(db));
  });

  it('are refreshed by the worker soon after a load of rows, on PostgreSQL', async function () {
    if (dialectOf(db) === 'sqlite') this.skip();
    this.timeout(60000);
    await waitFor('statistics on activities', () => activitiesAnalyzed(db));
    const analyses = async () => Number((await db('pg_stat_user_tables').where({ schemaname: schemaOf(db), relname: 'activities' }).first('analyze_count')).analyze_count);
    const before = await analyses();
    const tenantId = (await newTenant(db)).id;
    // Past the worker's threshold (50 changed rows and a tenth of the table), within seconds: this server's autovacuum may be off.
    const events: ActivityEvent[] = Array.from({ length: 1500 }, (_, i) => ({ action: 'load', date: i, count: 1, weight: 1, info: {}, insertId: `load-${i}`, externalId: `user-${i % 50}` }));
    await writeBatch(db, [{ tenantId, receivedAt: 1, events }]);
    await waitFor('a new analysis of activities', async () => (await analyses()) > before, 40000);
  });
});
