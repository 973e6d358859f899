/**
 * The receiver's decision on a gathered job, which the worker waits for before storing it, so that a `503` means none
 * of the job's events is stored even when Redis took the job and its acknowledgement was lost (docs/guarantees.md).
 * The receiver decides once per job: confirmed when Redis acknowledged it in time (its requests get `202`), withdrawn
 * when it gave up on it (`503`). Both keys live under the queue's prefix, so they share the job's cluster slot.
 */
import type { RedisClient } from './redis';
import { INGEST_QUEUE } from './ingestQueue';

/** Room, past the receiver's own timeout and its withdrawal's, for a busy event loop or a reconnect (ioredis's 2 s backoff). */
export const DECISION_GRACE_MS = 3000;

/**
 * How long after a job was made (BullMQ's `timestamp`, the receiver's clock) a worker waits for the decision: the
 * receiver decides within one ENQUEUE_TIMEOUT_MS of the add and sends its decision at once. A job still undecided
 * after this is taken to belong to a receiver that died before answering; its requests got no answer and are resent,
 * so it is stored (insert ids make the resend a duplicate).
 */
export function decisionWindowMs(enqueueTimeoutMs: number): number {
  return 2 * enqueueTimeoutMs + DECISION_GRACE_MS;
}

/**
 * A confirmation matters only within the window (past it the job is stored anyway), so it lives that long, plus a
 * minute for clocks that differ between hosts; the worker also deletes it once the job is stored.
 */
export function confirmedTtlSeconds(enqueueTimeoutMs: number): number {
  return Math.ceil(decisionWindowMs(enqueueTimeoutMs) / 1000) + 60;
}

export function confirmedKey(prefix: string, jobId: string): string {
  return `${prefix}:${INGEST_QUEUE}:confirmed:${jobId}`;
}

/**
 * The key that withdraws a gathered job the receiver answered 503 for: a worker that finds it completes the job
 * without storing anything. Unlike a confirmation it must outlive the window, as it alone keeps the job from being stored.
 */
export function withdrawnKey(prefix: string, jobId: string): string {
  return `${prefix}:${INGEST_QUEUE}:withdrawn:${jobId}`;
}

/**
 * How long a withdrawal stays: a withdrawn job still waiting in the queue after this (no worker ran for a week)
 * would be stored. Only jobs the receiver gave up on leave one, so they cost Redis next to nothing.
 */
export const WITHDRAWN_TTL_SECONDS = 7 * 24 * 60 * 60;

/**
 * Withdraws jobs, all in one step, whatever their state: one not in Redis yet (ioredis resends an add that was
 * unanswered when its connection broke) is withdrawn ahead of its arrival, and one a worker holds waits for this
 * decision, so no attempt of it stores anything.
 */
export async function withdrawJobs(connection: RedisClient, prefix: string, ids: string[]): Promise<void> {
  const step = connection.multi();
  for (const id of ids) step.set(withdrawnKey(prefix, id), '1', 'EX', WITHDRAWN_TTL_SECONDS);
  const replies = (await step.exec()) ?? [];
  const failed = replies.find(([error]) => error);
  if (failed) throw failed[0];
}

/** Confirms jobs Redis acknowledged in time; sent without waiting, on the connection that added them, so Redis reads it after them. */
export function confirmJobs(connection: RedisClient, prefix: string, ids: string[], enqueueTimeoutMs: number): void {
  const ttl = confirmedTtlSeconds(enqueueTimeoutMs);
  // Its failure costs only time: an unconfirmed job is stored once the window is over.
  for (const id of ids) connection.set(confirmedKey(prefix, id), '1', 'EX', ttl).catch(() => undefined);
}

/**
 * The decision on a job, in one round trip; a withdrawal found is removed (the job completes storing nothing, and is
 * never run again). `undefined`: not decided yet. A pipeline, not a transaction: the receiver sets one key or the
 * other, once, so a decision landing between the two reads is seen at the next look.
 */
export async function readDecision(connection: RedisClient, prefix: string, jobId: string): Promise<'confirmed' | 'withdrawn' | undefined> {
  const replies = await connection.pipeline().del(withdrawnKey(prefix, jobId)).exists(confirmedKey(prefix, jobId)).exec();
  if (!replies) throw new Error('Redis did not run the decision check');
  const [[withdrawError, withdrawn], [confirmError, confirmed]] = replies as Array<[Error | null, number]>;
  if (withdrawError || confirmError) throw withdrawError ?? confirmError;
  if (withdrawn > 0) return 'withdrawn';
  return confirmed > 0 ? 'confirmed' : undefined;
}

/** Once a confirmed job is stored its confirmation is spent; not waited for, the TTL removes it otherwise. */
export function forgetConfirmation(connection: RedisClient, prefix: string, jobId: string): void {
  connection.del(confirmedKey(prefix, jobId)).catch(() => undefined);
}
