/**
 * An Amplitude event, as event streaming, the webhook destination and the HTTP V2 API send it. The tenant's
 * mappings say which property feeds each field (defaults: user_id, user_properties.email, user_properties.name);
 * event_type is the action, event_time (UTC) or time (epoch ms) the date, insert_id (else $insert_id, else
 * Amplitude's own uuid) the insertId; the rest of the event is kept in info. Top-level externalId, email, name, companyExternalId, assetExternalId and
 * projectExternalId win over mapped ones. `$identify` events, and user payloads without event_type (Amplitude's
 * user forwarding), update the end user and store no activity; `$groupidentify` events update the company named by
 * their group of the tenant's company group type and store no activity. user_properties, and the group_properties of
 * the company group, travel with the event for its end user and company (and stay in info too).
 */
import { EventFields } from './eventFields';
import { describe, isPlainObject, isPresent, omitKeys, parseIdentifier } from './fields';
import { FieldError } from './activityEvent';
import type { TenantSettings } from '../tenants/settings';

const CONSUMED_KEYS = new Set([
  'user_id', 'event_type', 'event_time', 'time', 'insert_id', '$insert_id',
  'externalId', 'email', 'name', 'companyExternalId', 'assetExternalId', 'projectExternalId', 'count', 'weight',
]);

export const IDENTIFY_ACTION = '$identify';
export const GROUP_IDENTIFY_ACTION = '$groupidentify';

export function isAmplitudeEvent(raw: Record<string, unknown>): boolean {
  return 'event_type' in raw || isUserPayload(raw);
}

/** Amplitude's user forwarding: user properties with no event and no Planhat action. */
function isUserPayload(raw: Record<string, unknown>): boolean {
  return !('event_type' in raw) && !('action' in raw) && isPlainObject(raw.user_properties);
}

export function isIdentify(raw: Record<string, unknown>): boolean {
  return raw.event_type === IDENTIFY_ACTION || isUserPayload(raw);
}

/** Reads a dotted path; a user_properties path also finds the value under $set or $setOnce, as identify sends it. */
function readPath(raw: Record<string, unknown>, path: string): unknown {
  const direct = readExact(raw, path);
  if (direct !== undefined || !path.startsWith('user_properties.')) return direct;
  const rest = path.slice('user_properties.'.length);
  return readExact(raw, `user_properties.$set.${rest}`) ?? readExact(raw, `user_properties.$setOnce.${rest}`);
}

