/**
 * The admin API's bodies, in and out, as TypeBox schemas: routeTable.ts names one per request body and per answer,
 * the handlers check request bodies against them (schemaCheck.ts), and openapi.ts embeds them unchanged.
 * Answers are strict (no field the schema does not name), so test/openapi.test.ts catches a handler that drifts.
 */
import { Type, TSchema } from '@sinclair/typebox';
import { IsoTime, Nullable, Rejection, Strict } from '../http/routeDoc';
import { MAPPED_FIELDS } from '../tenants/settings';
import { KEEP_OLD_RULE } from '../tenants/tenantAccounts';
import { DEFAULT_LIMIT, MAX_LIMIT } from './params';

const Id = Type.Integer({ minimum: 1 });
const Count = Type.Integer({ minimum: 0 });

export const NewTenant = Strict({ name: Type.String({ description: 'unique, 1 to 100 characters' }) }, { title: 'a new tenant' });

const SettingValue = Type.Union([Type.String(), Type.Boolean(), Type.Array(Type.String()), Type.Null()], { description: 'as the CLI\'s key=value: lists may be arrays, null clears a mapping' });

export const TenantPatch = Strict(
  {
    enabled: Type.Optional(Type.Boolean()),
    settings: Type.Optional(Type.Record(Type.String(), SettingValue, { description: 'setting: value; see docs/configuration.md for the tenant settings' })),
  },
  { title: 'a tenant patch' },
);

const Tenant = Strict({
  id: Id,
  name: Type.String(),
  enabled: Type.Boolean(),
  createdAt: IsoTime(),
  oldTokenValidUntil: Nullable(IsoTime('until when the replaced token is still accepted')),
});

const Settings = Strict({
  mappings: Strict(Object.fromEntries(MAPPED_FIELDS.map((field) => [field, Type.Optional(Type.String())])), { description: 'dotted property paths into an Amplitude event, per activity field' }),
  companyGroupType: Type.String(),
  autoCreateCompanies: Type.Boolean(),
  allowDeviceOnlyEvents: Type.Boolean(),
  includeActions: Type.Array(Type.String()),
  excludeActions: Type.Array(Type.String()),
});

export const TenantList = Strict({ data: Type.Array(Tenant) });
export const TenantDetail = Strict({ ...Tenant.properties, settings: Settings });
export const CreatedTenant = Strict({ id: Id, name: Type.String(), token: Type.String({ description: 'shown only here' }), enabled: Type.Boolean() });
export const RotatedToken = Strict({ id: Id, token: Type.String({ description: 'shown only here' }), oldTokenValidUntil: Nullable(IsoTime()) });

/** Current properties of an end user or a company, as Amplitude's user and group property operations left them. */
const Properties = Type.Record(Type.String(), Type.Unknown(), { description: 'current properties, as the user or group property operations of its events left them' });

/** A page of a list route: `nextCursor` goes back as `cursor` for the next one. */
const Page = (item: TSchema) => Strict({ data: Type.Array(item), nextCursor: Nullable(Type.String()) });

export const EndUserPage = Page(
  Strict({
    id: Id,
    externalId: Nullable(Type.String()),
    email: Nullable(Type.String()),
    name: Nullable(Type.String()),
    companyId: Nullable(Id),
    companyExternalId: Nullable(Type.String()),
    createdAt: Nullable(IsoTime()),
    activityCount: Count,
    properties: Properties,
  }),
);

export const ActivityPage = Page(
  Strict({
    id: Id,
    endUserId: Id,
    externalId: Nullable(Type.String()),
    email: Nullable(Type.String()),
    companyExternalId: Nullable(Type.String()),
    assetExternalId: Nullable(Type.String()),
    projectExternalId: Nullable(Type.String()),
    action: Type.String(),
    date: IsoTime(),
    count: Type.Number(),
    weight: Type.Number(),
    info: Type.Record(Type.String(), Type.Unknown(), { description: 'the event\'s other properties, as sent' }),
    insertId: Nullable(Type.String()),
    receivedAt: Nullable(IsoTime()),
  }),
);

