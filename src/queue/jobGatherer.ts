/**
 * Gathers the requests of one tenant into shared queue jobs. While an enqueue of the tenant is in flight, the requests
 * that arrive wait and go out together in the next one (up to `maxEvents` events and `maxBytes` of request bodies);
 * when nothing is in flight a request goes out at once: no timer, so no added latency at low load. Each request's
 * promise settles with the outcome of the enqueue that carried it.
 */
import type { JobPart } from './ingestQueue';

export interface GatherLimits {
  /** JOB_MAX_EVENTS: a request larger than this still goes out, alone (its enqueue splits it into several jobs). */
  maxEvents: number;
  /** Request body bytes per job, so that many large events do not make one job of many megabytes. */
  maxBytes: number;
  /**
   * A request that has waited this long for its turn is not sent at all but settled with the gatherer's `expired`
   * outcome, so a Redis that answers slowly does not make a request wait for several enqueues in turn. The receiver
   * sets it above the longest one enqueue takes (its timeout, then as long again for the withdrawal), with room for a
   * busy event loop, so a request waits for at most one enqueue before its own.
   */
  maxWaitMs: number;
}

export interface JobGatherer<Outcome> {
  /** `bytes`: the request's body size, the cheap measure of what its part weighs in the job. */
  submit(tenantId: number, part: JobPart, bytes: number): Promise<Outcome>;
}

interface Waiting<Outcome> {
  part: JobPart;
  bytes: number;
  since: number;
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
}

/** Request body bytes per gathered job: about what BullMQ and Redis handle in one command without a long stall. */
export const JOB_MAX_BYTES = 1024 * 1024;

export function createJobGatherer<Outcome>(send: (tenantId: number, parts: JobPart[]) => Promise<Outcome>, limits: GatherLimits, expired: Outcome): JobGatherer<Outcome> {
  /** A tenant is here while one of its enqueues is in flight; its list holds the requests waiting for the next. */
  const inFlight = new Map<number, Array<Waiting<Outcome>>>();

  function takeJob(waiting: Array<Waiting<Outcome>>): Array<Waiting<Outcome>> {
    const job = [waiting.shift() as Waiting<Outcome>];
    let events = job[0].part.events.length;
    let bytes = job[0].bytes;
    while (waiting.length > 0 && events + waiting[0].part.events.length <= limits.maxEvents && bytes + waiting[0].bytes <= limits.maxBytes) {
      const next = waiting.shift() as Waiting<Outcome>;
      events += next.part.events.length;
      bytes += next.bytes;
      job.push(next);
    }
    return job;
  }

  function settleExpired(waiting: Array<Waiting<Outcome>>): void {
    const now = Date.now();
    for (let index = waiting.length - 1; index >= 0; index--) {
      if (now - waiting[index].since < limits.maxWaitMs) continue;
      waiting[index].resolve(expired);
      waiting.splice(index, 1);
    }
  }

  async function run(tenantId: number, waiting: Array<Waiting<Outcome>>): Promise<void> {
    for (;;) {
      settleExpired(waiting);
      if (waiting.length === 0) break;
      const job = takeJob(waiting);
      try {
        const outcome = await send(tenantId, job.map((item) => item.part));
        for (const item of job) item.resolve(outcome);
      } catch (error) {
        for (const item of job) item.reject(error);
      }
    }
    inFlight.delete(tenantId);
  }

  return {
    submit(tenantId, part, bytes) {
      return new Promise<Outcome>((resolve, reject) => {
        const item = { part, bytes, since: Date.now(), resolve, reject };
        const waiting = inFlight.get(tenantId);
        if (waiting) {
          waiting.push(item);
          return;
        }
        const fresh = [item];
        inFlight.set(tenantId, fresh);
        void run(tenantId, fresh);
      });
    },
  };
}
