/** Planhat's activity format: externalId/email, name, companyExternalId, assetExternalId, projectExternalId, action, date, count, weight, info, insertId. */
import { isDeepStrictEqual } from 'node:util';
import { EventFields } from './eventFields';
import { FieldError } from './activityEvent';
import { omitKeys, parseObject } from './fields';

const PLANHAT_KEYS = new Set([
  'externalId', 'email', 'name', 'companyExternalId', 'assetExternalId', 'projectExternalId', 'action', 'date', 'count', 'weight', 'info', 'insertId',
]);
/** Planhat's bulk endpoint also takes short names. */
const BULK_KEYS = new Set([...PLANHAT_KEYS, 'id', 'cId']);

export function planhatFields(raw: Record<string, unknown>, acceptBulkShortNames: boolean): EventFields {
  const consumed = acceptBulkShortNames ? BULK_KEYS : PLANHAT_KEYS;
  const info = parseObject('info', raw.info) ?? {};
  // Other top-level fields are kept in info rather than dropped, so nothing a sender wrote is lost. Most events have
  // none, and then info is taken as it came rather than copied.
  const extras = Object.keys(raw).filter((key) => !consumed.has(key));
  for (const key of extras) refuseCollision(key, raw[key], info);
  return {
    externalId: { field: 'externalId', value: raw.externalId ?? (acceptBulkShortNames ? raw.id : undefined) },
    email: { field: 'email', value: raw.email },
    name: { field: 'name', value: raw.name },
    companyExternalId: { field: 'companyExternalId', value: raw.companyExternalId ?? (acceptBulkShortNames ? raw.cId : undefined) },
    assetExternalId: { field: 'assetExternalId', value: raw.assetExternalId },
    projectExternalId: { field: 'projectExternalId', value: raw.projectExternalId },
    action: { field: 'action', value: raw.action },
    date: { field: 'date', value: raw.date },
    count: { field: 'count', value: raw.count },
    weight: { field: 'weight', value: raw.weight },
    insertId: { field: 'insertId', value: raw.insertId },
    info: extras.length > 0 ? Object.fromEntries([...Object.entries(omitKeys(raw, consumed)), ...Object.entries(info)]) : info,
    identityHint: 'externalId or email',
  };
}

/** A top-level field also in info with another value would lose one of the two when merged: the event is refused instead. */
function refuseCollision(key: string, topLevel: unknown, info: Record<string, unknown>): void {
  if (Object.hasOwn(info, key) && !isDeepStrictEqual(topLevel, info[key])) {
    throw new FieldError(key.slice(0, 100), `given at the top level and in info with different values; send it in one place (a top-level field is kept in info)`);
  }
}
