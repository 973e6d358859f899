/**
 * Every admin API route in one table: the Koa router is built from it and so is /api/v1/openapi.json, so a
 * route cannot exist undocumented, and every one says it needs ADMIN_TOKEN (its guard is built from that). A route
 * is one entry here and its schemas in schemas.ts: the body it is checked against and each answer's shape.
 */
import type { Db } from '../store/db';
import type { HttpResult } from '../http/result';
import { AdminRequest, PROPERTY_FILTER } from './params';
import type { TableRoute } from '../http/routeAccess';
import { Type, TSchema } from '@sinclair/typebox';
import { ErrorBody, refused, reply, Reply } from '../http/routeDoc';
import type { UpsertKind } from './upsertService';
import {
  ActivityPage, CompanyItem, CompanyPage, CreatedTenant, DeliveryDetail, DeliveryPage, EndUserPage, FilteredActions, MAX_UPSERT_ENTRIES, NewTenant, OwnedItem, OwnedPage,
  RotatedToken, TenantDetail, TenantList, TenantPatch, UpsertSummary, Upserts,
} from './schemas';
import { readActivities, readCompanies, readEndUsers, readFilteredActions, readOwned } from './readApi';
import { readDeliveries, readDelivery } from './deliveryApi';
import { createTenantRequest, listTenantsRequest, patchTenantRequest, rotateTokenRequest, showTenantRequest } from './tenantAdmin';
import { upsertRequest } from './upserts';

export interface AdminRoute extends TableRoute {
  method: 'get' | 'post' | 'patch';
  access: 'admin';
  /** Under /api/v1, in Koa's :param form. */
  path: string;
  summary: string;
  query?: string[];
  /** The JSON body of a POST or PATCH: checked against this before the handler runs, unless checksItsBody. */
  body?: TSchema;
  /** The handler checks the body itself (the upserts check each item on its own, so one bad item is refused alone). */
  checksItsBody?: boolean;
  /** Beyond these, openapi.ts adds what every admin route may answer (401, and 400, 413, 415 for a body). */
  responses: Record<number, Reply>;
  handle(db: Db, request: AdminRequest): Promise<HttpResult>;
}

const PAGE = ['limit', 'cursor'];
const NO_TENANT = refused('no such tenant');
const list = (page: TSchema) => ({ 200: reply('a page; nextCursor goes back as cursor for the next one (null: the last page)', page), 400: refused('a bad query parameter, named'), 404: NO_TENANT });
const upsert = (kind: UpsertKind, item: TSchema) => ({
  body: Upserts(item),
  checksItsBody: true,
  responses: {
    200: reply('what was written; each refused item with its index and reason', UpsertSummary),
    400: reply('no item valid (the same summary), or not a JSON array', Type.Union([UpsertSummary, ErrorBody])),
    404: NO_TENANT,
    413: refused(`more than ${MAX_UPSERT_ENTRIES} items`),
  },
  handle: (db: Db, request: AdminRequest) => upsertRequest(db, kind, item, request),
});

export const ADMIN_ROUTES: AdminRoute[] = [
  { access: 'admin', method: 'get', path: '/tenants', summary: 'List tenants (never their tokens); oldTokenValidUntil says until when a replaced token is still valid (null: none is)', responses: { 200: reply('every tenant', TenantList) }, handle: (db) => listTenantsRequest(db) },
  { access: 'admin', method: 'post', path: '/tenants', summary: 'Create a tenant; the token is shown only here', body: NewTenant, responses: { 201: reply('the new tenant with its token', CreatedTenant), 409: refused('name taken') }, handle: createTenantRequest },
  { access: 'admin', method: 'get', path: '/tenants/:tenantId', summary: 'One tenant with its settings', responses: { 200: reply('the tenant', TenantDetail), 400: refused('a bad tenantId'), 404: NO_TENANT }, handle: showTenantRequest },
  { access: 'admin', method: 'patch', path: '/tenants/:tenantId', summary: 'Enable or disable a tenant, change its settings', body: TenantPatch, responses: { 200: reply('the tenant with its settings', TenantDetail), 400: refused('a bad field or setting, named'), 404: NO_TENANT }, handle: patchTenantRequest },
  { access: 'admin', method: 'post', path: '/tenants/:tenantId/token', summary: 'Rotate the token; the old one stays valid for keepOld (a duration: 0, 90s, 30m, 24h, 7d; default 24h, at most 30d), then stops; keepOld=0 stops it within 5 seconds', query: ['keepOld'], responses: { 200: reply('the new token', RotatedToken), 400: refused('a bad keepOld'), 404: NO_TENANT }, handle: rotateTokenRequest },
  { access: 'admin', method: 'get', path: '/tenants/:tenantId/endusers', summary: 'End users with their current properties; property.NAME=VALUE (or property[NAME]=VALUE) keeps those whose property NAME equals VALUE', query: ['externalId', 'email', 'companyExternalId', 'unassigned', PROPERTY_FILTER, ...PAGE], responses: list(EndUserPage), handle: readEndUsers },
  { access: 'admin', method: 'get', path: '/tenants/:tenantId/activities', summary: 'Activities', query: ['externalId', 'email', 'action', 'companyExternalId', 'assetExternalId', 'projectExternalId', 'from', 'to', ...PAGE], responses: list(ActivityPage), handle: readActivities },
  { access: 'admin', method: 'get', path: '/tenants/:tenantId/companies', summary: 'Companies with their domains and current properties', query: PAGE, responses: list(CompanyPage), handle: readCompanies },
  { access: 'admin', method: 'post', path: '/tenants/:tenantId/companies', summary: 'Upsert companies', ...upsert('companies', CompanyItem) },
  { access: 'admin', method: 'get', path: '/tenants/:tenantId/assets', summary: 'Assets', query: PAGE, responses: list(OwnedPage), handle: (db, request) => readOwned(db, 'assets', request) },
  { access: 'admin', method: 'post', path: '/tenants/:tenantId/assets', summary: 'Upsert assets', ...upsert('assets', OwnedItem('an asset')) },
  { access: 'admin', method: 'get', path: '/tenants/:tenantId/projects', summary: 'Projects', query: PAGE, responses: list(OwnedPage), handle: (db, request) => readOwned(db, 'projects', request) },
  { access: 'admin', method: 'post', path: '/tenants/:tenantId/projects', summary: 'Upsert projects', ...upsert('projects', OwnedItem('a project')) },
  { access: 'admin', method: 'get', path: '/tenants/:tenantId/filtered-actions', summary: 'Events dropped by the action filters, counted per action', responses: { 200: reply('every filtered action', FilteredActions), 400: refused('a bad tenantId'), 404: NO_TENANT }, handle: readFilteredActions },
  { access: 'admin', method: 'get', path: '/tenants/:tenantId/deliveries', summary: 'The delivery log, newest first', query: ['status', 'from', 'to', ...PAGE], responses: list(DeliveryPage), handle: readDeliveries },
  { access: 'admin', method: 'get', path: '/tenants/:tenantId/deliveries/:deliveryId', summary: 'One delivery with the outcome of each event', responses: { 200: reply('the delivery and each event\'s outcome', DeliveryDetail), 400: refused('a bad tenantId'), 404: refused('no such tenant or delivery') }, handle: readDelivery },
];
