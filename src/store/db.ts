/** Opens the database named by DATABASE_URL: SQLite (WAL, busy timeout, one connection) or PostgreSQL (a pool, a schema). */
import fs from 'node:fs';
import path from 'node:path';
import knex, { Knex } from 'knex';
import type { Config } from '../../config';

export type Db = Knex;
export type Dialect = 'sqlite' | 'postgres';

export function dialectOf(db: Db): Dialect {
  return db.client.config.client === 'pg' ? 'postgres' : 'sqlite';
}

/** The PostgreSQL schema activityd's tables (and knex's migration tables) live in; undefined on SQLite. */
export function schemaOf(db: Db): string | undefined {
  return dialectOf(db) === 'postgres' ? (db.client.config.searchPath as string[])[0] : undefined;
}

interface PgConnection {
  query(sql: string, values: unknown[], cb: (err: (Error & { code?: string }) | null, result: { rowCount: number | null }) => void): void;
  setTypeParser(oid: number, format: 'text', parse: (text: string) => unknown): void;
}

const INT8_OID = 20;

/**
 * bigint (ids, epoch milliseconds, counts) reads as a number, as SQLite's driver reads its integers, while a number
 * holds it exactly (below 2^53, 9 quadrillion); beyond, as its exact decimal text rather than a number that is off.
 * pg's default, text for every bigint, would make ids strings that never equal the numbers the worker compares.
 */
export function readInt8(text: string): number | string {
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : text;
}

/**
 * Creates the schema only when it is missing: CREATE SCHEMA needs the CREATE privilege on the database even with
 * IF NOT EXISTS, which a least-privilege role that was given its schema does not have. Two processes creating it at
 * the same moment may collide on the catalog's unique index (23505); the schema then exists, which is all we need.
 */
function ensureSchema(conn: PgConnection, schema: string, done: (err: Error | null) => void): void {
  conn.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema], (err, result) => {
    if (err || (result.rowCount ?? 0) > 0) return done(err);
    conn.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`, [], (createErr) => done(createErr && createErr.code !== '23505' ? createErr : null));
  });
}

/**
 * compileSqlOnError: false keeps knex from writing the bound values into an error's message: those are people's
 * emails, names and info, and the message travels on into job failure reasons in Redis, the delivery log and logs.
 */
export function openDatabase(config: Pick<Config, 'DATABASE_URL' | 'DB_BUSY_TIMEOUT_MS' | 'DB_POOL_MAX'>): Db {
  const target = config.DATABASE_URL;
  if (target.client === 'postgres') {
    return knex({
      client: 'pg',
      // A connection that cannot be made is an error its caller reports (one line at start-up); knex would also print it, with its stack.
      log: { warn: (message: string) => void (message.startsWith('Acquire connection error') || console.warn(message)) },
      connection: { connectionString: target.connectionString },
      searchPath: [target.schema],
      compileSqlOnError: false,
      pool: {
        min: 0,
        max: config.DB_POOL_MAX,
        afterCreate: (conn: PgConnection, done: (err: Error | null, conn: unknown) => void) => {
          conn.setTypeParser(INT8_OID, 'text', readInt8);
          ensureSchema(conn, target.schema, (err) => done(err, conn));
        },
      },
      acquireConnectionTimeout: 10000,
    });
  }
  ensureDatabaseFolder(target.filename);
  return knex({
    client: 'sqlite3',
    connection: { filename: target.filename },
    useNullAsDefault: true,
    compileSqlOnError: false,
    // One connection: SQLite has one writer anyway, and transactions must not interleave with other queries.
    pool: {
      min: 1,
      max: 1,
      afterCreate: (conn: { run: (sql: string, cb: (err: Error | null) => void) => void }, done: (err: Error | null, conn: unknown) => void) => {
        conn.run('PRAGMA journal_mode = WAL', (walError) => {
          if (walError) return done(walError, conn);
          conn.run(`PRAGMA busy_timeout = ${config.DB_BUSY_TIMEOUT_MS}`, (busyError) => {
            if (busyError) return done(busyError, conn);
            conn.run('PRAGMA foreign_keys = ON', (fkError) => done(fkError, conn));
          });
        });
      },
    },
    acquireConnectionTimeout: 60000,
  });
}

/**
 * The database's folder is made when its parent exists (a new install's `data/`), never a whole path: a typo in
 * DATABASE_URL would otherwise make a fresh empty database (and a new default tenant) somewhere, and every sender
 * would get 401 from it.
 */
function ensureDatabaseFolder(filename: string): void {
  const folder = path.dirname(path.resolve(filename));
  const found = fs.statSync(folder, { throwIfNoEntry: false });
  if (found?.isDirectory()) return;
  if (found) throw new Error(`${folder} of DATABASE_URL is not a folder`);
  if (!fs.statSync(path.dirname(folder), { throwIfNoEntry: false })?.isDirectory()) throw new Error(`the folder ${folder} of DATABASE_URL does not exist, nor its parent: create it, or correct the path`);
  fs.mkdirSync(folder);
}

/** Whether the database answers a query: the readiness probe's question. */
export async function pingDatabase(db: Db): Promise<void> {
  await db.raw('SELECT 1');
}
