/** What the delivery log keeps of one ingest request: who sent what, and what activityd answered. */
import { newTimeOrderedId } from '../timeOrderedIds';
import type { Rejection } from '../normalize/normalizeBody';

export type Endpoint = 'analytics' | 'analytics/bulk' | 'httpapi' | 'batch';

export interface DeliveryRecord {
  id: string;
  tenantId: number;
  receivedAt: number;
  endpoint: Endpoint;
  userAgent: string | null;
  status: number;
  accepted: number;
  rejected: Rejection[];
}

/** The request side of a record, known before the answer. */
export interface DeliveryStart {
  id: string;
  endpoint: Endpoint;
  userAgent: string | null;
  receivedAt: number;
}

export function startDelivery(endpoint: Endpoint, userAgent: string | undefined, receivedAt: number): DeliveryStart {
  return { id: newTimeOrderedId(receivedAt), endpoint, userAgent: userAgent ? userAgent.slice(0, 500) : null, receivedAt };
}

export function finishDelivery(start: DeliveryStart, tenantId: number, status: number, accepted: number, rejected: Rejection[]): DeliveryRecord {
  return { ...start, tenantId, status, accepted, rejected };
}

/** A job's link to its delivery: each event's index in the request body, and the record itself on the request's first job. */
export interface JobDelivery {
  id: string;
  indexes: number[];
  record?: DeliveryRecord;
}
