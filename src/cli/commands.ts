/** The CLI verbs. Long-running verbs return -1 and keep the process alive until a signal stops them. */
import type { Config } from '../../config';
import { createLogger } from '../log';
import { openDatabase, Db } from '../store/db';
import { assertSchemaCurrent, migrateToLatest } from '../store/migrate';
import { getTenant, listTenants } from '../store/tenants';
import { changeTenantSettings, createTenant, getTenantSettings, rotateTenantToken, setTenantEnabled, TenantError } from '../tenants/tenantAccounts';
import { SettingError } from '../tenants/settings';
import { startDaemon } from '../daemon/daemon';
import { openQueueHandle, QueueHandle } from '../daemon/queueHandle';
import { discardFailed, listFailed, queueStatus, retryFailed } from './queueCommands';
import { importCsv } from './importCommand';
import { createDefaultTenantIfEmpty } from '../daemon/defaultTenant';
import { announceReady, stopOnSignals } from '../daemon/signals';
import { describeDatabase, startupStep } from '../daemon/startupFailure';

export class UsageError extends Error {}

export const USAGE = `Usage: activityd <command>

  start                    receiver and worker in one process (migrates first; creates tenant "default" on first start)
  receiver                 the HTTP receiver only
  worker                   the queue worker only
  migrate                  bring the database schema up to date
  tenant create NAME       create a tenant; prints {"id","name","token"}
  tenant list              list tenants (no tokens)
  tenant enable ID         accept events for the tenant again
  tenant disable ID        refuse the tenant's events with 403
  tenant rotate-token ID   print a new token; the old one stops working
  tenant show ID           print the tenant and its settings (mappings, filters)
  tenant set ID key=value ...
                           change settings: externalId, email, name, companyExternalId, assetExternalId,
                           projectExternalId (Amplitude property paths), companyGroupType, autoCreateCompanies,
                           allowDeviceOnlyEvents, includeActions, excludeActions (comma-separated, * globs);
                           an empty value resets a key to its default

  status [--json]          queue counts, oldest waiting job's age, events stored in the last minute
  failed list [--limit N]  failed jobs (default the 100 most recent)
  failed retry --all | ID...
                           put failed jobs back in the queue (their events keep their insertIds)
  failed discard --all | ID...
                           delete failed jobs
  import companies|assets|projects FILE.csv --tenant ID
                           upsert from a CSV with a header row (externalId,name,domains or companyExternalId)

Settings come from environment variables; see README.md.
`;

function tenantId(text: string | undefined): number {
  if (text === undefined || !/^\d{1,15}$/.test(text)) throw new UsageError(`tenant ID must be a whole number, got ${text === undefined ? 'nothing' : `"${text}"`}`);
  return Number(text);
}

function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

