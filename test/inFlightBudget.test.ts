import assert from 'node:assert/strict';
import { createInFlightBudget } from '../src/process/inFlightBudget';

describe('worker: events in flight bound the jobs it takes', () => {
  it('takes up to WORKER_CONCURRENCY jobs while under the event budget, and none more once over it', () => {
    const settings: number[] = [];
    const budget = createInFlightBudget({ maxJobs: 256, maxEvents: 1000 }, (jobs) => settings.push(jobs));
    budget.take(1);
    budget.take(1);
    assert.deepEqual(settings, [256, 256], 'small jobs: the full concurrency');
    budget.take(500);
    budget.take(500);
    assert.equal(settings.at(-1), 4, 'at 1,002 events in 4 jobs it takes no fifth');
    budget.give(1);
    assert.equal(settings.at(-1), 3, 'still at the budget (1,001): no more than the 3 it holds');
    budget.give(500);
    assert.equal(settings.at(-1), 256, 'under the budget again: the full concurrency');
  });

  it('never asks for fewer than one job, so a single job larger than the budget still runs', () => {
    const settings: number[] = [];
    const budget = createInFlightBudget({ maxJobs: 8, maxEvents: 100 }, (jobs) => settings.push(jobs));
    budget.take(5000);
    budget.give(5000);
    assert.deepEqual(settings, [1, 8]);
  });
});
