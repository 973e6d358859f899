/**
 * Where a worker's batch spends its time, per SQL statement: writes batches of Amplitude export records (the
 * bench's, normalized as the receiver does) with the worker's writeBatch into a fresh database, and prints each
 * statement's calls and milliseconds per batch, the transaction's BEGIN and COMMIT, and the rest (JavaScript).
 * Usage: node dist/test/bench/statementTimes.js [--db sqlite|postgres] [--events N per batch, default 200] [--batches N, default 50]
 *   [--users N: people the events come from, default 1000, all known after a warm-up; 0: every event a new person]
 *   [--explain: PostgreSQL only, one batch's activities insert with its rows as json and as jsonb, timed and EXPLAIN ANALYZEd]
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config';
import { openDatabase, Db } from '../../src/store/db';
import { migrateToLatest } from '../../src/store/migrate';
import { createTenant } from '../../src/tenants/tenantAccounts';
import { DEFAULT_SETTINGS } from '../../src/tenants/settings';
import { amplitudeFields } from '../../src/normalize/amplitude';
import { toActivityEvent } from '../../src/normalize/eventFields';
import { writeBatch, BatchEntry } from '../../src/process/writeBatch';
import { refreshPlannerStatistics } from '../../src/store/plannerStatistics';
import { finishDelivery, startDelivery } from '../../src/deliveries/deliveryRecord';
import { TEST_POSTGRES_URL } from '../support/testEnv';
import { exportEvent, UUID_SLOT } from './exportEvents';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1];
}

/** A statement's kind: its verb and table, the values left out. */
function statementKind(sql: string): string {
  const text = sql.replace(/\s+/g, ' ').trim();
  const verb = /^(\w+)/.exec(text)?.[1].toUpperCase() ?? '?';
  const table = /(?:into|from|update|join)\s+["`]?(\w+)/i.exec(text)?.[1] ?? '';
  if (/pg_advisory_xact_lock/.test(text)) return 'SELECT pg_advisory_xact_lock (lock round)';
  if (/^select .* union /i.test(text)) return `SELECT ${table} (union)`;
  return `${verb} ${table}`.trim();
}

async function main(): Promise<void> {
  const dialect = option('--db', 'sqlite');
  const perBatch = Number(option('--events', '200'));
  const batches = Number(option('--batches', '50'));
  const users = Number(option('--users', '1000'));
  const schema = `stmt_${crypto.randomBytes(4).toString('hex')}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'activityd-stmt-'));
  const databaseUrl = dialect === 'postgres' ? `${process.env.BENCH_POSTGRES_URL ?? TEST_POSTGRES_URL}?schema=${schema}` : path.join(dir, 'stmt.sqlite');
  const db = openDatabase(loadConfig({ DATABASE_URL: databaseUrl }));
  try {
    await migrateToLatest(db);
    const { id: tenantId } = await createTenant(db, 'stmt');
    const started = new Map<string, bigint>();
    const totals = new Map<string, { calls: number; ns: bigint }>();
    let measuring = false;
    db.on('query', (query: { __knexQueryUid: string }) => started.set(query.__knexQueryUid, process.hrtime.bigint()));
    db.on('query-response', (_response: unknown, query: { __knexQueryUid: string; sql: string }) => {
      const begun = started.get(query.__knexQueryUid);
      started.delete(query.__knexQueryUid);
      if (!measuring || begun === undefined) return;
      const kind = statementKind(query.sql);
      const total = totals.get(kind) ?? { calls: 0, ns: 0n };
      total.calls += 1;
      total.ns += process.hrtime.bigint() - begun;
      totals.set(kind, total);
    });
    let n = 0;
    const batch = (): BatchEntry[] =>
      Array.from({ length: perBatch }, () => {
        const raw = JSON.parse(JSON.stringify(exportEvent('statement-times', n++, users || Number.MAX_SAFE_INTEGER)).replaceAll(UUID_SLOT, crypto.randomUUID()));
        const receivedAt = Date.now();
        const start = startDelivery('analytics', 'bench', receivedAt);
        const delivery = { id: start.id, indexes: [0], record: finishDelivery(start, tenantId, 202, 1, []) };
        return { tenantId, receivedAt, events: [toActivityEvent(amplitudeFields(raw, DEFAULT_SETTINGS), receivedAt)], delivery };
      });
    // Warm-up: every person and company exists afterwards, as in a steady stream.
    for (let i = 0; i < Math.ceil(users / perBatch) + 1; i++) await writeBatch(db, batch());
    // As the worker's statistics keeper would after such a load: planned as empty tables, the batch's reads scanned them.
    await refreshPlannerStatistics(db);
    measuring = true;
    let wallNs = 0n;
    for (let i = 0; i < batches; i++) {
      const entries = batch();
      const begun = process.hrtime.bigint();
      await writeBatch(db, entries);
      wallNs += process.hrtime.bigint() - begun;
    }
    const ms = (ns: bigint) => Number(ns) / 1e6 / batches;
    let sqlNs = 0n;
    process.stdout.write(`${dialect}: ${batches} batches of ${perBatch} single-event jobs (Amplitude export records, ${users ? `${users} people` : 'each a new person'}), per batch:\n`);
    for (const [kind, total] of [...totals].sort((a, b) => Number(b[1].ns - a[1].ns))) {
      sqlNs += total.ns;
      process.stdout.write(`  ${ms(total.ns).toFixed(2).padStart(8)} ms  ${(total.calls / batches).toFixed(1).padStart(5)} x  ${kind}\n`);
    }
    process.stdout.write(`  ${ms(wallNs - sqlNs).toFixed(2).padStart(8)} ms          the rest (JavaScript in writeBatch)\n`);
    process.stdout.write(`  ${ms(wallNs).toFixed(2).padStart(8)} ms          in all: ${Math.round((perBatch * batches * 1e9) / Number(wallNs)).toLocaleString('en-US')} events/s\n`);
    if (process.argv.includes('--explain') && dialect === 'postgres') await explainInsert(db, tenantId, perBatch);
  } finally {
    if (dialect === 'postgres') await db.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The activities insert of `count` rows passed as json and as jsonb (medians of 5, rolled back): the statement's
 * time as the worker waits for it (which includes PostgreSQL reading the parameter as json or jsonb) and the
 * executor's share of it, of which reading the rows out of the parameter.
 */
async function explainInsert(db: Db, tenantId: number, count: number): Promise<void> {
  const userId = (await db('end_users').where({ tenant_id: tenantId }).first('id')).id as number;
  const columns = ['tenant_id', 'end_user_id', 'action', 'date', 'count', 'weight', 'info', 'insert_id', 'received_at', 'stored_at', 'delivery_id', 'delivery_index'];
  const names = columns.map((column) => `"${column}"`).join(', ');
  const rows = () => Array.from({ length: count }, (_, i) => ({
    tenant_id: tenantId, end_user_id: userId, action: 'explain', date: Date.now(), count: 1, weight: 1, info: exportEvent('explain', i, 1000),
    insert_id: crypto.randomUUID(), received_at: Date.now(), stored_at: Date.now(), delivery_id: crypto.randomUUID(), delivery_index: 0,
  }));
  for (const type of ['json', 'jsonb']) {
    const times: Array<{ statement: number; execution: number; scan: number }> = [];
    for (let round = 0; round < 5; round++) {
      const parameter = JSON.stringify(rows());
      await db.transaction(async (trx) => {
        const begun = process.hrtime.bigint();
        const { rows: [plan] } = await trx.raw(
          `EXPLAIN (ANALYZE, FORMAT JSON) INSERT INTO activities (${names}) SELECT ${names} FROM ${type}_populate_recordset(NULL::activities, ?::${type}) ON CONFLICT (tenant_id, insert_id) DO NOTHING`,
          [parameter],
        );
        const [result] = plan['QUERY PLAN'];
        times.push({ statement: Number(process.hrtime.bigint() - begun) / 1e6, execution: result['Execution Time'], scan: result.Plan.Plans[0]['Actual Total Time'] });
        await trx.rollback();
      }).catch(() => undefined);
    }
    const median = (values: number[]) => values.sort((a, b) => a - b)[2];
    const [statement, execution, scan] = (['statement', 'execution', 'scan'] as const).map((key) => median(times.map((time) => time[key])).toFixed(1));
    process.stdout.write(`  ${count} rows as ${type}: the statement ${statement} ms; executing it ${execution} ms, of which reading the rows (${type}_populate_recordset) ${scan} ms\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
