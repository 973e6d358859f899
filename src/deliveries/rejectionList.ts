/**
 * How many rejection reasons an answer and a delivery record carry: the first 100, and the count of all of them,
 * so a body of 10,000 invalid events is answered and kept in kilobytes instead of megabytes.
 */
import type { Rejection } from '../normalize/normalizeBody';

export const MAX_LISTED_REJECTIONS = 100;

export function firstRejections(rejected: Rejection[]): Rejection[] {
  return rejected.length > MAX_LISTED_REJECTIONS ? rejected.slice(0, MAX_LISTED_REJECTIONS) : rejected;
}

/** The `rejected` of an HTTP answer, with `rejectedCount` only when the list was cut (so short answers keep their shape). */
export function rejectionFields(rejected: Rejection[]): { rejected: Rejection[]; rejectedCount?: number } {
  return rejected.length > MAX_LISTED_REJECTIONS ? { rejected: firstRejections(rejected), rejectedCount: rejected.length } : { rejected };
}
