import assert from 'node:assert/strict';
import { TEST_DATABASE_NAME } from './support/testEnv';
import { useStore } from './support/fixtures';
import { Db } from '../src/store/db';
import { createGroupCommitter } from '../src/process/groupCommit';
import type { BatchEntry } from '../src/process/writeBatch';

describe(`group commit: when the worker writes (real ${TEST_DATABASE_NAME})`, () => {
  let db: Db;
  let tenantId: number;
  let sequence = 0;
  useStore((parts) => ({ db, tenantId } = parts));

  const job = (action: string): BatchEntry => {
    sequence += 1;
    return { tenantId, receivedAt: Date.now(), events: [{ externalId: `u${sequence % 3}`, action, date: Date.now(), count: 1, weight: 1, info: {}, insertId: `gc-${sequence}` }] };
  };
  /** Each transaction stamps its activities with one stored_at, so distinct values count the transactions. */
  const transactions = async (action: string) => (await db('activities').where({ action }).distinct('stored_at')).length;
  const nextTick = () => new Promise((resolve) => setImmediate(resolve));

  it('writes a lone job at an idle worker at once, without waiting to gather', async () => {
    const committer = createGroupCommitter(db, { maxEvents: 5000, gatherMs: 60000 });
    const started = Date.now();
    assert.deepEqual(await committer.write(job('lone')), ['stored']);
    assert.ok(Date.now() - started < 30000, 'written without waiting out the gather time');
  });

  it('after a batch of several jobs, gathers as many before the next transaction instead of writing the first to arrive alone', async () => {
    const committer = createGroupCommitter(db, { maxEvents: 5000, gatherMs: 60000 });
    // The first job is written at once; the four that arrive during its transaction make the second batch.
    await Promise.all(['first', 'first', 'first', 'first', 'first'].map((action) => committer.write(job(action))));
    assert.equal(await transactions('first'), 2);
    // The four jobs that replace them arrive one by one, as a busy queue hands them out.
    const started = Date.now();
    const refill: Array<Promise<unknown>> = [];
    for (let i = 0; i < 4; i++) {
      refill.push(committer.write(job('refill')));
      await nextTick();
    }
    const outcomes = await Promise.all(refill);
    assert.deepEqual(outcomes, [['stored'], ['stored'], ['stored'], ['stored']]);
    assert.equal(await transactions('refill'), 1, 'the four refilling jobs were written in one transaction');
    assert.ok(Date.now() - started < 30000, 'written once four had gathered, not when the gather time ran out');
  });

  it('writes what has gathered when the gather time runs out', async () => {
    const committer = createGroupCommitter(db, { maxEvents: 5000, gatherMs: 50 });
    await Promise.all(['burst', 'burst', 'burst'].map((action) => committer.write(job(action))));
    assert.deepEqual(await committer.write(job('straggler')), ['stored']);
    assert.equal(await transactions('straggler'), 1);
  });
});
