/** Turns a parsed request body (one event or an array) into accepted activity events and per-index refusals. */
import { ActivityEvent, FieldError } from './activityEvent';
import { amplitudeFields, isAmplitudeEvent } from './amplitude';
import { planhatFields } from './planhat';
import { toActivityEvent } from './eventFields';
import { DEFAULT_SETTINGS, TenantSettings } from '../tenants/settings';
import { describe, isPlainObject, MAX_EVENT_DEPTH, nestedDeeperThan } from './fields';

export interface Rejection {
  index: number;
  error: string;
}

export interface NormalizedBody {
  events: ActivityEvent[];
  /** Each accepted event's index in the body. */
  indexes: number[];
  rejected: Rejection[];
  /** The refusals' field names, for responses that group them by field (Amplitude's HTTP API). */
  refusedFields: Array<{ index: number; field: string; missing: boolean }>;
  /** Indexes refused only because they were over MAX_EVENT_BYTES. */
  oversized: number[];
  /** How many events the body held. */
  total: number;
}

export interface NormalizeOptions {
  /** Array required (the bulk endpoint), and Planhat's short names id/cId accepted. */
  bulk: boolean;
  maxEventBytes: number;
  /** Most events the body may hold (MAX_EVENTS_PER_REQUEST); absent: no limit. */
  maxEvents?: number;
  receivedAt: number;
  /** Byte length of the body, to skip per-event size checks when the whole body is under the limit. */
  bodyBytes: number;
  /** The tenant's mappings and identity settings; defaults when absent. */
  settings?: TenantSettings;
  /** Every event is an Amplitude event (the HTTP V2 API); otherwise each object's form is told apart. */
  amplitudeOnly?: boolean;
}

export class BodyError extends Error {}

/** The body holds more events than MAX_EVENTS_PER_REQUEST: refused whole (413) before any event is looked at. */
export class TooManyEventsError extends BodyError {}

export function normalizeBody(body: unknown, options: NormalizeOptions): NormalizedBody {
  let items: unknown[];
  if (Array.isArray(body)) items = body;
  else if (options.bulk) throw new BodyError(`body must be a JSON array of events, got ${describe(body)}`);
  else if (isPlainObject(body)) items = [body];
  else throw new BodyError(`body must be a JSON object or an array of objects, got ${describe(body)}`);
  if (items.length === 0) throw new BodyError('body holds no events');
  if (options.maxEvents !== undefined && items.length > options.maxEvents) {
    throw new TooManyEventsError(`body holds ${items.length} events, over the limit of ${options.maxEvents} per request (MAX_EVENTS_PER_REQUEST); send them in smaller batches`);
  }

  const result: NormalizedBody = { events: [], indexes: [], rejected: [], refusedFields: [], oversized: [], total: items.length };
  const checkSizes = options.bodyBytes > options.maxEventBytes;
  items.forEach((item, index) => {
    try {
      if (!isPlainObject(item)) throw new FieldError('event', `must be an object, got ${describe(item)}`);
      // Checked before anything serializes the event: JSON.stringify of a very deep value overflows the stack.
      if (nestedDeeperThan(item, MAX_EVENT_DEPTH)) throw new FieldError('event', `is nested more than ${MAX_EVENT_DEPTH} levels deep`);
      if (checkSizes) {
        const bytes = Buffer.byteLength(JSON.stringify(item));
        if (bytes > options.maxEventBytes) {
          result.oversized.push(index);
          throw new FieldError('event', `is ${bytes} bytes, over the ${options.maxEventBytes}-byte limit (MAX_EVENT_BYTES)`);
        }
      }
      const fields = options.amplitudeOnly || isAmplitudeEvent(item) ? amplitudeFields(item, options.settings ?? DEFAULT_SETTINGS) : planhatFields(item, options.bulk);
      result.events.push(toActivityEvent(fields, options.receivedAt));
      result.indexes.push(index);
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      result.rejected.push({ index, error: error.message });
      result.refusedFields.push({ index, field: error.field, missing: error.missing });
    }
  });
  return result;
}
