/** Planhat's activity format: externalId/email, name, companyExternalId, assetExternalId, projectExternalId, action, date, count, weight, info, insertId. */
import { EventFields } from './eventFields';
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
  const hasExtras = Object.keys(raw).some((key) => !consumed.has(key));
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
    info: hasExtras ? Object.fromEntries([...Object.entries(omitKeys(raw, consumed)), ...Object.entries(info)]) : info,
    identityHint: 'externalId or email',
  };
}
