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

export function openDatabase(config: Pick<Config, 'DATABASE_URL' | 'DB_BUSY_TIMEOUT_MS' | 'DB_POOL_MAX'>): Db {
  const target = config.DATABASE_URL;
  if (target.client === 'postgres') {
    return knex({
      client: 'pg',
      connection: { connectionString: target.connectionString },
      searchPath: [target.schema],
      pool: {
        min: 0,
        max: config.DB_POOL_MAX,
        afterCreate: (conn: { query: (sql: string, cb: (err: Error | null) => void) => void }, done: (err: Error | null, conn: unknown) => void) => {
          conn.query(`CREATE SCHEMA IF NOT EXISTS "${target.schema}"`, (err) => done(err, conn));
        },
      },
      acquireConnectionTimeout: 10000,
    });
  }
  fs.mkdirSync(path.dirname(target.filename), { recursive: true });
  return knex({
    client: 'sqlite3',
    connection: { filename: target.filename },
    useNullAsDefault: true,
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