export const CompanyPage = Page(Strict({ id: Id, externalId: Type.String(), name: Type.String(), domains: Type.Array(Type.String()), properties: Properties }));
export const OwnedPage = Page(Strict({ id: Id, externalId: Type.String(), name: Nullable(Type.String()), companyExternalId: Nullable(Type.String()) }));
export const FilteredActions = Strict({ data: Type.Array(Strict({ action: Type.String(), count: Count, lastSeenAt: Nullable(IsoTime()) })) });

const OUTCOME_NAMES = ['stored', 'duplicate', 'filtered', 'identified', 'failed', 'pruned', 'pending'] as const;
const Delivery = {
  id: Type.String(),
  receivedAt: IsoTime(),
  endpoint: Type.String(),
  userAgent: Nullable(Type.String()),
  status: Type.Integer({ description: 'the HTTP status the request was answered' }),
  accepted: Count,
  rejectedCount: Count,
  rejected: Type.Array(Rejection, { description: 'the first 100 rejections' }),
  outcomes: Strict(Object.fromEntries(OUTCOME_NAMES.map((outcome) => [outcome, Count])), { description: 'what became of the accepted events, counted' }),
};
export const DeliveryPage = Page(Strict(Delivery));
export const DeliveryDetail = Strict({
  ...Delivery,
  events: Type.Array(
    Strict({
      index: Count,
      insertId: Nullable(Type.String()),
      outcome: Type.Union(OUTCOME_NAMES.filter((outcome) => outcome !== 'pending').map((outcome) => Type.Literal(outcome))),
      activityId: Type.Optional(Id),
      error: Type.Optional(Type.String()),
    }),
  ),
});

const Identifier = Type.Union([Type.String(), Type.Number()], { description: 'a string, or a number read as its digits' });
const Name = Type.Optional(Nullable(Type.String({ maxLength: 1000 })));

export const CompanyItem = Strict({ externalId: Identifier, name: Name, domains: Type.Optional(Type.Array(Type.String(), { description: 'business domains; free-mail domains are refused' })) }, { title: 'a company' });
export const OwnedItem = (title: string) => Strict({ externalId: Identifier, name: Name, companyExternalId: Type.Optional(Nullable(Identifier)) }, { title });
/** Most entries one upsert request may hold; more is refused whole (413). Each entry is a few statements in one transaction, which holds the write lock. */
export const MAX_UPSERT_ENTRIES = 10000;

export const Upserts = (item: TSchema) => Type.Array(item, { maxItems: MAX_UPSERT_ENTRIES });
export const UpsertSummary = Strict({ created: Count, updated: Count, rejected: Type.Array(Rejection, { description: 'each refused item: its index and the reason' }) });

const text = (description: string) => Type.String({ minLength: 1, description });

/**
 * What each query parameter takes, for the document. Every value arrives as text: params.ts reads each one and a
 * bad one is a 400 naming it, as are a parameter the route does not list, one given twice and one given empty.
 */
export const QUERY_PARAMETERS: Record<string, TSchema> = {
  limit: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: 'rows per page' }),
  cursor: text('the nextCursor of the previous page'),
  externalId: text('the end user\'s externalId, as given'),
  email: text('compared trimmed and lower-cased'),
  action: text('the action, as given'),
  companyExternalId: text('the company\'s externalId, as given'),
  assetExternalId: text('the asset\'s externalId, as given'),
  projectExternalId: text('the project\'s externalId, as given'),
  unassigned: Type.Boolean({ description: 'true: only end users without a company' }),
  from: text('an ISO 8601 date or epoch milliseconds; inclusive'),
  to: text('an ISO 8601 date or epoch milliseconds; exclusive'),
  status: Type.Integer({ minimum: 100, maximum: 599, description: 'the HTTP status the request was answered' }),
  keepOld: text(`how long the replaced token stays valid: it ${KEEP_OLD_RULE}; default 24h`),
};

/** What each path parameter takes, for the document. */
export const PATH_PARAMETERS: Record<string, TSchema> = {
  tenantId: Type.String({ pattern: '^[0-9]{1,15}$', description: 'a tenant id' }),
  deliveryId: text('a delivery id, as the delivery log lists it'),
  token: text('a tenant token'),
};
