/**
 * What the board may do, under /admin/queues: show queues and jobs, retry and promote. Everything else Bull Board
 * offers is refused (403), deny by default: adding a job (it would forge events for any tenant), cleaning, emptying
 * or obliterating (they discard events already answered 202), pausing and resuming, changing a job's data, delay
 * or priority, rate limits, concurrency and job schedulers.
 */
import type { TableRoute } from '../http/routeAccess';

export interface BoardRoute extends TableRoute {
  method: 'get' | 'put';
  access: 'admin';
  /** Parameters the route takes only in this form: a job id is a number or a UUID, so no word of another route ("clean", "retry") passes for one. */
  params?: Record<string, RegExp>;
}

// BullMQ's own numbers (jobs queued before receivers named them), or the time-ordered id a receiver gives a job.
const JOB_ID = /^(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const RETRYABLE = /^(failed|completed)$/;

/** Relative to BOARD_PATH. */
export const BOARD_ROUTES: BoardRoute[] = [
  // The page (one per view of the single-page app) and its files.
  { access: 'admin', method: 'get', path: '' },
  { access: 'admin', method: 'get', path: '/' },
  { access: 'admin', method: 'get', path: '/metrics-history' },
  { access: 'admin', method: 'get', path: '/job-schedulers' },
  { access: 'admin', method: 'get', path: '/queue/:queueName' },
  { access: 'admin', method: 'get', path: '/queue/:queueName/:jobId' },
  { access: 'admin', method: 'get', path: '/static/*file' },
  // Inspecting.
  { access: 'admin', method: 'get', path: '/api/redis/stats' },
  { access: 'admin', method: 'get', path: '/api/queues' },
  { access: 'admin', method: 'get', path: '/api/job-schedulers' },
  { access: 'admin', method: 'get', path: '/api/queues/:queueName/metrics' },
  { access: 'admin', method: 'get', path: '/api/queues/:queueName/default-job-options' },
  { access: 'admin', method: 'get', path: '/api/queues/:queueName/workers' },
  { access: 'admin', method: 'get', path: '/api/queues/:queueName/rate-limit' },
  { access: 'admin', method: 'get', path: '/api/queues/:queueName/job-data-schema' },
  { access: 'admin', method: 'get', path: '/api/queues/:queueName/:jobId/logs', params: { jobId: JOB_ID } },
  { access: 'admin', method: 'get', path: '/api/queues/:queueName/:jobId/flow', params: { jobId: JOB_ID } },
  { access: 'admin', method: 'get', path: '/api/queues/:queueName/:jobId', params: { jobId: JOB_ID } },
  // Replaying: the events keep their insert ids, so nothing is stored twice.
  { access: 'admin', method: 'put', path: '/api/queues/:queueName/retry/:queueStatus', params: { queueStatus: RETRYABLE } },
  { access: 'admin', method: 'put', path: '/api/queues/:queueName/:jobId/retry', params: { jobId: JOB_ID } },
  { access: 'admin', method: 'put', path: '/api/queues/:queueName/promote' },
  { access: 'admin', method: 'put', path: '/api/queues/:queueName/:jobId/promote', params: { jobId: JOB_ID } },
];

/** The parameter that is not in the form its route takes, if any. */
export function unexpectedParam(route: BoardRoute, params: Record<string, string>): string | undefined {
  return Object.entries(route.params ?? {}).find(([name, form]) => !form.test(params[name] ?? ''))?.[0];
}
