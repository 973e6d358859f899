/**
 * Amplitude's Identify and Group Identify APIs: their `identification` (one object or an array) becomes the events
 * the Amplitude normalizer already knows. A user identification is a `$identify` event (the end user is updated by
 * the tenant's mappings, like any event); a group identification of the tenant's company group type is a
 * `$groupidentify` event. A group identification of another type is acknowledged and ignored, with a note.
 */
import { FieldError } from './activityEvent';
import { GROUP_IDENTIFY_ACTION, IDENTIFY_ACTION } from './amplitude';
import { BodyError, normalizeBody, NormalizeOptions, NormalizedBody, Rejection } from './normalizeBody';
import { describe, isPlainObject, isPresent, MAX_EVENT_DEPTH, nestedDeeperThan } from './fields';
import { DEFAULT_SETTINGS } from '../tenants/settings';

export type IdentifyApi = 'identify' | 'groupidentify';

/** Amplitude's limit for both APIs: identifications per request. */
export const MAX_IDENTIFICATIONS = 1024;

export interface NormalizedIdentifications extends NormalizedBody {
  /** Group identifications of another group type than the tenant's company group type: acknowledged, nothing stored. */
  ignored: Rejection[];
}

type Item = { raw: Record<string, unknown> } | { ignored: string };

/** Whether a value is a group id Amplitude takes: a non-blank string or a number. */
const isGroupValue = (value: unknown) => (typeof value === 'string' && value.trim() !== '') || typeof value === 'number';

function identifyItem(item: Record<string, unknown>): Item {
  if (!isPresent(item.user_id) && !isPresent(item.device_id)) throw new FieldError('user_id', 'missing: an identification needs user_id or device_id');
  return { raw: { ...item, event_type: IDENTIFY_ACTION } };
}

function groupItem(item: Record<string, unknown>, companyGroupType: string): Item {
  const { group_type: type, group_value: value, group_properties: properties } = item;
  if (!isPresent(type)) throw new FieldError('group_type', 'missing: a group identification needs group_type');
  if (typeof type !== 'string') throw new FieldError('group_type', `must be a string, got ${describe(type)}`);
  if (!isPresent(value)) throw new FieldError('group_value', 'missing: a group identification needs group_value');
  if (!isGroupValue(value)) throw new FieldError('group_value', `must be a string or a number, got ${describe(value)}`);
  if (properties === undefined || properties === null) throw new FieldError('group_properties', 'missing: a group identification needs group_properties');
  if (!isPlainObject(properties)) throw new FieldError('group_properties', `must be an object, got ${describe(properties)}`);
  if (type !== companyGroupType) {
    return { ignored: `ignored: group_type "${type.slice(0, 100)}" is not this tenant's company group type ("${companyGroupType}"); acknowledged, nothing stored` };
  }
  // The key is the tenant's own setting (a checked property name), never the sender's text.
  return { raw: { event_type: GROUP_IDENTIFY_ACTION, groups: { [companyGroupType]: value }, group_properties: properties } };
}

/**
 * Normalizes an `identification` (parsed). Throws BodyError when it is not an object or an array of at most
 * MAX_IDENTIFICATIONS; each item's refusal is listed by index, as normalizeBody lists events'.
 */
export function normalizeIdentifications(api: IdentifyApi, identification: unknown, options: NormalizeOptions): NormalizedIdentifications {
  let items: unknown[];
  if (Array.isArray(identification)) items = identification;
  else if (isPlainObject(identification)) items = [identification];
  else throw new BodyError(`identification must be a JSON object or an array of objects, got ${describe(identification)}`);
  if (items.length === 0) throw new BodyError('identification holds no identifications');
  if (items.length > MAX_IDENTIFICATIONS) throw new BodyError(`identification holds ${items.length} identifications, over Amplitude's limit of ${MAX_IDENTIFICATIONS} per request`);

  const companyGroupType = (options.settings ?? DEFAULT_SETTINGS).companyGroupType;
  const kept: Array<{ index: number; raw: Record<string, unknown> }> = [];
  const ignored: Rejection[] = [];
  const refusedFields: NormalizedBody['refusedFields'] = [];
  const rejected: Rejection[] = [];
  items.forEach((item, index) => {
    try {
      if (!isPlainObject(item)) throw new FieldError('identification', `must be an object, got ${describe(item)}`);
      // Checked here, so the refusal names the identification rather than the event normalizeBody would make of it.
      if (nestedDeeperThan(item, MAX_EVENT_DEPTH)) throw new FieldError('identification', `is nested more than ${MAX_EVENT_DEPTH} levels deep`);
      const made = api === 'identify' ? identifyItem(item) : groupItem(item, companyGroupType);
      if ('ignored' in made) ignored.push({ index, error: made.ignored });
      else kept.push({ index, raw: made.raw });
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      rejected.push({ index, error: error.message });
      refusedFields.push({ index, field: error.field, missing: error.missing });
    }
  });

  const normalized = kept.length > 0 ? normalizeBody(kept.map(({ raw }) => raw), { ...options, amplitudeOnly: true }) : undefined;
  const original = (at: number) => kept[at].index;
  const byIndex = <T extends { index: number }>(list: T[]) => list.sort((a, b) => a.index - b.index);
  return {
    events: normalized?.events ?? [],
    indexes: (normalized?.indexes ?? []).map(original),
    rejected: byIndex([...rejected, ...(normalized?.rejected ?? []).map((entry) => ({ ...entry, index: original(entry.index) }))]),
    refusedFields: byIndex([...refusedFields, ...(normalized?.refusedFields ?? []).map((entry) => ({ ...entry, index: original(entry.index) }))]),
    oversized: (normalized?.oversized ?? []).map(original),
    total: items.length,
    ignored,
  };
}
