/**
 * Runs a race scenario: many instances of a few concurrent requests (each instance with its own ids, so instances
 * never touch each other), queued while no worker runs and then stored by real worker processes; each instance's
 * state must be the model's result for some interleaving of its requests (each request's own order kept).
 */
import type { Knex } from 'knex';
import { TestEnv } from '../support/testEnv';
import { ChildDaemon } from '../support/daemon';
import { canonicalJson, CanonicalState, projectState } from './canonicalState';
import { invariantViolations, readDatabaseState } from './databaseState';
import { interleavings } from './interleavings';
import { ModelEvent, readEvent } from './modelEvent';
import { createModelTenant, ModelTenant, postEvents, startWorkers, stopWorkers, waitSettled, WorkerShape } from './modelHarness';
import { DEFAULT_SETTINGS, ModelSettings, runModel, storedInsertIds } from './referenceModel';

type Json = Record<string, unknown>;

export interface RaceScenario {
  name: string;
  settings?: ModelSettings;
  instances: number;
  workers: WorkerShape;
  /** Requests stored (and settled) before the race, in order. */
  setup?: (tag: string) => Json[][];
  /** The concurrent requests of one instance; every id in them contains `tag`. */
  race: (tag: string, instance: number) => Json[][];
}

export interface RaceVerdict {
  /** One line per instance that ended in a state no interleaving explains, per refusal the model did not expect, per broken invariant, per deadlock retry. */
  problems: string[];
  instances: number;
}

function readAll(requests: Json[][]): { events: ModelEvent[][]; refused: number[][] } {
  const reads = requests.map((request) => request.map(readEvent));
  return {
    events: reads.map((request) => request.flatMap((read) => (read.ok ? [read.event] : []))),
    refused: reads.map((request) => request.flatMap((read, index) => (read.ok ? [] : [index]))),
  };
}

/** The instance tag: fixed width, so no tag is part of another. */
const tagOf = (instance: number) => `k${String(instance).padStart(3, '0')}`;

async function postInOrder(baseUrl: string, tenant: ModelTenant, requests: Json[][], expectedRefusals: number[][], problems: string[]): Promise<void> {
  // A few lanes keep it quick; an instance's requests are adjacent in the queue either way.
  let next = 0;
  let misread = 0;
  const lane = async () => {
    while (next < requests.length) {
      const index = next++;
      const reply = await postEvents(baseUrl, tenant, requests[index]);
      const refused = ((reply.body as { rejected?: Array<{ index: number }> } | undefined)?.rejected ?? []).map((rejection) => rejection.index);
      if (canonicalJson(refused) !== canonicalJson(expectedRefusals[index]) && ++misread <= 3) {
        problems.push(`request ${JSON.stringify(requests[index])}: answered ${reply.status} refusing ${JSON.stringify(refused)}, the model refuses ${JSON.stringify(expectedRefusals[index])}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, lane));
  if (misread > 3) problems.push(`... ${misread} requests in all answered other than the model says`);
}

export async function runRaceScenario(scenario: RaceScenario, parts: { env: TestEnv; db: Knex; baseUrl: string; children: ChildDaemon[] }): Promise<RaceVerdict> {
  const settings = scenario.settings ?? DEFAULT_SETTINGS;
  const tenant = await createModelTenant(parts.baseUrl, `race-${scenario.name}-${Date.now()}`, settings);
  const problems: string[] = [];
  const tags = Array.from({ length: scenario.instances }, (_, i) => tagOf(i));

  const setups = tags.map((tag) => readAll(scenario.setup?.(tag) ?? []));
  if (scenario.setup) {
    await postInOrder(parts.baseUrl, tenant, tags.flatMap((tag) => scenario.setup?.(tag) ?? []), setups.flatMap((setup) => setup.refused), problems);
    const workers = await startWorkers(parts.env, scenario.workers, parts.children);
    await waitSettled(parts.baseUrl, [tenant]);
    await stopWorkers(workers);
  }

  const races = tags.map((tag, i) => ({ requests: scenario.race(tag, i), ...readAll(scenario.race(tag, i)) }));
  await postInOrder(parts.baseUrl, tenant, races.flatMap((race) => race.requests), races.flatMap((race) => race.refused), problems);
  const workers = await startWorkers(parts.env, scenario.workers, parts.children);
  await waitSettled(parts.baseUrl, [tenant]);
  const retried = await stopWorkers(workers);

  const actual = await readDatabaseState(parts.db, tenant.id);
  let unexplained = 0;
  for (const [i, tag] of tags.entries()) {
    const before = setups[i].events.flat();
    const allowed = new Map<string, CanonicalState>();
    for (const order of interleavings(races[i].events)) {
      const state = runModel([...before, ...order], settings);
      allowed.set(canonicalJson(state), state);
    }
    const got = projectState(actual, (key) => key.includes(tag));
    if (!allowed.has(canonicalJson(got))) {
      unexplained++;
      // The first few in full; the count says how many more.
      if (unexplained <= 3) problems.push(`instance ${tag}: no order of its events explains\n  ${canonicalJson(got)}\n  allowed (${allowed.size}):\n  ${[...allowed.keys()].join('\n  ')}`);
    }
  }
  if (unexplained > 0) problems.push(`${unexplained} of ${scenario.instances} instances ended in a state that no order of their events explains`);

  const allEvents = [...setups.flatMap((setup) => setup.events.flat()), ...races.flatMap((race) => race.events.flat())];
  problems.push(...(await invariantViolations(parts.db, tenant.id, storedInsertIds(allEvents, settings))));
  const deadlocks = retried.filter((line) => /deadlock detected/.test(line));
  if (deadlocks.length > 0) problems.push(`${deadlocks.length} job attempts failed with "deadlock detected" and were retried`);
  return { problems, instances: scenario.instances };
}
