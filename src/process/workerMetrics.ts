/** The worker's Prometheus metrics: event outcomes and how long events took from receipt to storage. */
import { Counter, Histogram, Registry } from 'prom-client';
import type { EventOutcome } from './writeBatch';

export interface WorkerMetrics {
  countOutcomes(outcomes: EventOutcome[], receivedAt: number): void;
  countFailed(events: number): void;
}

export function createWorkerMetrics(registry: Registry): WorkerMetrics {
  const processed = new Counter({ name: 'activityd_events_processed_total', help: 'Events processed, by outcome (stored, duplicate, filtered, identified, failed)', labelNames: ['outcome'], registers: [registry] });
  const latency = new Histogram({
    name: 'activityd_processing_latency_seconds',
    help: 'From receipt at the receiver to the committed write',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  return {
    countOutcomes(outcomes, receivedAt) {
      const counts = new Map<EventOutcome, number>();
      for (const outcome of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
      for (const [outcome, count] of counts) processed.inc({ outcome }, count);
      latency.observe((Date.now() - receivedAt) / 1000);
    },
    countFailed: (events) => processed.inc({ outcome: 'failed' }, events),
  };
}
