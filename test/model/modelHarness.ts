/**
 * Drives real activityd processes for the model tests: tenants and admin companies over the admin API, events
 * over real HTTP, `activityd worker` child processes started after the events are queued (so jobs of many
 * requests share batches, or race across workers), and waiting until the queue is drained.
 */
import { ADMIN_TOKEN, TestEnv, waitFor } from '../support/testEnv';
import { ChildDaemon, ensureStopped, spawnActivityd } from '../support/daemon';
import { post, Reply, request } from '../support/http';
import { AdminCompany, ModelSettings } from './referenceModel';

const CONSUMING = /worker consuming the ingest queue/;
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

export interface ModelTenant {
  id: number;
  token: string;
  settings: ModelSettings;
  /** Events the receiver accepted (202 or 200), summed over this tenant's requests. */
  accepted: number;
}

/** A new tenant with these settings and admin companies, once the receiver knows its token. */
export async function createModelTenant(baseUrl: string, name: string, settings: ModelSettings, companies: AdminCompany[] = []): Promise<ModelTenant> {
  const created = await request(`${baseUrl}/api/v1/tenants`, { method: 'POST', body: { name }, headers: admin });
  if (created.status !== 201) throw new Error(`POST /api/v1/tenants: ${created.status} ${created.text}`);
  const { id, token } = created.body as { id: number; token: string };
  const patched = await request(`${baseUrl}/api/v1/tenants/${id}`, { method: 'PATCH', body: { settings: { autoCreateCompanies: settings.autoCreateCompanies, includeActions: settings.includeActions, excludeActions: settings.excludeActions } }, headers: admin });
  if (patched.status !== 200) throw new Error(`PATCH tenant settings: ${patched.status} ${patched.text}`);
  if (companies.length > 0) {
    const seeded = await request(`${baseUrl}/api/v1/tenants/${id}/companies`, { method: 'POST', body: companies, headers: admin });
    if (seeded.status !== 200 || (seeded.body as { rejected: unknown[] }).rejected.length > 0) throw new Error(`POST companies: ${seeded.status} ${seeded.text}`);
  }
  // An empty object is refused (400) by a receiver that knows the token, and 401 until it does.
  await waitFor(`receiver knows tenant ${name}`, async () => (await post(`${baseUrl}/analytics/${token}`, {})).status === 400, 10000);
  return { id, token, settings, accepted: 0 };
}

/** Posts one request of events (Amplitude-only requests optionally to the HTTP V2 API); returns the reply and counts what was accepted. */
async function postEvents(baseUrl: string, tenant: ModelTenant, events: unknown[], viaHttpApi = false): Promise<Reply> {
  const reply = viaHttpApi ? await post(`${baseUrl}/2/httpapi`, { api_key: tenant.token, events }) : await post(`${baseUrl}/analytics/${tenant.token}`, events);
  if (reply.status === 202) tenant.accepted += (reply.body as { accepted: number }).accepted;
  else if (reply.status === 200) tenant.accepted += (reply.body as { events_ingested: number }).events_ingested;
  return reply;
}

/** Posts requests `lanes` at a time (neighbours stay neighbours in the queue); returns the replies in request order. */
export async function postAll(baseUrl: string, tenant: ModelTenant, requests: unknown[][], lanes: number, viaHttpApi: (index: number) => boolean = () => false): Promise<Reply[]> {
  const replies: Reply[] = [];
  let next = 0;
  const lane = async () => {
    while (next < requests.length) {
      const index = next++;
      replies[index] = await postEvents(baseUrl, tenant, requests[index], viaHttpApi(index));
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return replies;
}

export interface WorkerShape {
  workers: number;
  concurrency: number;
  batchMaxEvents: number;
}

/** Starts `activityd worker` processes (logging at info, so retried jobs show) and waits until each consumes. */
export async function startWorkers(env: TestEnv, shape: WorkerShape, children: ChildDaemon[]): Promise<ChildDaemon[]> {
  const workerEnv = { ...env.env, LOG_LEVEL: 'info', WORKER_CONCURRENCY: String(shape.concurrency), BATCH_MAX_EVENTS: String(shape.batchMaxEvents), DB_POOL_MAX: '4', JOB_BACKOFF_MS: '10' };
  const started = Array.from({ length: shape.workers }, () => spawnActivityd(['worker'], workerEnv));
  children.push(...started);
  await Promise.all(started.map((worker) => worker.waitForOutput(CONSUMING)));
  return started;
}

/** Stops workers (SIGTERM, waiting for them) and returns the retried-job warnings they logged. */
export async function stopWorkers(workers: ChildDaemon[]): Promise<string[]> {
  await Promise.all(workers.map(ensureStopped));
  return workers.flatMap((worker) => worker.output().split('\n').filter((line) => line.includes('job will be retried')));
}

interface DeliveryPage {
  data: Array<{ accepted: number; outcomes: Record<string, number> }>;
  nextCursor: string | null;
}

/** Jobs in the queue by state, from the receiver's /metrics. */
async function queueJobs(baseUrl: string): Promise<Record<string, number>> {
  const text = (await request(`${baseUrl}/metrics`)).text;
  return Object.fromEntries([...text.matchAll(/^activityd_queue_jobs\{state="(\w+)"\} (\d+)$/gm)].map((match) => [match[1], Number(match[2])]));
}

/**
 * Waits until the queue is drained (a job completes only once its batch committed, so everything accepted is
 * written, or failed for good). Then returns what is wrong: jobs that failed, and accepted events that the delivery
 * log does not know of or still calls pending.
 */
export async function waitSettled(baseUrl: string, tenants: ModelTenant[], timeoutMs = 60000): Promise<string[]> {
  const jobs = await waitFor(
    'the ingest queue drained',
    async () => {
      const counts = await queueJobs(baseUrl);
      return counts.waiting === 0 && counts.active === 0 && counts.delayed === 0 && counts;
    },
    timeoutMs,
    100,
  );
  const problems = jobs.failed > 0 ? [`${jobs.failed} jobs failed for good`] : [];
  for (const tenant of tenants) {
    let accepted = 0;
    let pending = 0;
    let cursor: string | null = null;
    do {
      const reply = await request(`${baseUrl}/api/v1/tenants/${tenant.id}/deliveries?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: admin });
      const page = reply.body as DeliveryPage;
      for (const delivery of page.data) {
        accepted += delivery.accepted;
        pending += delivery.outcomes.pending ?? 0;
      }
      cursor = page.nextCursor;
    } while (cursor);
    if (accepted !== tenant.accepted) problems.push(`delivery log of tenant ${tenant.id}: ${accepted} accepted events logged, ${tenant.accepted} answered as accepted`);
    if (pending > 0) problems.push(`delivery log of tenant ${tenant.id}: ${pending} accepted events still pending after the queue drained`);
  }
  return problems;
}
