/** What the delivery log keeps of one ingest request: who sent what, and what activityd answered. */
import { newSequencedId } from '../timeOrderedIds';
import type { Rejection } from '../normalize/normalizeBody';
import { firstRejections } from './rejectionList';

/** The ingest endpoints a delivery names; the worker refuses a job whose record names another. */
export const ENDPOINTS = ['analytics', 'analytics/bulk', 'httpapi', 'batch', 'identify', 'groupidentify'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

export interface DeliveryRecord {
  id: string;
  tenantId: number;
  receivedAt: number;
  endpoint: Endpoint;
  userAgent: string | null;
  status: number;
  accepted: number;
  /** The first MAX_LISTED_REJECTIONS reasons. */
  rejected: Rejection[];
  /** How many events were rejected in all; absent in records made before it was kept. */
  rejectedCount?: number;
}

/** The request side of a record, known before the answer. */
export interface DeliveryStart {
  id: string;
  endpoint: Endpoint;
  userAgent: string | null;
  receivedAt: number;
}

/** The User-Agent kept with a delivery is cut to this many characters: senders' agents are short, and the column holds 500. (HTTP header values arrive as Latin-1, one character per byte, so no character is ever split.) */
export const MAX_USER_AGENT_CHARS = 500;

export function startDelivery(endpoint: Endpoint, userAgent: string | undefined, receivedAt: number): DeliveryStart {
  return { id: newSequencedId(receivedAt), endpoint, userAgent: userAgent ? userAgent.slice(0, MAX_USER_AGENT_CHARS) : null, receivedAt };
}

export function finishDelivery(start: DeliveryStart, tenantId: number, status: number, accepted: number, rejected: Rejection[]): DeliveryRecord {
  return { ...start, tenantId, status, accepted, rejected: firstRejections(rejected), rejectedCount: rejected.length };
}

/** A job's link to its delivery: each event's index in the request body, and the record itself on the request's first job. */
export interface JobDelivery {
  id: string;
  indexes: number[];
  record?: DeliveryRecord;
}
