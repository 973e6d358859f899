/** The receiver: HTTP in, validated events durably onto the queue, no SQL per request. */
import cluster from 'node:cluster';
import http from 'node:http';
import net from 'node:net';
import { Registry } from 'prom-client';
import type { Config } from '../../config';
import type { Db } from '../store/db';
import type { Logger } from '../log';
import { startTenantDirectory } from '../tenants/directory';
import { startAdminCredential } from '../admin/adminCredential';
import { createApp } from './receiverApp';
import { listen } from '../http/listen';
import type { DeliveryOutbox } from '../queue/deliveryOutbox';
import { answerClientErrors } from '../http/clientErrors';
import { continueOnlyWhenRead } from '../http/expectContinue';
import { createRateLimiter } from '../receive/rateLimit';
import { createBodyBudget } from '../http/bodyBudget';
import { createReceiverMetrics } from '../receive/receiverMetrics';
import type { QueueHandle } from './queueHandle';
import { continueUnlessAborted, startupStep } from './startupFailure';
import { repeatedWarning } from '../repeatedWarning';
import { shareMetrics } from '../metrics/deploymentMetrics';
import { queuePrefix } from '../queue/ingestQueue';
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
  return {
    requestTimeout,
    headersTimeout,
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(headersTimeout / 4))),
    // Announced as "Keep-Alive: timeout=N": Node's and undici's clients stop reusing a connection a second before
    // it, and Node closes it a second after, so the idle close never meets a request in flight.
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
  };
}

export interface ReceiverParts {
  handle: QueueHandle;
  /** This process's own metrics; the receiver's counters and histograms are summed over every receiver process. */
  registry: Registry;
  deliveries: DeliveryOutbox;
  /** A stop during the start: the receiver then does not listen. */
  signal?: AbortSignal;
}

export async function startReceiver(config: Config, db: Db, log: Logger, { handle, registry, deliveries, signal }: ReceiverParts): Promise<RunningReceiver> {
  const tenants = await startTenantDirectory(db, config.TENANT_REFRESH_MS, log);
  const receiverRegistry = new Registry();
  const metrics = shareMetrics(handle.redis, queuePrefix(config), receiverRegistry, registry);
  const adminCredential = await startAdminCredential(config.ADMIN_TOKEN, db, config.TENANT_REFRESH_MS, log);
  if (config.ADMIN_TOKEN) log.info('ADMIN_TOKEN is set: the admin API and the board accept only it (it wins over a stored one)');
  const receiverMetrics = createReceiverMetrics(receiverRegistry);
  const enqueuer = createEnqueuer(handle.queue, { jobMaxEvents: config.JOB_MAX_EVENTS, timeoutMs: config.ENQUEUE_TIMEOUT_MS, encryptionKey: config.JOB_ENCRYPTION_KEY });
  const gatherer = createJobGatherer(
    async (tenantId, parts) => {
      const started = process.hrtime.bigint();
      const result = await enqueuer.enqueue(tenantId, parts);
      if (result.outcome === 'queued') receiverMetrics.observeEnqueue(Number(process.hrtime.bigint() - started) / 1e9);
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
      metrics: receiverMetrics,
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
    metrics,
    adminCredential,
    maxBodyBytes: config.MAX_BODY_BYTES,
    log,
  });
  let stopping = false;
  app.middleware.unshift(async (ctx, next) => {
    // While stopping, answer what is in flight and what arrives on a connection already open, and close it.
    if (stopping) ctx.set('Connection', 'close');
    await next();
  });
  const server = http.createServer(serverOptions(config), app.callback());
  answerClientErrors(server, log);
  continueOnlyWhenRead(server);
  const listening = async () => {
    continueUnlessAborted(signal);
    return startupStep(`the receiver cannot listen on ${config.HOST}:${config.PORT} (HOST, PORT)`, () => listen(server, config.PORT, config.HOST));
  };
  const port = await listening().catch((error) => {
    tenants.stop();
    void metrics.stop();
    adminCredential.stop();
    throw error;
  });
  log.info({ host: config.HOST, port }, 'receiver listening');

  return {
    port,
    async stop(timeoutMs) {
      stopping = true;
      // Only stop listening: http.Server.close would also close idle keep-alive connections at once, and a
      // client writing its next request on one at that moment gets a reset and no answer (HTTP/1.1 has no way to
      // warn it first). Instead each open connection ends by itself: the next request on it is answered with
      // "Connection: close", and one that stays idle ends at its announced keep-alive timeout, which clients
      // honour. The drain so takes up to KEEP_ALIVE_TIMEOUT_MS plus a second.
      const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
      const deadline = setTimeout(() => {
        log.warn({ timeoutMs }, 'connections still open after the drain time; closing them');
        server.closeAllConnections();
      }, timeoutMs);
      await closed;
      if (cluster.isWorker) {
        // In cluster mode (pm2) the primary hands connections to workers over IPC. One handed to this process just
        // before the primary learned it stopped listening must get this process's refusal, so the primary passes
        // it to another receiver; a process that had already exited would leave that connection unanswered.
        await new Promise((resolve) => setTimeout(resolve, CLUSTER_HANDOFF_GRACE_MS));
      }
      clearTimeout(deadline);
      tenants.stop();
      await metrics.stop();
      adminCredential.stop();
    },
  };
}
