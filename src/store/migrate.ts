/** Migrations always run from their compiled form (dist/migrations/*.js), so knex's list never mixes .ts and .js names. */
import path from 'node:path';
import { schemaOf, Db } from './db';

/**
 * On PostgreSQL knex's own tables (knex_migrations and its lock) live in activityd's schema, named explicitly:
 * each schema (a deployment, a test run) has its own migration history, whatever the role's search_path says.
 */
export function migrationConfig(db: Db) {
  return {
    directory: path.resolve(__dirname, '../../migrations'),
    loadExtensions: ['.js'],
    tableName: 'knex_migrations',
    schemaName: schemaOf(db),
  };
}

export async function migrateToLatest(db: Db): Promise<string[]> {
  const [, applied] = await db.migrate.latest(migrationConfig(db));
  return applied as string[];
}

export async function pendingMigrations(db: Db): Promise<string[]> {
  const [, pending] = await db.migrate.list(migrationConfig(db));
  return (pending as Array<{ file: string }>).map((migration) => migration.file);
}

export class SchemaBehindError extends Error {}

/** Receivers and workers started on their own do not migrate (that is once per deploy): they refuse an old schema. */
export async function assertSchemaCurrent(db: Db): Promise<void> {
  const pending = await pendingMigrations(db);
  if (pending.length > 0) {
    throw new SchemaBehindError(`the database schema is behind (${pending.length} pending migration(s)); run "activityd migrate" first`);
  }
}
