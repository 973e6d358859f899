/** Starts one of activityd's processes (`start`: receiver and worker; `receiver`; `worker`) and keeps it until a signal stops it. */
import type { Config } from '../../config';
import { createLogger } from '../log';
import { openDatabase } from '../store/db';
import { assertSchemaCurrent, migrateToLatest } from '../store/migrate';
import { startDaemon } from './daemon';
import { createDefaultTenantIfEmpty, DefaultTenant, firstStartMessage } from './defaultTenant';
import { adminTokenMessage } from './adminTokenBanner';
import { createAdminTokenIfNone } from '../admin/adminCredential';
import { announceReady, stopOnSignals } from './signals';
import { describeDatabase, StartAborted, startupStep } from './startupFailure';

export type DaemonRole = 'start' | 'receiver' | 'worker';

export async function runDaemon(config: Config, role: DaemonRole): Promise<void> {
  const log = createLogger(config, role === 'start' ? 'activityd' : `activityd-${role}`);
  const database = `the database (${describeDatabase(config.DATABASE_URL)}, DATABASE_URL)`;
  const db = await startupStep(`${database} cannot be opened`, () => openDatabase(config));
  let defaultTenant: DefaultTenant | undefined;
  let adminToken: string | undefined;
  try {
    await startupStep(`${database} is not usable`, async () => {
      if (role !== 'start') return assertSchemaCurrent(db);
      const applied = await migrateToLatest(db);
      if (applied.length > 0) log.info({ applied }, 'database migrated');
    });
    if (role === 'start') defaultTenant = await createDefaultTenantIfEmpty(db, config);
    // Of several processes starting at once on one database, only the one whose row went in shows a token.
    if (role === 'start' && !config.ADMIN_TOKEN) adminToken = await createAdminTokenIfNone(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const aborted = new AbortController();
  const starting = startDaemon(config, db, log, role, aborted.signal);
  // Signals are handled from the first moment: one arriving during start-up stops what has started, and nothing more starts.
  stopOnSignals(log, config.SHUTDOWN_TIMEOUT_MS, async (step) => {
    aborted.abort();
    step('the start (waiting for it to finish)');
    const daemon = await starting.catch(() => undefined);
    // Draining gets nine tenths of the time: handing jobs back and closing connections need the rest.
    await daemon?.stop(Math.floor(config.SHUTDOWN_TIMEOUT_MS * 0.9), step);
    step('closing the database');
    await db.destroy();
  });
  // Tokens are shown once, so they are shown even when the start fails (with the port asked for, then).
  const showToken = (port: number) => {
    if (defaultTenant) process.stdout.write(firstStartMessage(defaultTenant, config, port) + '\n');
    if (adminToken) process.stdout.write(adminTokenMessage(adminToken, config, port) + '\n');
  };
  const daemon = await starting.catch(async (error) => {
    showToken(config.PORT);
    // Stopped by a signal: its handler closes the database and exits.
    if (error instanceof StartAborted) return undefined;
    await db.destroy();
    throw error;
  });
  if (!daemon) return;
  showToken(daemon.receiverPort ?? config.PORT);
  // After any token message: a watcher (pm2, a test) that sees this line has seen everything the start prints.
  log.info('ready');
  announceReady();
}
