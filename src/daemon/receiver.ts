/** The receiver: HTTP in, validated events durably onto the queue, no SQL per request. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../../config';
import type { Db } from '../store/db';
import type { Logger } from '../log';
import { startTenantDirectory } from '../tenants/directory';
import { connectRedis } from '../queue/redis';
import { openIngestQueue } from '../queue/ingestQueue';
import { createApp } from '../http/app';
import { answerClientErrors } from '../http/clientErrors';
import { createRateLimiter } from '../receive/rateLimit';
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';

export interface RunningReceiver {
  port: number;
  /** Stops accepting connections, lets requests in flight finish (up to `timeoutMs`), then closes the queue. */
  stop(timeoutMs: number): Promise<void>;
}

/** One log line when Redis goes away and one when it is back, instead of one per reconnect attempt. */
function watchRedis(redis: Redis, queue: Queue, log: Logger): void {
  let reachable = true;
  redis.on('ready', () => {
    if (!reachable) log.info('Redis is reachable again; accepting events');
    reachable = true;
  });
  redis.on('error', (error: Error) => {
    if (reachable) log.error({ err: error }, 'Redis is unreachable; ingest requests get 503 until it returns');
    reachable = false;
  });
  queue.on('error', () => undefined);
}

/** Waits (bounded) for the first connection, so the first requests after start are not refused; a Redis that is down does not keep the receiver from answering 503. */
function redisReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
  });
}

/** Deadlines against slow clients. Node checks them only every connectionsCheckingInterval (30 s by default), so check often enough for the deadlines to mean what they say. */
function serverOptions(config: Config): http.ServerOptions {
  const requestTimeout = config.REQUEST_TIMEOUT_MS;
  // Node refuses a headers deadline later than the whole-request one.
  const headersTimeout = Math.min(config.HEADERS_TIMEOUT_MS, requestTimeout);
  return { requestTimeout, headersTimeout, connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(headersTimeout / 4))) };
}

export async function startReceiver(config: Config, db: Db, log: Logger): Promise<RunningReceiver> {
  const tenants = await startTenantDirectory(db, config.TENANT_REFRESH_MS, log);
  const redis = connectRedis(config.REDIS_URL, 'producer');
  const queue = openIngestQueue(config, redis);
  watchRedis(redis, queue, log);
  await redisReady(redis, config.ENQUEUE_TIMEOUT_MS);
  if (!config.ADMIN_TOKEN) log.warn('ADMIN_TOKEN is not set: the admin API under /api/v1 answers 401 to every request');
  const app = createApp({
    ingest: {
      tenants,
      queue,
      log,
      rateLimiter: createRateLimiter(config.RATE_LIMIT_PER_TENANT),
      limits: {
        maxEventBytes: config.MAX_EVENT_BYTES,
        maxEventsPerRequest: config.MAX_EVENTS_PER_REQUEST,
        jobMaxEvents: config.JOB_MAX_EVENTS,
        enqueueTimeoutMs: config.ENQUEUE_TIMEOUT_MS,
        retryAfterSeconds: config.RETRY_AFTER_SECONDS,
      },
    },
    db,
    adminToken: config.ADMIN_TOKEN,
    maxBodyBytes: config.MAX_BODY_BYTES,
    log,
  });
  let stopping = false;
  app.middleware.unshift(async (ctx, next) => {
    // While stopping, answer what is in flight but ask clients not to reuse the connection.
    if (stopping) ctx.set('Connection', 'close');
    await next();
  });
  const server = http.createServer(serverOptions(config), app.callback());
  answerClientErrors(server, log);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ host: config.HOST, port }, 'receiver listening');

  return {
    port,
    async stop(timeoutMs) {
      stopping = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
      const deadline = setTimeout(() => {
        log.warn({ timeoutMs }, 'requests still open after the drain time; closing their connections');
        server.closeAllConnections();
      }, timeoutMs);
      server.closeIdleConnections();
      await closed;
      clearInterval(idleSweep);
      clearTimeout(deadline);
      tenants.stop();
      await queue.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
