/** The one internal form every accepted event takes, whatever format it arrived in; this is what the queue carries. */
export interface ActivityEvent {
  externalId?: string;
  /** Trimmed and lower-cased. */
  email?: string;
  name?: string;
  companyExternalId?: string;
  action: string;
  /** Epoch milliseconds, UTC. */
  date: number;
  count: number;
  weight: number;
  info: Record<string, unknown>;
  /** Unique per tenant: the sender's insert id, or one the receiver made. */
  insertId: string;
}

/** A refusal names the field and the reason: "date: not a valid date". */
export class FieldError extends Error {
  constructor(readonly field: string, reason: string) {
    super(`${field}: ${reason}`);
  }
}
