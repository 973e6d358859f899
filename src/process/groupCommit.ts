/**
 * Group commit: jobs hand their events here, and one writer loop stores whatever has gathered while the previous
 * transaction ran, up to BATCH_MAX_EVENTS per transaction. An idle worker writes at once; a busy one writes in
 * large batches. A job's promise settles only after its batch has committed.
 */
import type { Db } from '../store/db';
import { BatchEntry, EventOutcome, writeBatch } from './writeBatch';
import { isTransientFailure } from './failures';

/** One job's entries (one per request it carries), written in the same transaction. */
interface Waiting {
  entries: BatchEntry[];
  events: number;
  resolve: (outcomes: EventOutcome[][]) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitter {
  write(entry: BatchEntry): Promise<EventOutcome[]>;
  /** A job of several requests: its entries go in one transaction, and its promise settles with each one's outcomes. */
  writeJob(entries: BatchEntry[]): Promise<EventOutcome[][]>;
}

export interface GroupCommitOptions {
  /** Most events in one transaction (BATCH_MAX_EVENTS). */
  maxEvents: number;
  /**
   * After a batch of several jobs, how long the writer waits for as many jobs to gather again before it writes.
   * Under load the jobs of a committed batch are replaced one by one as the queue hands out the next ones; writing
   * at the first arrival made every other batch a batch of one, and a commit costs about as much for one event as
   * for a hundred (its fsync). A lone job at an idle worker is still written at once.
   */
  gatherMs?: number;
  /** ACTIVITY_RETENTION_DAYS: events dated before it are not stored. */
  activityRetentionDays?: number;
}

export function createGroupCommitter(db: Db, { maxEvents, gatherMs = 5, activityRetentionDays = 0 }: GroupCommitOptions): GroupCommitter {
  const options = { activityRetentionDays };
  const waiting: Waiting[] = [];
  let writing = false;
  let gathering: { jobs: number; done: () => void } | undefined;

  function gathered(jobs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(), gatherMs);
      const done = () => {
        clearTimeout(timer);
        gathering = undefined;
        resolve();
      };
      gathering = { jobs, done };
    });
  }

  function takeBatch(): Waiting[] {
    const batch = [waiting.shift() as Waiting];
    let events = batch[0].events;
    while (waiting.length > 0 && events + waiting[0].events <= maxEvents) {
      const next = waiting.shift() as Waiting;
      events += next.events;
      batch.push(next);
    }
    return batch;
  }

  async function commit(batch: Waiting[]): Promise<void> {
    try {
      const outcomes = await writeBatch(db, batch.flatMap((item) => item.entries), options);
      let next = 0;
      for (const item of batch) {
        item.resolve(outcomes.slice(next, next + item.entries.length));
        next += item.entries.length;
      }
    } catch (error) {
      if (batch.length === 1 || isTransientFailure(error)) {
        batch.forEach((item) => item.reject(error));
        return;
      }
      // A permanent failure may belong to one job only: write each alone so the others are not failed with it.
      for (const item of batch) {
        try {
          item.resolve(await writeBatch(db, item.entries, options));
        } catch (singleError) {
          item.reject(singleError);
        }
      }
    }
  }

  async function drain(): Promise<void> {
    try {
      let previousJobs = 0;
      for (;;) {
        if (previousJobs > 1 && waiting.length < previousJobs) await gathered(previousJobs);
        if (waiting.length === 0) return;
        const batch = takeBatch();
        previousJobs = batch.length;
        await commit(batch);
      }
    } finally {
      writing = false;
    }
  }

  function writeJob(entries: BatchEntry[]): Promise<EventOutcome[][]> {
    return new Promise<EventOutcome[][]>((resolve, reject) => {
      waiting.push({ entries, events: entries.reduce((sum, entry) => sum + entry.events.length, 0), resolve, reject });
      if (gathering && waiting.length >= gathering.jobs) gathering.done();
      if (!writing) {
        writing = true;
        void drain();
      }
    });
  }

  return {
    write: async (entry) => (await writeJob([entry]))[0],
    writeJob,
  };
}
