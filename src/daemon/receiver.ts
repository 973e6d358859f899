/** The receiver: HTTP in, validated events durably onto the queue, no SQL per request. */
import cluster from 'node:cluster';
import http from 'node:http';
import type { Registry } from 'prom-client';
import type { Config } from '../../config';
import type { Db } from '../store/db';
import type { Logger } from '../log';
import { startTenantDirectory } from '../tenants/directory';
import { createApp } from './receiverApp';
import { listen } from '../http/listen';
import type { DeliveryOutbox } from '../queue/deliveryOutbox';
import { answerClientErrors } from '../http/clientErrors';
import { continueOnlyWhenRead } from '../http/expectContinue';
import { createRateLimiter } from '../receive/rateLimit';
import { createBodyBudget } from '../http/bodyBudget';
import { createReceiverMetrics } from '../receive/receiverMetrics';
import type { QueueHandle } from './queueHandle';
import { startupStep } from './startupFailure';
import { repeatedWarning } from '../repeatedWarning';
import { createEnqueuer } from '../queue/enqueue';
import { createJobGatherer, JOB_MAX_BYTES } from '../queue/jobGatherer';

/** How long a cluster worker stays after it stopped listening, to refuse connections still being handed to it. */
const CLUSTER_HANDOFF_GRACE_MS = 1000;

export interface RunningReceiver {
  port: number;
  /** Stops accepting connections and lets requests in flight finish (up to `timeoutMs`). */
  stop(timeoutMs: number): Promise<void>;
}

/** Deadlines against slow clients. Node checks them only every connectionsCheckingInterval (30 s by default), so check often enough for the deadlines to mean what they say. */
function serverOptions(config: Config): http.ServerOptions {
  const requestTimeout = config.REQUEST_TIMEOUT_MS;
  // Node refuses a headers deadline later than the whole-request one; loadConfig refuses such settings at start.
  const headersTimeout = config.HEADERS_TIMEOUT_MS;
  return { requestTimeout, headersTimeout, connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(headersTimeout / 4))) };
}

export interface ReceiverParts {
  handle: QueueHandle;
  registry: Registry;
  deliveries: DeliveryOutbox;
}

export async function startReceiver(config: Config, db: Db, log: Logger, { handle, registry, deliveries }: ReceiverParts): Promise<RunningReceiver> {
  const tenants = await startTenantDirectory(db, config.TENANT_REFRESH_MS, log);
  if (!config.ADMIN_TOKEN) log.warn('ADMIN_TOKEN is not set: the admin API under /api/v1 and the board at /admin/queues answer 401 to every request');
  const metrics = createReceiverMetrics(registry);
  const enqueuer = createEnqueuer(handle.queue, { jobMaxEvents: config.JOB_MAX_EVENTS, timeoutMs: config.ENQUEUE_TIMEOUT_MS, encryptionKey: config.JOB_ENCRYPTION_KEY });
  const gatherer = createJobGatherer(
    async (tenantId, parts) => {
      const started = process.hrtime.bigint();
      const result = await enqueuer.enqueue(tenantId, parts);
      if (result.outcome === 'queued') metrics.observeEnqueue(Number(process.hrtime.bigint() - started) / 1e9);
      return result;
    },
    { maxEvents: config.JOB_MAX_EVENTS, maxBytes: JOB_MAX_BYTES, maxWaitMs: 3 * config.ENQUEUE_TIMEOUT_MS },
    { outcome: 'unavailable', reason: `the tenant's enqueues took longer than ENQUEUE_TIMEOUT_MS (${config.ENQUEUE_TIMEOUT_MS} ms)` },
  );
  const app = createApp({
    ingest: {
      tenants,
      gatherer,
      deliveries,
      metrics,
      log,
      rateLimiter: createRateLimiter(config.RATE_LIMIT_PER_TENANT),
      queueDownWarning: repeatedWarning(log, 'Redis is unreachable: ingest requests are answered 503 (nothing accepted; senders retry later)'),
      bodyBudget: createBodyBudget(config.BODY_MEMORY_BUDGET_BYTES),
      limits: {
        maxEventBytes: config.MAX_EVENT_BYTES,
        maxEventsPerRequest: config.MAX_EVENTS_PER_REQUEST,
        retryAfterSeconds: config.RETRY_AFTER_SECONDS,
      },
    },
    db,
    redis: handle.redis,
    queues: [handle.queue],
    registry,
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
  continueOnlyWhenRead(server);
  const port = await startupStep(`the receiver cannot listen on ${config.HOST}:${config.PORT} (HOST, PORT)`, () => listen(server, config.PORT, config.HOST)).catch((error) => {
    tenants.stop();
    throw error;
  });
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
      if (cluster.isWorker) {
        // In cluster mode (pm2) the primary hands connections to workers over IPC. One handed to this process just
        // before the primary learned it stopped listening must get this process's refusal, so the primary passes
        // it to another receiver; a process that had already exited would leave that connection unanswered.
        await new Promise((resolve) => setTimeout(resolve, CLUSTER_HANDOFF_GRACE_MS));
      }
      clearInterval(idleSweep);
      clearTimeout(deadline);
      tenants.stop();
    },
  };
}
