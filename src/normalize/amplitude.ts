/**
 * An Amplitude event, as event streaming, the webhook destination and the HTTP V2 API send it. user_id is the
 * externalId, event_type the action, event_time (UTC) or time (epoch ms) the date, insert_id the insertId; the
 * rest of the event is kept in info. Top-level externalId, email, name and companyExternalId win over Amplitude's.
 */
import { EventFields } from './eventFields';
import { isPlainObject, omitKeys } from './fields';

const CONSUMED_KEYS = new Set([
  'user_id', 'event_type', 'event_time', 'time', 'insert_id', '$insert_id',
  'externalId', 'email', 'name', 'companyExternalId', 'count', 'weight',
]);

export function isAmplitudeEvent(raw: Record<string, unknown>): boolean {
  return 'event_type' in raw;
}

function pick(raw: Record<string, unknown>, ...paths: string[]): { field: string; value: unknown } {
  for (const path of paths) {
    const value = readPath(raw, path);
    if (value !== undefined && value !== null && value !== '') return { field: path, value };
  }
  return { field: paths[0], value: undefined };
}

function readPath(raw: Record<string, unknown>, path: string): unknown {
  let current: unknown = raw;
  for (const key of path.split('.')) {
    if (!isPlainObject(current) || !Object.prototype.hasOwnProperty.call(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

export function amplitudeFields(raw: Record<string, unknown>): EventFields {
  return {
    externalId: pick(raw, 'externalId', 'user_id'),
    email: pick(raw, 'email', 'user_properties.email'),
    name: pick(raw, 'name', 'user_properties.name'),
    companyExternalId: pick(raw, 'companyExternalId'),
    action: { field: 'event_type', value: raw.event_type },
    date: pick(raw, 'event_time', 'time'),
    count: { field: 'count', value: raw.count },
    weight: { field: 'weight', value: raw.weight },
    insertId: pick(raw, 'insert_id', '$insert_id'),
    info: omitKeys(raw, CONSUMED_KEYS),
    identityHint: 'user_id or email',
  };
}
