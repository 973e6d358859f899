/** `activityd start|receiver|worker|migrate`: the daemon's processes, and the schema they need. */
import type { DaemonRole } from '../daemon/runDaemon';
import { printJson, withDatabase } from './runtime';
import type { Verb } from './verb';

const RUNS_UNTIL_STOPPED = 'It runs until SIGINT or SIGTERM, then stops within SHUTDOWN_TIMEOUT_MS. A start that fails exits 1 with one line on stderr naming what failed.';

function daemonVerb(role: DaemonRole, summary: string, details: string): Verb {
  return {
    words: [role],
    summary,
    details: `${details} ${RUNS_UNTIL_STOPPED}`,
    async run(config) {
      // Loaded here, not at the top: the daemon's modules take a second of CPU that --help should not pay.
      const { runDaemon } = await import('../daemon/runDaemon.js');
      await runDaemon(config, role);
      return -1;
    },
  };
}

export const daemonVerbs: Verb[] = [
  daemonVerb(
    'start',
    'receiver and worker in one process',
    'Migrates the database first, creates tenant "default" if there is no tenant yet, and, unless ADMIN_TOKEN is set, the admin token of the board and the admin API if none is stored (printing each token once, with its URLs).',
  ),
  daemonVerb('receiver', 'the HTTP receiver only', 'The database schema must be current (run "activityd migrate" first).'),
  daemonVerb('worker', 'the queue worker only', 'The database schema must be current (run "activityd migrate" first).'),
  {
    words: ['migrate'],
    summary: 'bring the database schema up to date',
    details: 'Prints {"applied":[...]}, the migrations it ran (none when the schema was current).',
    async run(config) {
      const { migrateToLatest } = await import('../store/migrate.js');
      printJson({ applied: await withDatabase(config, migrateToLatest) });
      return 0;
    },
  },
];
