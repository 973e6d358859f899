/**
 * The receivers' metrics summed over the whole deployment. prom-client's cluster aggregation needs Node's cluster
 * primary, which pm2 owns (and it cannot reach other machines), so each receiver process publishes its figures to
 * Redis every few seconds under a key that expires, and a scrape of any receiver sums the live ones with
 * AggregatorRegistry.aggregate. A process that stops removes its figures; one that dies drops out when they expire.
 */
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, Gauge, Registry } from 'prom-client';
import type { RedisClient } from '../queue/redis';
import type { MetricsText } from '../http/opsRoutes';
import { withTimeout } from '../timeouts';

/** How often a process publishes: the figures of the other processes in a scrape are at most this old. */
const PUBLISH_EVERY_MS = 5000;
/** Three missed publications and a process counts as gone. */
const EXPIRES_AFTER_MS = 3 * PUBLISH_EVERY_MS;
/** A slow Redis delays a scrape or a stop by at most this much (the producer connection fails at once when down). */
const REDIS_WAIT_MS = 1000;

export interface DeploymentMetrics extends MetricsText {
  stop(): Promise<void>;
}

/** Host, pid and a random part: pids repeat across machines and containers. */
function processId(): string {
  return `${os.hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
}

/**
 * `shared` holds the metrics to sum (the receiver's counters and histograms); `own` the ones that describe this
 * process alone (Node's default metrics, the queue's job counts, a worker's figures in `activityd start`), shown
 * as they are. `keyPrefix` is the queue's, whose hash tag keeps every key on one Redis Cluster slot.
 */
export function shareMetrics(redis: RedisClient, keyPrefix: string, shared: Registry, own: Registry): DeploymentMetrics {
  const id = processId();
  const members = `${keyPrefix}:metrics:receivers`;
  const figuresKey = (member: string) => `${keyPrefix}:metrics:receiver:${member}`;
  const publish = async () => {
    const figures = JSON.stringify(await shared.getMetricsAsJSON());
    await redis.multi().set(figuresKey(id), figures, 'PX', EXPIRES_AFTER_MS).sadd(members, id).pexpire(members, EXPIRES_AFTER_MS).exec();
  };
  // Redis unreachable: the next round tries again, and the queue handle already says Redis is down.
  const publishQuietly = () => publish().catch(() => undefined);
  const timer = setInterval(publishQuietly, PUBLISH_EVERY_MS);
  timer.unref();
  void publishQuietly();

  /** The other live processes' figures; those whose key expired leave the member set. */
  const readOthers = async (): Promise<object[][]> => {
    const ids = (await redis.smembers(members)).filter((member) => member !== id);
    if (ids.length === 0) return [];
    const figures = await redis.mget(ids.map(figuresKey));
    const gone = ids.filter((_, i) => figures[i] === null);
    if (gone.length > 0) await redis.srem(members, ...gone);
    return figures.filter((text): text is string => text !== null).map((text) => JSON.parse(text) as object[]);
  };
  // Redis unreachable or slow: this process's own figures, and the count of processes says so.
  const others = () => withTimeout(readOthers(), REDIS_WAIT_MS, 'metrics of other receivers').catch((): object[][] => []);

  const summedOver = new Registry();
  const processes = new Gauge({ name: 'activityd_receiver_processes', help: 'Receiver processes whose counters and histograms this scrape sums (1: only the one that answered)', registers: [summedOver] });
  return {
    contentType: own.contentType,
    async text() {
      const everyone = [await shared.getMetricsAsJSON(), ...(await others())];
      processes.set(everyone.length);
      return Registry.merge([AggregatorRegistry.aggregate(everyone), summedOver, own]).metrics();
    },
    async stop() {
      clearInterval(timer);
      await withTimeout(redis.multi().del(figuresKey(id)).srem(members, id).exec(), REDIS_WAIT_MS, "removing this receiver's metrics").catch(() => undefined);
    },
  };
}

/** A process whose metrics are its own only (a worker's ops server). */
export function ownMetrics(registry: Registry): MetricsText {
  return { contentType: registry.contentType, text: () => registry.metrics() };
}
