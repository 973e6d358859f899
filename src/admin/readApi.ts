/** The read API, free of Koa: validates query parameters (naming the bad one) and returns pages. */
import type { Db } from '../store/db';
import { listActivities, listCompanies, listEndUsers, listFilteredActions, listOwned } from '../store/readQueries';
import type { HttpResult } from '../http/result';
import { AdminRequest, dateParam, emailParam, flagParam, ok, pageRequest, propertyParam, single, withTenant } from './params';

export function readEndUsers(db: Db, { params, query }: AdminRequest): Promise<HttpResult> {
  return withTenant(db, params.tenantId, async (tenantId) =>
    ok(
      await listEndUsers(
        db,
        tenantId,
        { externalId: single(query, 'externalId'), email: emailParam(query), companyExternalId: single(query, 'companyExternalId'), unassigned: flagParam(query, 'unassigned'), property: propertyParam(query) },
        pageRequest(query),
      ),
    ),
  );
}

export function readActivities(db: Db, { params, query }: AdminRequest): Promise<HttpResult> {
  return withTenant(db, params.tenantId, async (tenantId) =>
    ok(
      await listActivities(
        db,
        tenantId,
        {
          externalId: single(query, 'externalId'),
          email: emailParam(query),
          action: single(query, 'action'),
          companyExternalId: single(query, 'companyExternalId'),
          assetExternalId: single(query, 'assetExternalId'),
          projectExternalId: single(query, 'projectExternalId'),
          from: dateParam(query, 'from'),
          to: dateParam(query, 'to'),
        },
        pageRequest(query),
      ),
    ),
  );
}

export function readCompanies(db: Db, { params, query }: AdminRequest): Promise<HttpResult> {
  return withTenant(db, params.tenantId, async (tenantId) => ok(await listCompanies(db, tenantId, pageRequest(query))));
}

export function readOwned(db: Db, table: 'assets' | 'projects', { params, query }: AdminRequest): Promise<HttpResult> {
  return withTenant(db, params.tenantId, async (tenantId) => ok(await listOwned(db, table, tenantId, pageRequest(query))));
}

export function readFilteredActions(db: Db, { params }: AdminRequest): Promise<HttpResult> {
  return withTenant(db, params.tenantId, async (tenantId) => ok(await listFilteredActions(db, tenantId)));
}
