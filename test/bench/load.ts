/**
 * The load driver, run as its own process so its CPU is not the receiver's: sends single-event or 1,000-event
 * POSTs over keep-alive connections (undici) and prints one JSON line with throughput and latency. Closed loop
 * (`amount`: each connection sends its next request when the last is answered) measures full load; open loop
 * (`rate` for `duration`) offers a fixed rate, and latency counts from when a request was due, so a stalled
 * receiver is not hidden by requests that were simply not sent (coordinated omission).
 * Usage: node dist/test/bench/load.js '<LoadSpec as JSON>'
 */
import crypto from 'node:crypto';
import { Pool } from 'undici';
import { exportEvent, UUID_SLOT } from './exportEvents';

export interface LoadSpec {
  url: string;
  /** "single": one event per POST; "bulk": an array of `eventsPerRequest` events per POST. */
  kind: 'single' | 'bulk';
  eventsPerRequest: number;
  /** The action every event carries, so a phase's activities can be told apart. */
  action: string;
  /** "amplitude-export": single events as Amplitude's Webhook destination sends them (about 2 KB each); default: small events of our own format. */
  format?: 'activityd' | 'amplitude-export';
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

export const USERS = 1000;

/** Realistic enough: a thousand people, a few companies, a small info object; each event gets its insertId at the receiver. */
function event(action: string, n: number) {
  const user = n % USERS;
  return { externalId: `bench-user-${user}`, email: `user${user}@bench${user % 20}.example`, action, companyExternalId: `bench-co-${user % 20}`, info: { n, plan: 'pro' } };
}

function bodies(spec: LoadSpec): string[] {
  const count = spec.kind === 'single' ? USERS : 10;
  if (spec.format === 'amplitude-export') return Array.from({ length: count }, (_, i) => JSON.stringify(spec.kind === 'single' ? exportEvent(spec.action, i, USERS) : Array.from({ length: spec.eventsPerRequest }, (_, j) => exportEvent(spec.action, i * spec.eventsPerRequest + j, USERS))));
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify(spec.kind === 'single' ? event(spec.action, i) : Array.from({ length: spec.eventsPerRequest }, (_, j) => event(spec.action, i * spec.eventsPerRequest + j))),
  );
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]) as LoadSpec;
  const target = new URL(spec.url);
  const pool = new Pool(target.origin, { connections: spec.connections, pipelining: 1, keepAliveTimeout: 60000 });
  const payloads = bodies(spec);
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let next = 0;

  async function send(dueAt: number): Promise<void> {
    try {
      const body = payloads[next++ % payloads.length].replaceAll(UUID_SLOT, () => crypto.randomUUID());
      const response = await pool.request({ path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await response.body.dump();
      if (response.statusCode >= 200 && response.statusCode < 300) ok += 1;
      else failed += 1;
    } catch {
      failed += 1;
    }
    latencies.push(performance.now() - dueAt);
  }

  const startedAt = Date.now();
  if (spec.amount !== undefined) {
    let left = spec.amount;
    await Promise.all(
      Array.from({ length: spec.connections }, async () => {
        while (left > 0) {
          left -= 1;
          await send(performance.now());
        }
      }),
    );
  } else {
    const rate = spec.rate as number;
    const total = Math.round(rate * (spec.duration as number));
    const begin = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < total; ) {
      // Everything due by now goes out; then sleep a millisecond.
      const due = Math.floor(((performance.now() - begin) / 1000) * rate);
      for (; i < Math.min(due, total); i++) inFlight.push(send(begin + (i / rate) * 1000));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(inFlight);
  }
  const finishedAt = Date.now();
  await pool.close();
  const sorted = Float64Array.from(latencies).sort();
  const out: LoadResult = {
    startedAt,
    finishedAt,
    seconds: (finishedAt - startedAt) / 1000,
    requests: ok + failed,
    ok,
    failed,
    requestsPerSecond: ok / ((finishedAt - startedAt) / 1000),
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
