/**
 * `npm test`: the whole mocha suite on SQLite, then again on PostgreSQL when one answers at TEST_POSTGRES_URL.
 * A new user with only Redis still gets a green run (the PostgreSQL run is skipped, and the output says so);
 * CI sets TEST_REQUIRE_POSTGRES=1, so there a PostgreSQL that does not answer fails the run instead.
 * The last line is the sum of both runs in the reporter's "mocha: N passed, N failed, N skipped" form.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import knex from 'knex';
import { TEST_POSTGRES_URL } from './testEnv';
import { reapLeftovers, RUN_MARK } from './leftovers';

/** Marks every process this run's tests start, so the ones still alive at the end can be found. */
const RUN_ID = crypto.randomBytes(8).toString('hex');

interface Totals {
  passed: number;
  failed: number;
  skipped: number;
}

const SUMMARY = /^mocha: (\d+) passed, (\d+) failed, (\d+) skipped$/m;

/** The whole suite, unless the arguments name test files (`npm test -- dist/test/receiver.test.js`). */
const ALL_TESTS = 'dist/test/**/*.test.js';
const mochaArguments = process.argv.slice(2).some((argument) => argument.endsWith('.js')) ? process.argv.slice(2) : [ALL_TESTS, ...process.argv.slice(2)];

/** Every process group mocha ran in, so that what the tests left in them can be found. */
const mochaGroups: number[] = [];

/**
 * Runs mocha with TEST_DATABASE set (and this script's arguments, so `npm test -- --grep X` or `npm test -- dist/test/FILE.test.js` works), passing its
 * output through; resolves with its exit code and summary. Mocha leads a process group of its own, which is how
 * the processes its tests start are found afterwards; a signal to this runner is passed on to that group.
 */
function runMocha(database: 'sqlite' | 'postgres'): Promise<{ code: number; totals?: Totals }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [require.resolve('mocha/bin/mocha.js'), ...mochaArguments], {
      env: { ...process.env, TEST_DATABASE: database, [RUN_MARK]: RUN_ID },
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    if (child.pid !== undefined) mochaGroups.push(child.pid);
    const passOn = (signal: NodeJS.Signals) => {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    };
    process.on('SIGINT', passOn).on('SIGTERM', passOn);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', passOn).off('SIGTERM', passOn);
      const match = SUMMARY.exec(output.slice(-500));
      const totals = match ? { passed: Number(match[1]), failed: Number(match[2]), skipped: Number(match[3]) } : undefined;
      resolve({ code: code ?? (signal ? 1 : 0), totals });
    });
  });
}

/** Why PostgreSQL cannot be used, or undefined when it answers a query. */
async function postgresProblem(url: string): Promise<string | undefined> {
  const quiet = () => undefined; // the reason is reported once, below, not as knex's stack trace
  const db = knex({
    client: 'pg',
    connection: { connectionString: url, connectionTimeoutMillis: 3000 },
    pool: { min: 0, max: 1 },
    acquireConnectionTimeout: 4000,
    log: { warn: quiet, error: quiet, debug: quiet, deprecate: quiet },
  });
  try {
    await db.raw('SELECT 1');
    return undefined;
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    await db.destroy();
  }
}

function banner(text: string): void {
  process.stdout.write(`\n==== ${text} ====\n`);
}

async function main(): Promise<number> {
  const lines: string[] = [];
  const sum: Totals = { passed: 0, failed: 0, skipped: 0 };
  let code = 0;
  const record = (name: string, run: { code: number; totals?: Totals }) => {
    if (run.code !== 0) code = 1;
    if (run.totals) {
      sum.passed += run.totals.passed;
      sum.failed += run.totals.failed;
      sum.skipped += run.totals.skipped;
    }
    lines.push(`${name}: ${run.totals ? `${run.totals.passed} passed, ${run.totals.failed} failed, ${run.totals.skipped} skipped` : `no summary (exit code ${run.code})`}`);
  };
  // Anything a test started must be stopped by it, also when it fails: a process still alive after mocha would outlive CI.
  const checkLeftovers = async (name: string) => {
    const leftovers = await reapLeftovers(RUN_ID, mochaGroups, 10000);
    if (leftovers.length === 0) return;
    code = 1;
    lines.push(`${name}: FAILED, ${leftovers.length} process(es) started by the tests were still running after them (now killed):`);
    for (const { pid, command } of leftovers) lines.push(`  pid ${pid}: ${command.slice(0, 200)}`);
  };

  banner('the suite on SQLite');
  record('SQLite', await runMocha('sqlite'));
  await checkLeftovers('SQLite');

  const safeUrl = TEST_POSTGRES_URL.replace(/\/\/[^@/]*@/, '//...@');
  const problem = await postgresProblem(TEST_POSTGRES_URL);
  if (problem === undefined) {
    banner(`the suite on PostgreSQL (${safeUrl})`);
    record('PostgreSQL', await runMocha('postgres'));
    await checkLeftovers('PostgreSQL');
  } else if (process.env.TEST_REQUIRE_POSTGRES === '1') {
    code = 1;
    lines.push(`PostgreSQL: FAILED, TEST_REQUIRE_POSTGRES=1 but PostgreSQL does not answer at ${safeUrl}: ${problem}`);
  } else {
    lines.push(`PostgreSQL: SKIPPED, nothing answers at ${safeUrl} (${problem}); start PostgreSQL or set TEST_POSTGRES_URL to run the suite there too`);
  }

  banner('both databases');
  process.stdout.write(`${lines.join('\n')}\nmocha: ${sum.passed} passed, ${sum.failed} failed, ${sum.skipped} skipped\n`);
  return code;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