async function withDatabase<T>(config: Config, work: (db: Db) => Promise<T>): Promise<T> {
  const db = openDatabase(config);
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

export async function runCommand(config: Config, argv: string[]): Promise<number> {
  const [command, sub, arg, ...rest] = argv;
  switch (command) {
    case 'start':
    case 'receiver':
    case 'worker':
      if (sub !== undefined) throw new UsageError(`"${command}" takes no arguments`);
      await runDaemon(config, command);
      return -1;
    case 'migrate': {
      const applied = await withDatabase(config, migrateToLatest);
      printJson({ applied });
      return 0;
    }
    case 'tenant':
      return runTenantCommand(config, sub, arg, rest);
    case 'status':
      return runStatus(config, argv.slice(1));
    case 'failed':
      return runFailedCommand(config, argv.slice(1));
    case 'import':
      return runImport(config, argv.slice(1));
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

function settingChanges(assignments: string[]): Record<string, string> {
  if (assignments.length === 0) throw new UsageError('tenant set needs at least one key=value');
  const changes: Record<string, string> = {};
  for (const assignment of assignments) {
    const equals = assignment.indexOf('=');
    if (equals <= 0) throw new UsageError(`"${assignment}" is not key=value`);
    changes[assignment.slice(0, equals)] = assignment.slice(equals + 1);
  }
  return changes;
}

async function runTenantCommand(config: Config, sub: string | undefined, arg: string | undefined, rest: string[]): Promise<number> {
  if (rest.length > 0 && sub !== 'set') throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  return withDatabase(config, async (db) => {
    await assertSchemaCurrent(db);
    switch (sub) {
      case 'create': {
        if (arg === undefined) throw new UsageError('tenant create needs a NAME');
        const tenant = await createTenant(db, arg);
        printJson({ id: tenant.id, name: tenant.name, token: tenant.token });
        return 0;
      }
      case 'list':
        if (arg !== undefined) throw new UsageError('tenant list takes no arguments');
        printJson(await listTenants(db));
        return 0;
      case 'enable':
      case 'disable':
        printJson(await setTenantEnabled(db, tenantId(arg), sub === 'enable'));
        return 0;
      case 'rotate-token':
        printJson(await rotateTenantToken(db, tenantId(arg)));
        return 0;
      case 'show': {
        const id = tenantId(arg);
        const tenant = await getTenant(db, id);
        if (!tenant) throw new TenantError(`no tenant with id ${id}`, 'not_found');
        printJson({ ...tenant, settings: await getTenantSettings(db, id) });
        return 0;
      }
      case 'set': {
        const id = tenantId(arg);
        try {
          printJson({ id, settings: await changeTenantSettings(db, id, settingChanges(rest)) });
        } catch (error) {
          if (error instanceof SettingError) throw new UsageError(error.message);
          throw error;
        }
        return 0;
      }
      default:
        throw new UsageError(`unknown tenant command "${sub ?? ''}": use create, list, show, set, enable, disable or rotate-token`);
    }
  });
}

async function runDaemon(config: Config, role: 'start' | 'receiver' | 'worker'): Promise<void> {
  const log = createLogger(config, role === 'start' ? 'activityd' : `activityd-${role}`);
  const database = `the database (${describeDatabase(config.DATABASE_URL)}, DATABASE_URL)`;
  const db = await startupStep(`${database} cannot be opened`, () => openDatabase(config));
  try {
    await startupStep(`${database} is not usable`, async () => {
      if (role !== 'start') return assertSchemaCurrent(db);
      const applied = await migrateToLatest(db);
      if (applied.length > 0) log.info({ applied }, 'database migrated');
    });
    if (role === 'start') {
      const announcement = await createDefaultTenantIfEmpty(db, config);
      if (announcement) process.stdout.write(announcement + '\n');
    }
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const starting = startDaemon(config, db, log, role);
  // Signals are handled from the first moment: one arriving during start-up stops what has started.
  stopOnSignals(log, async () => {
    const daemon = await starting.catch(() => undefined);
    await daemon?.stop(config.SHUTDOWN_TIMEOUT_MS);
    await db.destroy();
  });
  await starting.catch(async (error) => {
    await db.destroy();
    throw error;
  });
  announceReady();
}

/** Splits `--flag value` options from positional words; unknown flags are usage errors. */
function options(args: string[], known: { flags?: string[]; values?: string[] }) {
  const positional: string[] = [];
  const flags = new Set<string>();
  const values: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) positional.push(arg);
    else if (known.flags?.includes(arg)) flags.add(arg);
    else if (known.values?.includes(arg)) {
      if (args[i + 1] === undefined) throw new UsageError(`${arg} needs a value`);
      values[arg] = args[++i];
    } else throw new UsageError(`unknown option ${arg}`);
  }
  return { positional, flags, values };
}

async function withQueue<T>(config: Config, work: (handle: QueueHandle, db: Db) => Promise<T>): Promise<T> {
  return withDatabase(config, async (db) => {
    await assertSchemaCurrent(db);
    const handle = await openQueueHandle(config, createLogger({ LOG_LEVEL: 'silent' }, 'activityd-cli'));
    try {
      if (handle.redis.status !== 'ready') throw new Error(`Redis at ${config.REDIS_URL.display} is not answering`);
      return await work(handle, db);
    } finally {
      await handle.close();
    }
  });
}

async function runStatus(config: Config, args: string[]): Promise<number> {
  const { positional, flags } = options(args, { flags: ['--json'] });
  if (positional.length > 0) throw new UsageError('status takes no arguments');
  const status = await withQueue(config, (handle, db) => queueStatus(handle.queue, db));
  if (flags.has('--json')) printJson(status);
  else {
    const age = status.oldestWaitingAgeSeconds === null ? '-' : `${status.oldestWaitingAgeSeconds} s`;
    process.stdout.write(
      [
        `queue        waiting ${status.queue.waiting}  active ${status.queue.active}  delayed ${status.queue.delayed}  failed ${status.queue.failed}`,
        `oldest wait  ${age}`,
        `stored       ${status.storedLastMinute} in the last minute (${status.storedPerSecondLastMinute}/s)`,
        '',
      ].join('\n'),
    );
  }
  return 0;
}

async function runFailedCommand(config: Config, args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === 'list') {
    const { positional, values } = options(rest, { values: ['--limit'] });
    if (positional.length > 0) throw new UsageError('failed list takes no arguments besides --limit N');
    const limit = values['--limit'] === undefined ? 100 : Number(values['--limit']);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100000) throw new UsageError('--limit must be a whole number from 1 to 100000');
    printJson(await withQueue(config, (handle) => listFailed(handle.queue, limit, config.JOB_ENCRYPTION_KEY)));
    return 0;
  }
  if (verb === 'retry' || verb === 'discard') {
    const { positional, flags } = options(rest, { flags: ['--all'] });
    const all = flags.has('--all');
    if (all === (positional.length > 0)) throw new UsageError(`failed ${verb} takes --all or job IDs (not both)`);
    const act: (queue: QueueHandle['queue'], ids: string[], all: boolean) => Promise<{ notFailed: string[] }> = verb === 'retry' ? retryFailed : discardFailed;
    const result = await withQueue(config, (handle) => act(handle.queue, positional, all));
    printJson(result);
    return result.notFailed.length > 0 ? 1 : 0;
  }
  throw new UsageError(`unknown failed command "${verb ?? ''}": use list, retry or discard`);
}

async function runImport(config: Config, args: string[]): Promise<number> {
  const { positional, values } = options(args, { values: ['--tenant'] });
  const [kind, file] = positional;
  if (kind !== 'companies' && kind !== 'assets' && kind !== 'projects') throw new UsageError('import takes companies, assets or projects');
  if (file === undefined || positional.length > 2) throw new UsageError(`import ${kind} needs one FILE.csv`);
  const id = tenantId(values['--tenant']);
  return withDatabase(config, async (db) => {
    await assertSchemaCurrent(db);
    if (!(await getTenant(db, id))) throw new TenantError(`no tenant with id ${id}`, 'not_found');
    const summary = await importCsv(db, kind, file, id);
    printJson(summary);
    return summary.refused.length > 0 ? 1 : 0;
  });
}
