/** The receiver's Prometheus metrics: requests, events accepted and rejected, enqueue latency. */
import { Counter, Histogram, Registry } from 'prom-client';
import type { NormalizedBody } from '../normalize/normalizeBody';

export interface ReceiverMetrics {
  observeRequest(route: string, status: number): void;
  observeEnqueue(seconds: number): void;
  countEvents(normalized: Pick<NormalizedBody, 'events' | 'refusedFields'>): void;
}

export function createReceiverMetrics(registry: Registry): ReceiverMetrics {
  const requests = new Counter({ name: 'activityd_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [registry] });
  const accepted = new Counter({ name: 'activityd_events_accepted_total', help: 'Events accepted onto the queue', registers: [registry] });
  const rejected = new Counter({ name: 'activityd_events_rejected_total', help: 'Events rejected, by the field that was wrong', labelNames: ['reason'], registers: [registry] });
  const enqueue = new Histogram({
    name: 'activityd_enqueue_duration_seconds',
    help: 'Time for Redis to acknowledge one enqueue: the job that carries the requests gathered while the previous one was in flight (or the jobs of one request larger than JOB_MAX_EVENTS)',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });
  return {
    observeRequest: (route, status) => requests.inc({ route, status: String(status) }),
    observeEnqueue: (seconds) => enqueue.observe(seconds),
    countEvents(normalized) {
      accepted.inc(normalized.events.length);
      for (const { field } of normalized.refusedFields) rejected.inc({ reason: field });
    },
  };
}
