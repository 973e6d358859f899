/** What the bench reads outside HTTP: Redis memory, the keys a run leaves behind, and a process's peak RSS. */
import fs from 'node:fs';
import { Cluster } from 'ioredis';
import type { RedisClient } from '../../src/queue/redis';

function masters(redis: RedisClient) {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/** used_memory in bytes (summed over a cluster's masters). */
export async function redisUsedMemory(redis: RedisClient): Promise<number> {
  let total = 0;
  for (const node of masters(redis)) total += Number(/used_memory:(\d+)/.exec(await node.info('memory'))?.[1] ?? NaN);
  return total;
}

/**
 * Keys under `{prefix}:` and their bytes (MEMORY USAGE), so what a run leaves behind is known exactly even when others
 * share the Redis. The completed jobs the queue keeps for the board (COMPLETED_JOBS_KEPT, their data dropped once
 * stored) and their index are counted apart: a bounded plateau by design, not something the run leaked.
 */
export async function prefixFootprint(redis: RedisClient, prefix: string): Promise<{ keys: number; bytes: number; names: string[]; keptCompleted: { jobs: number; bytes: number } }> {
  let keys = 0;
  let bytes = 0;
  const names: string[] = [];
  const keptCompleted = { jobs: 0, bytes: 0 };
  for (const node of masters(redis)) {
    const completedIndex = `{${prefix}}:ingest:completed`;
    const completed = new Set((await node.zrange(completedIndex, '0', '-1')).map((id) => `{${prefix}}:ingest:${id}`));
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
      for (const key of found) {
        const size = Number((await node.memory('USAGE', key)) ?? 0);
        if (key === completedIndex || completed.has(key)) {
          keptCompleted.jobs += completed.has(key) ? 1 : 0;
          keptCompleted.bytes += size;
          continue;
        }
        keys += 1;
        bytes += size;
        if (names.length < 20) names.push(key);
      }
      cursor = next;
    } while (cursor !== '0');
  }
  return { keys, bytes, names, keptCompleted };
}

export async function deletePrefix(redis: RedisClient, prefix: string): Promise<void> {
  for (const node of masters(redis)) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', `{${prefix}}:*`, 'COUNT', 1000);
      for (const key of found) await node.del(key);
      cursor = next;
    } while (cursor !== '0');
  }
}

/** Peak resident set size (VmHWM) of a live process, in MB. */
export function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}
