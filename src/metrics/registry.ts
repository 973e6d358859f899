/** One Prometheus registry per process: Node's default metrics and the queue's job counts, read at scrape time. */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Queue } from 'bullmq';

export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

export function createMetricsRegistry(queue: Queue): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'activityd_queue_jobs',
    help: 'Jobs in the ingest queue by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      try {
        const counts = await queue.getJobCounts(...QUEUE_STATES);
        for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
      } catch {
        // Redis unreachable: the scrape still answers, without queue figures.
      }
    },
  });
  return registry;
}
