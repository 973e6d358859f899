/** The one internal form every accepted event takes, whatever format it arrived in; this is what the queue carries. */
export interface ActivityEvent {
  /** An identify event updates the end user and stores no activity. Absent: an activity. */
  kind?: 'identify';
  externalId?: string;
  /** Trimmed and lower-cased. */
  email?: string;
  name?: string;
  companyExternalId?: string;
  /** Name for the company if this event creates it (from Amplitude group properties). */
  companyName?: string;
  assetExternalId?: string;
  projectExternalId?: string;
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
  constructor(readonly field: string, readonly reason: string) {
    super(`${field}: ${reason}`);
  }

  /** The field is absent, rather than present with a bad value. */
  get missing(): boolean {
    return this.reason.startsWith('missing');
  }
}
