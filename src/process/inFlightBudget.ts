/**
 * Bounds the events a worker holds, not only its jobs: a job of one event and a job of JOB_MAX_EVENTS weigh very
 * differently. Below the event budget the worker takes up to WORKER_CONCURRENCY jobs; at or over it, it takes no
 * more until jobs finish. Enough events to fill the next batch while one is written keeps the writer busy; more
 * would only sit in memory (a backlog of bulk jobs at 128 jobs in flight took the worker past 260 MB).
 */
export interface InFlightBudget {
  /** A job starts with this many events. */
  take(events: number): void;
  /** A job with this many events has finished, whatever its outcome. */
  give(events: number): void;
}

export function createInFlightBudget(limits: { maxJobs: number; maxEvents: number }, setConcurrency: (jobs: number) => void): InFlightBudget {
  let events = 0;
  let jobs = 0;
  const update = () => setConcurrency(events >= limits.maxEvents ? Math.max(1, jobs) : limits.maxJobs);
  return {
    take(count) {
      events += count;
      jobs += 1;
      update();
    },
    give(count) {
      events -= count;
      jobs -= 1;
      update();
    },
  };
}
