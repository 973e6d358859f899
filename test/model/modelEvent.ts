/**
 * The reference model's reading of one sent event (a Planhat activity or an Amplitude event, default mappings), as
 * the README's "Events" section describes it; written from the README, not from src/.
 */
export interface ModelEvent {
  identify: boolean;
  externalId?: string;
  email?: string;
  name?: string;
  company?: { externalId: string; name?: string };
  asset?: string;
  project?: string;
  action: string;
  /** Taken byte for byte; absent only on identify events (the receiver gives those a fresh one). */
  insertId?: string;
}

/** Why the receiver refuses an event, or the event as the model reads it. */
export type ReadEvent = { ok: true; event: ModelEvent } | { ok: false; reason: string };

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Ids: trimmed, case kept; numbers as their decimal text; blank is absent. */
function readId(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** Emails: trimmed and lower-cased. */
function readEmail(value: unknown): string | undefined {
  return readId(value)?.toLowerCase();
}

function readText(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** An Amplitude user property: under user_properties, or where identify events carry it. */
function userProperty(event: Json, name: string): unknown {
  const properties = isObject(event.user_properties) ? event.user_properties : {};
  for (const holder of [properties, properties.$set, properties.$setOnce]) {
    if (isObject(holder) && holder[name] !== undefined) return holder[name];
  }
  return undefined;
}

function amplitudeCompany(event: Json): ModelEvent['company'] {
  const topLevel = readId(event.companyExternalId);
  if (topLevel !== undefined) return { externalId: topLevel };
  const group = isObject(event.groups) ? event.groups.company : undefined;
  const externalId = readId(Array.isArray(group) ? group[0] : group);
  if (externalId === undefined) return undefined;
  const properties = isObject(event.group_properties) && isObject(event.group_properties.company) ? event.group_properties.company : {};
  const name = readText(isObject(properties[externalId]) ? (properties[externalId] as Json).name : undefined) ?? readText(properties.name);
  return name === undefined ? { externalId } : { externalId, name };
}

function isAmplitude(event: Json): boolean {
  return event.event_type !== undefined || (isObject(event.user_properties) && event.action === undefined);
}

export function readEvent(raw: unknown): ReadEvent {
  if (!isObject(raw)) return { ok: false, reason: 'not an object' };
  const amplitude = isAmplitude(raw);
  const insertIdValue = amplitude ? (raw.insert_id ?? raw.$insert_id) : raw.insertId;
  if (typeof insertIdValue === 'string' && insertIdValue.trim() === '') return { ok: false, reason: 'insertId: blank' };
  const insertId = typeof insertIdValue === 'string' ? insertIdValue : undefined;
  const event: ModelEvent = amplitude
    ? {
        identify: raw.event_type === '$identify' || raw.event_type === undefined,
        externalId: readId(raw.externalId) ?? readId(raw.user_id),
        email: readEmail(raw.email) ?? readEmail(userProperty(raw, 'email')),
        name: readText(raw.name) ?? readText(userProperty(raw, 'name')),
        company: amplitudeCompany(raw),
        asset: readId(raw.assetExternalId),
        project: readId(raw.projectExternalId),
        action: String(raw.event_type ?? '$identify'),
        insertId,
      }
    : {
        identify: false,
        externalId: readId(raw.externalId),
        email: readEmail(raw.email),
        name: readText(raw.name),
        company: readId(raw.companyExternalId) === undefined ? undefined : { externalId: readId(raw.companyExternalId) as string },
        asset: readId(raw.assetExternalId),
        project: readId(raw.projectExternalId),
        action: String(raw.action),
        insertId,
      };
  if (event.externalId === undefined && event.email === undefined) return { ok: false, reason: 'externalId: missing' };
  return { ok: true, event };
}
