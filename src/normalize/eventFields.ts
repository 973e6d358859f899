/** The common middle step of every format: which raw value feeds each activity field, then one set of rules for all. */
import { ActivityEvent, EventKind, FieldError } from './activityEvent';
import { newTimeOrderedId } from '../timeOrderedIds';
import { parseDate, parseEmail, parseIdentifier, parseInsertId, parseNumber, parseText } from './fields';

interface Source {
  /** The field's name as the sender wrote it, used in error messages. */
  field: string;
  value: unknown;
}

export interface EventFields {
  kind?: EventKind;
  externalId: Source;
  email: Source;
  name: Source;
  companyExternalId: Source;
  companyName?: Source;
  assetExternalId: Source;
  projectExternalId: Source;
  action: Source;
  date: Source;
  count: Source;
  weight: Source;
  insertId: Source;
  info: Record<string, unknown>;
  userProperties?: Record<string, unknown>;
  companyProperties?: Record<string, unknown>;
  /** How the format names "who": shown when neither is given. */
  identityHint: string;
}

const COUNT_BOUNDS = { min: 0, max: 1e12 };
const WEIGHT_BOUNDS = { min: -1e12, max: 1e12 };

export function toActivityEvent(fields: EventFields, receivedAt: number): ActivityEvent {
  const externalId = parseIdentifier(fields.externalId.field, fields.externalId.value);
  const email = parseEmail(fields.email.field, fields.email.value);
  // A group identification is about a company alone: it names no person.
  if (externalId === undefined && email === undefined && fields.kind !== 'groupidentify') {
    throw new FieldError(fields.externalId.field, `missing: an event needs ${fields.identityHint}`);
  }
  const action = parseText(fields.action.field, fields.action.value, 255);
  if (action === undefined) throw new FieldError(fields.action.field, 'missing: must be a non-empty string');
  const event: ActivityEvent = {
    action,
    date: parseDate(fields.date.field, fields.date.value) ?? receivedAt,
    count: parseNumber(fields.count.field, fields.count.value, COUNT_BOUNDS) ?? 1,
    weight: parseNumber(fields.weight.field, fields.weight.value, WEIGHT_BOUNDS) ?? 1,
    info: fields.info,
    // Made here when the sender gave none, so a job retried by the queue can never store the event twice.
    insertId: parseInsertId(fields.insertId.field, fields.insertId.value) ?? newTimeOrderedId(receivedAt),
  };
  if (externalId !== undefined) event.externalId = externalId;
  if (email !== undefined) event.email = email;
  const name = parseText(fields.name.field, fields.name.value, 1000);
  if (name !== undefined) event.name = name;
  if (fields.kind) event.kind = fields.kind;
  const companyExternalId = parseIdentifier(fields.companyExternalId.field, fields.companyExternalId.value);
  if (companyExternalId !== undefined) {
    event.companyExternalId = companyExternalId;
    const companyName = fields.companyName && typeof fields.companyName.value === 'string' ? parseText(fields.companyName.field, fields.companyName.value, 1000) : undefined;
    if (companyName !== undefined) event.companyName = companyName;
  }
  const assetExternalId = parseIdentifier(fields.assetExternalId.field, fields.assetExternalId.value);
  if (assetExternalId !== undefined) event.assetExternalId = assetExternalId;
  const projectExternalId = parseIdentifier(fields.projectExternalId.field, fields.projectExternalId.value);
  if (projectExternalId !== undefined) event.projectExternalId = projectExternalId;
  if (fields.userProperties !== undefined) event.userProperties = fields.userProperties;
  if (fields.companyProperties !== undefined && event.companyExternalId !== undefined) event.companyProperties = fields.companyProperties;
  return event;
}
