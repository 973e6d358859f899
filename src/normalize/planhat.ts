/** Planhat's activity format: externalId/email, name, companyExternalId, assetExternalId, projectExternalId, action, date, count, weight, info, insertId. */
import { EventFields } from './eventFields';
import { omitKeys, parseObject } from './fields';

const PLANHAT_KEYS = new Set([
  'externalId', 'email', 'name', 'companyExternalId', 'assetExternalId', 'projectExternalId', 'action', 'date', 'count', 'weight', 'info', 'insertId',
]);
/** Planhat's bulk endpoint also takes short names. */
const BULK_SHORT_NAMES = new Set(['id', 'cId']);

export function planhatFields(raw: Record<string, unknown>, acceptBulkShortNames: boolean): EventFields {
  const consumed = acceptBulkShortNames ? new Set([...PLANHAT_KEYS, ...BULK_SHORT_NAMES]) : PLANHAT_KEYS;
  const info = parseObject('info', raw.info) ?? {};
  // Other top-level fields are kept in info rather than dropped, so nothing a sender wrote is lost.
  const extras = omitKeys(raw, consumed);
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
    info: Object.fromEntries([...Object.entries(extras), ...Object.entries(info)]),
    identityHint: 'externalId or email',
  };
}
