/**
 * The load driver, run as its own process so its CPU is not the receiver's: sends single-event or 1,000-event
 * POSTs with autocannon and prints one JSON line with throughput and latency.
 * Usage: node dist/test/bench/load.js '<LoadSpec as JSON>'
 */
import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  /** "single": one event per POST; "bulk": an array of `eventsPerRequest` events per POST. */
  kind: 'single' | 'bulk';
  eventsPerRequest: number;
  /** The action every event carries, so a phase's activities can be told apart. */
  action: string;
  connections: number;
  /** Requests to send (ends the run), or ... */
  amount?: number;
  /** ... seconds to run at `rate` requests/s. */
  duration?: number;
  rate?: number;
}

export interface LoadResult {
  startedAt: number;
  finishedAt: number;
  seconds: number;
  requests: number;
  ok: number;
  failed: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

const USERS = 1000;

/** Realistic enough: a thousand people, a few companies, a small info object; each event gets its insertId at the receiver. */
function event(action: string, n: number) {
  const user = n % USERS;
  return { externalId: `bench-user-${user}`, email: `user${user}@bench${user % 20}.example`, action, companyExternalId: `bench-co-${user % 20}`, info: { n, plan: 'pro' } };
}

function bodies(spec: LoadSpec): string[] {
  const count = spec.kind === 'single' ? USERS : 10;
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify(spec.kind === 'single' ? event(spec.action, i) : Array.from({ length: spec.eventsPerRequest }, (_, j) => event(spec.action, i * spec.eventsPerRequest + j))),
  );
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]) as LoadSpec;
  const pool = bodies(spec);
  let next = 0;
  const startedAt = Date.now();
  const result = await autocannon({
    url: spec.url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    connections: spec.connections,
    // autocannon refuses keys present but undefined.
    ...(spec.amount !== undefined && { amount: spec.amount }),
    ...(spec.duration !== undefined && { duration: spec.duration }),
    ...(spec.rate !== undefined && { overallRate: spec.rate }),
    timeout: 30,
    requests: [{ method: 'POST', setupRequest: (request) => ({ ...request, body: pool[next++ % pool.length] }) }],
  });
  const finishedAt = Date.now();
  const requests = result['2xx'] + result.non2xx + result.errors + result.timeouts;
  const out: LoadResult = {
    startedAt,
    finishedAt,
    seconds: (finishedAt - startedAt) / 1000,
    requests,
    ok: result['2xx'],
    failed: requests - result['2xx'],
    requestsPerSecond: result['2xx'] / ((finishedAt - startedAt) / 1000),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