function readExact(raw: Record<string, unknown>, path: string): unknown {
  let current: unknown = raw;
  for (const key of path.split('.')) {
    if (!isPlainObject(current) || !Object.prototype.hasOwnProperty.call(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

/** The first path with a value; blank is absent, so a user_id of only spaces gives way to the next path like a missing one. */
function pick(raw: Record<string, unknown>, ...paths: Array<string | undefined>): { field: string; value: unknown } {
  const candidates = paths.filter((path): path is string => path !== undefined);
  for (const path of candidates) {
    const value = readPath(raw, path);
    if (isPresent(value)) return { field: path, value };
  }
  return { field: candidates[candidates.length - 1] ?? candidates[0], value: undefined };
}

/**
 * The first of the keys the event holds with a value other than null. Unlike pick, an empty string counts as given:
 * an empty insert_id is refused rather than passed over for $insert_id or a receiver-made id.
 */
function firstGiven(raw: Record<string, unknown>, ...keys: string[]): { field: string; value: unknown } {
  const given = keys.find((key) => Object.hasOwn(raw, key) && raw[key] !== null && raw[key] !== undefined);
  return given === undefined ? { field: keys[0], value: undefined } : { field: given, value: raw[given] };
}

interface GroupCompany {
  field: string;
  value: unknown;
  name?: unknown;
  properties?: Record<string, unknown>;
}

/**
 * The company an event names through its Amplitude group, with the group's properties and the name they give. An
 * event carries them as group_properties.TYPE (or .TYPE.VALUE); a `$groupidentify` event, as the SDKs send it, has
 * the one group's properties (operations) as group_properties itself.
 */
function groupCompany(raw: Record<string, unknown>, groupType: string, groupIdentify: boolean): GroupCompany {
  const field = `groups.${groupType}`;
  const group = readExact(raw, field);
  const value = Array.isArray(group) ? group[0] : group;
  if (!isPresent(value)) return { field, value: undefined };
  if (groupIdentify) {
    const properties = isPlainObject(raw.group_properties) ? raw.group_properties : undefined;
    const set = properties && isPlainObject(properties.$set) ? properties.$set : undefined;
    return { field, value, name: set?.name ?? properties?.name };
  }
  const properties = readExact(raw, `group_properties.${groupType}`);
  // Own keys only: a group id like "__proto__" or "constructor" must not find Object.prototype's members.
  const ownProperties = isPlainObject(properties) && typeof value === 'string' && Object.hasOwn(properties, value) && isPlainObject(properties[value]) ? properties[value] : properties;
  if (!isPlainObject(ownProperties)) return { field, value };
  return { field, value, name: ownProperties.name, properties: ownProperties };
}

const NO_ONE = { field: 'user_id', value: undefined };

/**
 * Properties the sender gave: an object, or absent (null too). Anything else is refused by name rather than dropped
 * without a word: the update it was meant to be would be lost.
 */
function givenProperties(field: string, value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) throw new FieldError(field, `must be an object, got ${describe(value)}`);
  return value;
}

export function amplitudeFields(raw: Record<string, unknown>, settings: TenantSettings): EventFields {
  const { mappings } = settings;
  const groupIdentify = raw.event_type === GROUP_IDENTIFY_ACTION;
  const userProperties = givenProperties('user_properties', raw.user_properties);
  const groupProperties = givenProperties('group_properties', raw.group_properties);
  const groupType = settings.companyGroupType;
  if (!groupIdentify && groupProperties !== undefined && Object.hasOwn(groupProperties, groupType)) givenProperties(`group_properties.${groupType}`, groupProperties[groupType]);
  const explicitCompany = pick(raw, 'companyExternalId', mappings.companyExternalId);
  const company: GroupCompany = isPresent(explicitCompany.value) ? explicitCompany : groupCompany(raw, settings.companyGroupType, groupIdentify);
  let externalId = pick(raw, 'externalId', mappings.externalId);
  let identityHint = `${mappings.externalId ?? 'user_id'} or email`;
  if (!isPresent(externalId.value) && isPresent(raw.device_id)) {
    // Trimmed and type-checked like any id before the prefix, so " d-1 " and "d-1" are one device.
    if (settings.allowDeviceOnlyEvents) externalId = { field: 'device_id', value: `device:${parseIdentifier('device_id', raw.device_id) as string}` };
    else identityHint += ' (device-only events need the tenant setting allowDeviceOnlyEvents=true)';
  }
  const identify = isIdentify(raw);
  // Amplitude's exports and its Webhook destination carry `uuid`, its own id of the event, on every event, and an
  // insert id only when the original sender set one: a redelivery without one is still the same event.
  const insertId = firstGiven(raw, 'insert_id', '$insert_id', 'uuid');
  const companyFields = {
    companyExternalId: { field: company.field, value: company.value },
    companyName: { field: groupIdentify ? 'group_properties.name' : `group_properties.${settings.companyGroupType}.name`, value: company.name },
    // A group identify's group_properties are its company's, also when a top-level companyExternalId names it.
    companyProperties: groupIdentify && groupProperties !== undefined ? groupProperties : company.properties,
  };
  if (groupIdentify) {
    // About the company alone: the person who sent it is not looked up, created or changed.
    return {
      kind: 'groupidentify', externalId: NO_ONE, email: NO_ONE, name: NO_ONE, ...companyFields,
      assetExternalId: NO_ONE, projectExternalId: NO_ONE,
      action: { field: 'event_type', value: GROUP_IDENTIFY_ACTION },
      date: pick(raw, 'event_time', 'time'), count: { field: 'count', value: undefined }, weight: { field: 'weight', value: undefined },
      insertId, info: omitKeys(raw, CONSUMED_KEYS), identityHint,
    };
  }
  return {
    kind: identify ? 'identify' : undefined,
    externalId,
    email: pick(raw, 'email', mappings.email),
    name: pick(raw, 'name', mappings.name),
    ...companyFields,
    userProperties,
    assetExternalId: pick(raw, 'assetExternalId', mappings.assetExternalId),
    projectExternalId: pick(raw, 'projectExternalId', mappings.projectExternalId),
    action: { field: 'event_type', value: identify ? IDENTIFY_ACTION : raw.event_type },
    date: pick(raw, 'event_time', 'time'),
    count: { field: 'count', value: raw.count },
    weight: { field: 'weight', value: raw.weight },
    insertId,
    info: omitKeys(raw, CONSUMED_KEYS),
    identityHint,
  };
}
