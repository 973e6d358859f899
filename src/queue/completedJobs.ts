/**
 * Completed jobs are kept for the board (COMPLETED_JOBS_KEPT), but their events are not: BullMQ keeps a job's
 * data until the job is removed, and a job holds up to JOB_MAX_EVENTS events of up to MAX_EVENT_BYTES each. BullMQ
 * has no option to drop data on completion, and doing it per job would cost each job a Redis round trip, so each
 * worker process replaces the data of the completed jobs with their tenant and time once a second, in one script.
 */
import type { RedisClient } from './redis';
import { INGEST_QUEUE } from './ingestQueue';
import { withTimeout } from '../timeouts';

const TRIM_EVERY_MS = 1000;
/** Data this short is already trimmed (or a job too small to matter). */
const KEEP_BYTES = 256;

// Scans the whole completed set: COMPLETED_JOBS_KEPT (at most 10,000) bounds it. Data is `{"tenantId":N,"receivedAt":N,...`,
// plain or sealed, as JSON.stringify writes the job's fields in order; the pattern only reads its first bytes.
const TRIM_SCRIPT = `
local trimmed = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. id
  if redis.call('HSTRLEN', key, 'data') > tonumber(ARGV[2]) then
    local head = string.sub(redis.call('HGET', key, 'data'), 1, 80)
    local tenant, received = string.match(head, '^{"tenantId":(%d+),"receivedAt":(%d+)')
    redis.call('HSET', key, 'data', '{"tenantId":' .. (tenant or 'null') .. ',"receivedAt":' .. (received or 'null') .. ',"events":"removed once stored"}')
    trimmed = trimmed + 1
  end
end
return trimmed`;

/** Trims the completed jobs' data once; resolves to how many it trimmed. */
export async function trimCompletedJobs(redis: RedisClient, prefix: string): Promise<number> {
  const jobKey = `${prefix}:${INGEST_QUEUE}:`;
  return (await redis.eval(TRIM_SCRIPT, 1, `${jobKey}completed`, jobKey, KEEP_BYTES)) as number;
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
