/**
 * Runs race scenarios: many instances of a few concurrent requests (each instance with its own ids, so instances
 * never touch each other), queued while no worker runs and then stored by real worker processes; each instance's
 * state must be the model's result for some interleaving of its requests (each request's own order kept).
 */
import type { Knex } from 'knex';
import { TestEnv } from '../support/testEnv';
import { ChildDaemon } from '../support/daemon';
import { canonicalJson, projectState } from './canonicalState';
import { invariantViolations, readDatabaseState } from './databaseState';
import { interleavings } from './interleavings';
import { ModelEvent, readEvent } from './modelEvent';
import { createModelTenant, ModelTenant, postAll, startWorkers, stopWorkers, waitSettled, WorkerShape } from './modelHarness';
import { DEFAULT_SETTINGS, ModelSettings, runModel, storedInsertIds } from './referenceModel';

type Json = Record<string, unknown>;

export interface RaceScenario {
  name: string;
  settings?: ModelSettings;
  instances: number;
  /** Requests stored (and settled) before the race, in order. */
  setup?: (tag: string) => Json[][];
  /** Whether this scenario answers for deadlock retries of the whole run. */
  countsDeadlocks?: boolean;
  /** Workers of its own (its race then runs in a phase of its own), instead of the shape shared by the others. */
  workers?: WorkerShape;
  /** The concurrent requests of one instance; every id in them contains `tag`. */
  race: (tag: string, instance: number) => Json[][];
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

/** Posts the requests, noting every refusal the model does not expect (the first few in full). */
async function postRequests(baseUrl: string, tenant: ModelTenant, requests: Json[][], expectedRefusals: number[][], problems: string[], lanes: number): Promise<void> {
  const replies = await postAll(baseUrl, tenant, requests, lanes);
  const misread = replies.flatMap((reply, index) => {
    const refused = ((reply.body as { rejected?: Array<{ index: number }> } | undefined)?.rejected ?? []).map((rejection) => rejection.index);
    return canonicalJson(refused) === canonicalJson(expectedRefusals[index]) ? [] : [`request ${JSON.stringify(requests[index])}: answered ${reply.status} refusing ${JSON.stringify(refused)}, the model refuses ${JSON.stringify(expectedRefusals[index])}`];
  });
  problems.push(...misread.slice(0, 3));
  if (misread.length > 3) problems.push(`... ${misread.length} requests in all answered other than the model says`);
}

interface Prepared {
  scenario: RaceScenario;
  settings: ModelSettings;
  tenant: ModelTenant;
  tags: string[];
  setups: Array<ReturnType<typeof readAll>>;
  races: Array<{ requests: Json[][] } & ReturnType<typeof readAll>>;
  problems: string[];
}

/**
 * Queues every scenario's requests of one phase, then lets workers store them all; files what went wrong under the
 * scenario it concerns (or under each, when it concerns them all) and returns the deadlock retries the workers logged.
 */
async function runPhase(prepared: Prepared[], requestsOf: (p: Prepared) => { requests: Json[][]; refused: number[][] }, parts: ScenarioParts, shape: WorkerShape, lanes: number): Promise<string[]> {
  await Promise.all(prepared.map((p) => postRequests(parts.baseUrl, p.tenant, requestsOf(p).requests, requestsOf(p).refused, p.problems, lanes)));
  const workers = await startWorkers(parts.env, shape, parts.children);
  const settled = await waitSettled(parts.baseUrl, prepared.map((p) => p.tenant));
  for (const p of prepared) p.problems.push(...settled.filter((line) => !/tenant \d+:/.test(line) || line.includes(`tenant ${p.tenant.id}:`)));
  return (await stopWorkers(workers)).filter((line) => /deadlock detected/.test(line));
}

export interface ScenarioParts {
  env: TestEnv;
  db: Knex;
  baseUrl: string;
  children: ChildDaemon[];
}

/**
 * Runs the scenarios together, each in a tenant of its own: their setups are stored first, then all their races
 * are queued while no worker runs and stored by one set of workers (a scenario with workers of its own gets a
 * phase of its own). Returns each scenario's problems by name.
 */
export async function runRaceScenarios(scenarios: RaceScenario[], parts: ScenarioParts, shape: WorkerShape): Promise<Map<string, string[]>> {
  const prepared: Prepared[] = [];
  for (const scenario of scenarios) {
    const settings = scenario.settings ?? DEFAULT_SETTINGS;
    const tags = Array.from({ length: scenario.instances }, (_, i) => tagOf(i));
    prepared.push({
      scenario,
      settings,
      tenant: await createModelTenant(parts.baseUrl, `race-${scenario.name}-${Date.now()}`, settings),
      tags,
      setups: tags.map((tag) => readAll(scenario.setup?.(tag) ?? [])),
      races: tags.map((tag, i) => ({ requests: scenario.race(tag, i), ...readAll(scenario.race(tag, i)) })),
      problems: [],
    });
  }
  const deadlockRetries: string[] = [];
  const withSetup = prepared.filter((p) => p.scenario.setup);
  if (withSetup.length > 0) {
    // The setup only has to be stored, in order, before the race: posted one by one to one worker process (which
    // also starts quicker than several), so it is processed in the order the model reads it.
    const oneWorker = { workers: 1, concurrency: 64, batchMaxEvents: 500 };
    deadlockRetries.push(...(await runPhase(withSetup, (p) => ({ requests: p.tags.flatMap((tag) => p.scenario.setup?.(tag) ?? []), refused: p.setups.flatMap((setup) => setup.refused) }), parts, oneWorker, 1)));
  }
  for (const own of [undefined, ...new Set(prepared.map((p) => p.scenario.workers).filter((workers) => workers !== undefined))]) {
    const phase = prepared.filter((p) => p.scenario.workers === own);
    deadlockRetries.push(...(await runPhase(phase, (p) => ({ requests: p.races.flatMap((race) => race.requests), refused: p.races.flatMap((race) => race.refused) }), parts, own ?? shape, 4)));
  }
  const deadlocks = deadlockRetries.length;

  const verdicts = new Map<string, string[]>();
  for (const p of prepared) {
    const actual = await readDatabaseState(parts.db, p.tenant.id);
    let unexplained = 0;
    for (const [i, tag] of p.tags.entries()) {
      const allowed = new Set(interleavings(p.races[i].events).map((order) => canonicalJson(runModel([...p.setups[i].events.flat(), ...order], p.settings))));
      const got = canonicalJson(projectState(actual, (key) => key.includes(tag)));
      if (!allowed.has(got)) {
        unexplained++;
        // The first few in full; the count says how many more.
        if (unexplained <= 2) p.problems.push(`instance ${tag}: no order of its events explains\n  ${got}\n  allowed (${allowed.size}):\n  ${[...allowed.keys()].join('\n  ')}`);
      }
    }
    if (unexplained > 0) p.problems.push(`${unexplained} of ${p.tags.length} instances ended in a state that no order of their events explains`);
    const allEvents = [...p.setups.flatMap((setup) => setup.events.flat()), ...p.races.flatMap((race) => race.events.flat())];
    p.problems.push(...(await invariantViolations(parts.db, p.tenant.id, storedInsertIds(allEvents, p.settings))));
    if (p.scenario.countsDeadlocks && deadlocks > 0) p.problems.push(`${deadlocks} job attempts (over all scenarios) failed with "deadlock detected" and were retried`);
    verdicts.set(p.scenario.name, p.problems);
  }
  return verdicts;
}
