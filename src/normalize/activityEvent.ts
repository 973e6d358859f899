export type EventKind = 'identify' | 'groupidentify';

/** The one internal form every accepted event takes, whatever format it arrived in; this is what the queue carries. */
export interface ActivityEvent {
  /**
   * identify: updates the end user and stores no activity. groupidentify (Amplitude's `$groupidentify`): updates or
   * creates the company `companyExternalId` (none: the group is not the tenant's company group, and it is ignored),
   * names no person and stores no activity. Absent: an activity.
   */
  kind?: EventKind;
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
  /** The event's `user_properties` as sent, Amplitude's operations ($set, $add, ...) included, for its end user. */
  userProperties?: Record<string, unknown>;
  /** The `group_properties` of the tenant's company group, operations included, for the event's company. */
  companyProperties?: Record<string, unknown>;
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
