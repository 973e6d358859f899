/**
 * Issue 14: randomized streams whose result does not depend on order, posted over real HTTP to a real receiver
 * and stored by real `activityd worker` processes (1 on SQLite, 3 on PostgreSQL), must leave each tenant exactly
 * in the reference model's state, with every SQL invariant holding. The seed is printed; replay a run with
 * `MODEL_SEED=<seed> [TEST_DATABASE=postgres] npx mocha dist/test/model/orderFreeStreams.test.js`.
 */
import assert from 'node:assert/strict';
import { TEST_DATABASE, TestEnv } from '../support/testEnv';
import { ChildDaemon, InProcessDaemon } from '../support/daemon';
import { useDaemon } from '../support/fixtures';
import type { Db } from '../../src/store/db';
import { canonicalJson, diffStates } from './canonicalState';
import { invariantViolations, readDatabaseState } from './databaseState';
import { ModelEvent, readEvent } from './modelEvent';
import { createModelTenant, postAll, startWorkers, stopWorkers, waitSettled, WorkerShape } from './modelHarness';
import { ModelSettings, runModel, storedInsertIds } from './referenceModel';
import { orderFreeStream } from './orderFreeStream';
import { runSeed, seededRandom } from './seededRandom';

const EVENTS_PER_RUN = 2000;
// SQLite has one writer: one process with many jobs in flight. PostgreSQL: three processes with small batches, so
// jobs naming the same people and companies are written by different workers at the same time.
const WORKERS: WorkerShape = TEST_DATABASE === 'postgres' ? { workers: 3, concurrency: 4, batchMaxEvents: 60 } : { workers: 1, concurrency: 64, batchMaxEvents: 500 };

const TENANT_SETTINGS: Record<string, ModelSettings> = {
  main: { autoCreateCompanies: true, includeActions: [], excludeActions: ['Page Viewed', 'Debug *'] },
  second: { autoCreateCompanies: false, includeActions: ['Clicked *', 'Opened report', 'Page Viewed'], excludeActions: [] },
};

function modelEvents(requests: unknown[][]): ModelEvent[] {
  return requests.flat().map((raw, index) => {
    const read = readEvent(raw);
    if (!read.ok) throw new Error(`the stream's event ${index} would be refused (${read.reason}): ${JSON.stringify(raw)}`);
    return read.event;
  });
}

describe('model: randomized order-free streams against the reference model (issue 14)', () => {
  let env: TestEnv;
  let db: Db;
  let receiver: InProcessDaemon;
  let children: ChildDaemon[];

  useDaemon({ worker: false }, (parts) => ({ env, db, daemon: receiver, children } = parts));

  it(`${EVENTS_PER_RUN} overlapping events, two tenants: the database equals the model exactly, every invariant holds, no job retried for a deadlock`, async function () {
    this.timeout(120000);
    const seed = runSeed();
    const replay = `MODEL_SEED=${seed} TEST_DATABASE=${TEST_DATABASE} npx mocha dist/test/model/orderFreeStreams.test.js`;
    console.log(`      model seed ${seed} (replay: ${replay})`);
    const random = seededRandom(seed);
    const stream = orderFreeStream(random, EVENTS_PER_RUN);
    const events = modelEvents(stream.requests);

    const tenants = await Promise.all(Object.entries(TENANT_SETTINGS).map(([name, settings]) => createModelTenant(receiver.baseUrl, `model-${name}-${seed}`, settings, stream.adminCompanies)));
    const expected = tenants.map((tenant) => runModel(events, tenant.settings, stream.adminCompanies));
    // The stream's own promise, checked on the model: any order of its events ends in the same state.
    for (const [t, tenant] of tenants.entries()) {
      const shuffled = runModel(random.shuffled(events), tenant.settings, stream.adminCompanies);
      assert.equal(canonicalJson(shuffled), canonicalJson(expected[t]), `seed ${seed}: the generated stream depends on order (a generator bug):\n${diffStates(expected[t], shuffled).join('\n')}`);
    }

    // Amplitude-only requests go to the HTTP V2 API now and then; both tenants get every request.
    const amplitudeOnly = (events: unknown[]) => events.every((event) => 'event_type' in (event as object) || 'user_properties' in (event as object));
    const replies = (await Promise.all(tenants.map((tenant) => postAll(receiver.baseUrl, tenant, stream.requests, 4, (index) => index % 3 === 0 && amplitudeOnly(stream.requests[index]))))).flat();
    const refused = replies.filter((reply) => (reply.status !== 202 && reply.status !== 200) || (reply.body as { rejected?: unknown[] }).rejected?.length);
    assert.deepEqual(refused.map((reply) => reply.text), [], `seed ${seed}: requests the model accepts were refused`);
    const workers = await startWorkers(env, WORKERS, children);
    const problems = await waitSettled(receiver.baseUrl, tenants, 90000);
    const retried = await stopWorkers(workers);

    for (const [t, tenant] of tenants.entries()) {
      const actual = await readDatabaseState(db, tenant.id);
      const differences = diffStates(expected[t], actual);
      if (differences.length > 0) problems.push(`tenant ${Object.keys(TENANT_SETTINGS)[t]} differs from the model:`, ...differences);
      const violations = await invariantViolations(db, tenant.id, storedInsertIds(events, tenant.settings));
      if (violations.length > 0) problems.push(`tenant ${Object.keys(TENANT_SETTINGS)[t]} breaks invariants:`, ...violations);
    }
    const deadlocks = retried.filter((line) => /deadlock detected/.test(line));
    if (deadlocks.length > 0) problems.push(`${deadlocks.length} job attempts failed with "deadlock detected" and were retried`);
    assert.ok(problems.length === 0, `seed ${seed} (replay: ${replay})\n${problems.join('\n')}`);
  });
});
