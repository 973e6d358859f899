/**
 * Completed jobs are kept for the board (COMPLETED_JOBS_KEPT), but their events are not: BullMQ keeps a job's
 * data until the job is removed, and a job holds up to JOB_MAX_EVENTS events of up to MAX_EVENT_BYTES each. BullMQ
 * has no option to drop data on completion, and doing it per job would cost each job a Redis round trip, so each
 * worker process replaces the data of the completed jobs with a note once a second, in one script. What the board
 * shows of a kept job stays: its name (the tenant, see enqueue.ts), when it was added and finished, its outcome.
 */
import type { RedisClient } from './redis';
import { INGEST_QUEUE } from './ingestQueue';
import { withTimeout } from '../timeouts';

const TRIM_EVERY_MS = 1000;
/** Each round looks at the jobs finished in the last seconds (scored by their worker's clock, so with a margin for clocks apart)... */
const RECENT_MS = 10_000;
/** ...and every minute at all of them, which also catches a job finished on a clock further behind. */
const FULL_SCAN_EVERY = 60;

export const TRIMMED_DATA = '{"events":"removed once stored"}';

// The completed set is scored by finishing time. The data is never read into the script (a 150 KB job would cost
// Redis 0.2 ms to copy; replacing it costs 0.01 ms): only its length is.
const TRIM_SCRIPT = `
local trimmed = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[3], '+inf')) do
  local key = ARGV[1] .. id
  if redis.call('HSTRLEN', key, 'data') > #ARGV[2] then
    redis.call('HSET', key, 'data', ARGV[2])
    trimmed = trimmed + 1
  end
end
return trimmed`;

/** Trims the data of the completed jobs finished since `since` (ms; 0: all of them) once; resolves to how many it trimmed. */
export async function trimCompletedJobs(redis: RedisClient, prefix: string, since = 0): Promise<number> {
  const jobKey = `${prefix}:${INGEST_QUEUE}:`;
  return (await redis.eval(TRIM_SCRIPT, 1, `${jobKey}completed`, jobKey, TRIMMED_DATA, since)) as number;
}

export interface CompletedJobsTrimmer {
  /** Resolves once a trim under way has ended, so the connection can close after it. */
  stop(): Promise<void>;
}

export function startCompletedJobsTrimmer(redis: RedisClient, prefix: string): CompletedJobsTrimmer {
  // Redis unreachable: the next round tries again, and the queue handle already says Redis is down.
  let round = 0;
  const trim = () => trimCompletedJobs(redis, prefix, round++ % FULL_SCAN_EVERY === 0 ? 0 : Date.now() - RECENT_MS).catch(() => 0);
  let running: Promise<number> = Promise.resolve(0);
  const timer = setInterval(() => (running = trim()), TRIM_EVERY_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
      // The jobs completed during the stop's drain; a slow Redis holds the stop a second at most.
      await withTimeout(trim(), 1000, 'trimming completed jobs').catch(() => 0);
    },
  };
}
