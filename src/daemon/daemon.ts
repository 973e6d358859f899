/**
 * The long-running processes: `start` (receiver and worker), `receiver` and `worker`, wired from their parts,
 * with one ordered shutdown: intake stops first, then the worker drains, then connections close.
 */
import type { Config } from '../../config';
import type { Db } from '../store/db';
import type { Logger } from '../log';
import { openQueueHandle } from './queueHandle';
import { createMetricsRegistry } from '../metrics/registry';
import { startReceiver, RunningReceiver } from './receiver';
import { startIngestWorker, IngestWorker } from '../process/ingestWorker';
import { startDeliveryLogWriter, DeliveryLogWriter } from '../process/deliveryLogWriter';
import { startStatisticsKeeper, StatisticsKeeper } from '../process/statisticsKeeper';
import { startRetention, Retention } from '../process/retention';
import { startOpsServer, OpsServer } from './opsServer';
import { queuePrefix } from '../queue/ingestQueue';
import { createDeliveryOutbox } from '../queue/deliveryOutbox';
import { startCompletedJobsTrimmer, CompletedJobsTrimmer } from '../queue/completedJobs';
import { continueUnlessAborted, startupStep } from './startupFailure';
import type { StopStep } from './signals';

export type Role = 'start' | 'receiver' | 'worker';

export interface RunningDaemon {
  receiverPort?: number;
  opsPort?: number;
  deliveryLog?: DeliveryLogWriter;
  /** In-flight requests and jobs share `timeoutMs`; `step` hears what it is doing. */
  stop(timeoutMs: number, step?: StopStep): Promise<void>;
}

/** pm2 numbers the instances of an app; each worker instance takes its own metrics port. */
function workerOpsPort(config: Config): number {
  const instance = Number(process.env.NODE_APP_INSTANCE ?? 0);
  return config.WORKER_METRICS_PORT === 0 ? 0 : config.WORKER_METRICS_PORT + (Number.isInteger(instance) ? instance : 0);
}

/** `signal`: a stop during the start; the start then stops what it started and rejects with StartAborted. */
export async function startDaemon(config: Config, db: Db, log: Logger, role: Role, signal?: AbortSignal): Promise<RunningDaemon> {
  const handle = await openQueueHandle(config, log, signal);
  const registry = createMetricsRegistry(handle.queue);
  const deliveries = createDeliveryOutbox(handle.redis, queuePrefix(config), log, config.JOB_ENCRYPTION_KEY);
  let receiver: RunningReceiver | undefined;
  let worker: IngestWorker | undefined;
  let deliveryLog: DeliveryLogWriter | undefined;
  let statistics: StatisticsKeeper | undefined;
  let retention: Retention | undefined;
  let completedJobs: CompletedJobsTrimmer | undefined;
  let ops: OpsServer | undefined;
  const stop = async (timeoutMs: number, step: StopStep = () => undefined) => {
    const deadline = Date.now() + timeoutMs;
    step('the requests in flight');
    await receiver?.stop(timeoutMs);
    step('the jobs in flight');
    await worker?.close(Math.max(0, deadline - Date.now()));
    step('trimming completed jobs');
    await completedJobs?.stop();
    step('writing the delivery log');
    await deliveryLog?.stop();
    step('pruning what is past its retention');
    await retention?.stop();
    step('refreshing planner statistics');
    await statistics?.stop();
    step('closing the metrics server');
    await ops?.close();
    step('handing delivery records to Redis');
    await deliveries.flush();
    step('closing the Redis connection');
    await handle.close();
  };
  try {
    continueUnlessAborted(signal);
    if (role !== 'worker') receiver = await startReceiver(config, db, log, { handle, registry, deliveries, signal });
    if (role !== 'receiver') {
      continueUnlessAborted(signal);
      worker = await startIngestWorker(config, db, log, registry, deliveries);
      completedJobs = startCompletedJobsTrimmer(handle.redis, queuePrefix(config));
      deliveryLog = startDeliveryLogWriter(handle.redis, db, { prefix: queuePrefix(config), encryptionKey: config.JOB_ENCRYPTION_KEY }, log);
      retention = startRetention(db, { deliveries: config.DELIVERY_RETENTION_DAYS, activities: config.ACTIVITY_RETENTION_DAYS }, log);
      statistics = startStatisticsKeeper(db, log);
    }
    if (role === 'worker' && config.WORKER_METRICS_PORT !== 0) {
      const port = workerOpsPort(config);
      ops = await startupStep(`the worker's metrics server cannot listen on ${config.HOST}:${port} (HOST, WORKER_METRICS_PORT)`, () => startOpsServer(port, config.HOST, registry, handle.redis, db));
      log.info({ port: ops.port }, 'worker metrics listening');
    }
    continueUnlessAborted(signal);
  } catch (error) {
    // What did start is stopped, so nothing keeps the process (or a test) alive after a failed start.
    await stop(1000).catch(() => undefined);
    throw error;
  }
  return {
    receiverPort: receiver?.port,
    opsPort: ops?.port,
    deliveryLog,
    stop,
  };
}
