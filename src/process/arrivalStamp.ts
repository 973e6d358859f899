/**
 * An event's arrival stamp: text that sorts in the order the receivers took the events in. Its request's delivery id
 * (a UUIDv7 the receiver made as the request arrived, ordered within the receiving process: newSequencedId), then the
 * event's index in that request. Between receiver processes the order is that of their clocks, to the millisecond.
 * Jobs queued before the delivery log existed carry no delivery id: their request is named by the job's receivedAt
 * in the same form, with zeros where the id's random part is, so two such jobs of one millisecond are not told apart.
 */
export interface Arrival {
  /** The request the event came in: its delivery id. */
  request: string;
  /** Request, then the event's index in it. */
  stamp: string;
}

const hexTime = (ms: number) => Math.max(0, Math.trunc(ms)).toString(16).padStart(12, '0').slice(-12);

export function arrivalOf(receivedAt: number, delivery: { id: string; index: number } | undefined, eventIndex: number): Arrival {
  const time = hexTime(receivedAt);
  const request = (delivery?.id ?? `${time.slice(0, 8)}-${time.slice(8)}-0000-0000-000000000000`).toLowerCase();
  // Nine digits: a request holds at most MAX_BODY_BYTES of events, far fewer than a billion.
  return { request, stamp: `${request}/${String(delivery?.index ?? eventIndex).padStart(9, '0')}` };
}
