/**
 * Every admin API route in one table: the Koa router is built from it and so is /api/v1/openapi.json, so a
 * route cannot exist undocumented, and every one says it needs ADMIN_TOKEN (its guard is built from that).
 */
import type { Db } from '../store/db';
import type { HttpResult } from '../http/result';
import { AdminRequest, PROPERTY_FILTER } from './params';
import type { TableRoute } from '../http/routeAccess';
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
  /** What the JSON body holds, for POST and PATCH. */
  body?: string;
  responses: Record<number, string>;
  handle(db: Db, request: AdminRequest): Promise<HttpResult>;
}

const PAGE = ['limit', 'cursor'];
const LIST = { 200: 'a page: {"data": [...], "nextCursor": string|null}', 400: 'a bad parameter, named', 404: 'no such tenant' };
const UPSERT = { 200: '{"created","updated","rejected":[{"index","error"}]}', 400: 'not a JSON array, or no item valid', 404: 'no such tenant', 413: 'more than 10,000 entries' };

export const ADMIN_ROUTES: AdminRoute[] = [
  { access: 'admin', method: 'get', path: '/tenants', summary: 'List tenants (never their tokens); oldTokenValidUntil says until when a replaced token is still valid (null: none is)', responses: { 200: '{"data":[{"id","name","enabled","createdAt","oldTokenValidUntil"}]}' }, handle: (db) => listTenantsRequest(db) },
  { access: 'admin', method: 'post', path: '/tenants', summary: 'Create a tenant; the token is shown only here', body: '{"name"}', responses: { 201: '{"id","name","token","enabled"}', 400: 'bad name', 409: 'name taken' }, handle: createTenantRequest },
  { access: 'admin', method: 'get', path: '/tenants/:tenantId', summary: 'One tenant with its settings', responses: { 200: '{"id","name","enabled","createdAt","oldTokenValidUntil","settings"}', 404: 'no such tenant' }, handle: showTenantRequest },
  { access: 'admin', method: 'patch', path: '/tenants/:tenantId', summary: 'Enable or disable a tenant, change its settings', body: '{"enabled": boolean, "settings": {"key": value}}', responses: { 200: 'the tenant with its settings', 400: 'a bad field or setting, named', 404: 'no such tenant' }, handle: patchTenantRequest },
  { access: 'admin', method: 'post', path: '/tenants/:tenantId/token', summary: 'Rotate the token; the old one stays valid for keepOld (a duration: 0, 90s, 30m, 24h, 7d; default 24h, at most 30d), then stops; keepOld=0 stops it within 5 seconds', query: ['keepOld'], responses: { 200: '{"id","token","oldTokenValidUntil": ISO time|null}', 400: 'a bad keepOld', 404: 'no such tenant' }, handle: rotateTokenRequest },
  { access: 'admin', method: 'get', path: '/tenants/:tenantId/endusers', summary: 'End users with their current properties; property.NAME=VALUE keeps those whose property NAME equals VALUE', query: ['externalId', 'email', 'companyExternalId', 'unassigned', PROPERTY_FILTER, ...PAGE], responses: LIST, handle: readEndUsers },
  { access: 'admin', method: 'get', path: '/tenants/:tenantId/activities', summary: 'Activities', query: ['externalId', 'email', 'action', 'companyExternalId', 'assetExternalId', 'projectExternalId', 'from', 'to', ...PAGE], responses: LIST, handle: readActivities },
  { access: 'admin', method: 'get', path: '/tenants/:tenantId/companies', summary: 'Companies with their domains and current properties', query: PAGE, responses: LIST, handle: readCompanies },
  { access: 'admin', method: 'post', path: '/tenants/:tenantId/companies', summary: 'Upsert companies', body: '[{"externalId","name","domains":[...]}]', responses: UPSERT, handle: (db, request) => upsertRequest(db, 'companies', request) },
  { access: 'admin', method: 'get', path: '/tenants/:tenantId/assets', summary: 'Assets', query: PAGE, responses: LIST, handle: (db, request) => readOwned(db, 'assets', request) },
  { access: 'admin', method: 'post', path: '/tenants/:tenantId/assets', summary: 'Upsert assets', body: '[{"externalId","name","companyExternalId"}]', responses: UPSERT, handle: (db, request) => upsertRequest(db, 'assets', request) },
  { access: 'admin', method: 'get', path: '/tenants/:tenantId/projects', summary: 'Projects', query: PAGE, responses: LIST, handle: (db, request) => readOwned(db, 'projects', request) },
  { access: 'admin', method: 'post', path: '/tenants/:tenantId/projects', summary: 'Upsert projects', body: '[{"externalId","name","companyExternalId"}]', responses: UPSERT, handle: (db, request) => upsertRequest(db, 'projects', request) },
  { access: 'admin', method: 'get', path: '/tenants/:tenantId/filtered-actions', summary: 'Events dropped by the action filters, counted per action', responses: { 200: '{"data":[{"action","count","lastSeenAt"}]}', 404: 'no such tenant' }, handle: readFilteredActions },
  { access: 'admin', method: 'get', path: '/tenants/:tenantId/deliveries', summary: 'The delivery log, newest first', query: ['status', 'from', 'to', ...PAGE], responses: LIST, handle: readDeliveries },
  { access: 'admin', method: 'get', path: '/tenants/:tenantId/deliveries/:deliveryId', summary: 'One delivery with the outcome of each event', responses: { 200: 'the delivery with "events": [{"index","insertId","outcome","error"?}]', 404: 'no such tenant or delivery' }, handle: readDelivery },
];
