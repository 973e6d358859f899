/**
 * The receivers' metrics summed over the whole deployment. prom-client's cluster aggregation needs Node's cluster
 * primary, which pm2 owns (and it cannot reach other machines), so each receiver process publishes its figures to
 * Redis every few seconds under a key that expires, and a scrape of any receiver sums the live ones with
 * AggregatorRegistry.aggregate. A process that stops folds its figures into the deployment's retired total, which
 * every scrape adds, so the sums never fall when a receiver leaves (Prometheus would read a fall as a counter
 * reset). One that dies without stopping (SIGKILL, a lost machine) drops out when its figures expire: its share
 * then leaves the sums, as a counter reset of its own would.
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

/** A stop that finds the retired total changed under it (another receiver stopping at once) reads it again; this many times at most. */
const FOLD_TRIES = 10;

// Sets the retired total only if it is still the one the new total was summed from, and removes the process's
// figures in the same step, so no scrape counts them twice or not at all.
const FOLD_SCRIPT = `
if (redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[3])
return 1`;

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
  const retiredKey = `${keyPrefix}:metrics:retired`;
  const publish = async () => {
    const figures = JSON.stringify(await shared.getMetricsAsJSON());
    await redis.multi().set(figuresKey(id), figures, 'PX', EXPIRES_AFTER_MS).sadd(members, id).pexpire(members, EXPIRES_AFTER_MS).exec();
  };
  // Redis unreachable: the next round tries again, and the queue handle already says Redis is down.
  let publishing: Promise<void> = Promise.resolve();
  const publishQuietly = () => (publishing = publish().catch(() => undefined));
  const timer = setInterval(publishQuietly, PUBLISH_EVERY_MS);
  timer.unref();
  void publishQuietly();

  /** The other live processes' figures (those whose key expired leave the member set), and the retired total. */
  const readOthers = async (): Promise<{ live: object[][]; retired: object[][] }> => {
    const ids = (await redis.smembers(members)).filter((member) => member !== id);
    const [retired, ...figures] = await redis.mget(retiredKey, ...ids.map(figuresKey));
    const gone = ids.filter((_, i) => figures[i] === null);
    if (gone.length > 0) await redis.srem(members, ...gone);
    const parsed = (texts: (string | null)[]) => texts.filter((text): text is string => text !== null).map((text) => JSON.parse(text) as object[]);
    return { live: parsed(figures), retired: parsed([retired]) };
  };
  // Redis unreachable or slow: this process's own figures, and the count of processes says so.
  const others = () => withTimeout(readOthers(), REDIS_WAIT_MS, 'metrics of other receivers').catch(() => ({ live: [], retired: [] }));

  /** Adds this process's figures to the retired total and removes them, as one step; retried when another stop got there first. */
  const retire = async () => {
    const mine = await shared.getMetricsAsJSON();
    for (let tries = 0; tries < FOLD_TRIES; tries++) {
      const before = (await redis.get(retiredKey)) ?? '';
      const total = JSON.stringify(await AggregatorRegistry.aggregate(before === '' ? [mine] : [JSON.parse(before) as object[], mine]).getMetricsAsJSON());
      if ((await redis.eval(FOLD_SCRIPT, 3, retiredKey, figuresKey(id), members, before, total, id)) === 1) return;
    }
    throw new Error('the retired total kept changing');
  };

  const summedOver = new Registry();
  const processes = new Gauge({ name: 'activityd_receiver_processes', help: 'Receiver processes whose counters and histograms this scrape sums (1: only the one that answered)', registers: [summedOver] });
  return {
    contentType: own.contentType,
    async text() {
      const { live, retired } = await others();
      const everyone = [await shared.getMetricsAsJSON(), ...live];
      processes.set(everyone.length);
      return Registry.merge([AggregatorRegistry.aggregate([...everyone, ...retired]), summedOver, own]).metrics();
    },
    async stop() {
      clearInterval(timer);
      // A publication landing after the fold would count this process twice until it expired.
      await publishing;
      // Redis unreachable or slow: the figures stay until they expire, and the sums fall then.
      await withTimeout(retire(), REDIS_WAIT_MS, "retiring this receiver's metrics").catch(() => undefined);
    },
  };
}

/** A process whose metrics are its own only (a worker's ops server). */
export function ownMetrics(registry: Registry): MetricsText {
  return { contentType: registry.contentType, text: () => registry.metrics() };
}
