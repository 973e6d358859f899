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

export const TRIMMED_DATA = '{"events":"removed once stored"}';

// Scans the whole completed set: COMPLETED_JOBS_KEPT (at most 10,000) bounds it. The data is never read into the
// script (a 150 KB job would cost Redis 0.2 ms to copy; replacing it costs 0.01 ms): only its length is.
const TRIM_SCRIPT = `
local trimmed = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. id
  if redis.call('HSTRLEN', key, 'data') > #ARGV[2] then
    redis.call('HSET', key, 'data', ARGV[2])
    trimmed = trimmed + 1
  end
end
return trimmed`;

/** Trims the completed jobs' data once; resolves to how many it trimmed. */
export async function trimCompletedJobs(redis: RedisClient, prefix: string): Promise<number> {
  const jobKey = `${prefix}:${INGEST_QUEUE}:`;
  return (await redis.eval(TRIM_SCRIPT, 1, `${jobKey}completed`, jobKey, TRIMMED_DATA)) as number;
}

export interface CompletedJobsTrimmer {
  /** Resolves once a trim under way has ended, so the connection can close after it. */
  stop(): Promise<void>;
}

export function startCompletedJobsTrimmer(redis: RedisClient, prefix: string): CompletedJobsTrimmer {
  // Redis unreachable: the next round tries again, and the queue handle already says Redis is down.
  const trim = () => trimCompletedJobs(redis, prefix).catch(() => 0);
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
