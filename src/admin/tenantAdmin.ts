/** Tenants through the admin API: HTTP in and out of tenantService, free of Koa; errors are thrown and answered by http/errorAnswers. Tokens are shown only when made. */
import type { Db } from '../store/db';
import type { HttpResult } from '../http/result';
import { RequestError } from '../http/requestError';
import type { Static } from '@sinclair/typebox';
import { AdminRequest, ok, single, tenantIdParam } from './params';
import type { NewTenant, TenantPatch } from './schemas';
import { parseDuration } from '../duration';
import { DEFAULT_KEEP_OLD_MS, KEEP_OLD_RULE, MAX_KEEP_OLD_MS } from '../tenants/tenantAccounts';
import { createTenant, listTenants, rotateTenantToken, showTenant, updateTenant } from './tenantService';

/** The body fits NewTenant: a field the sender believes has an effect (enabled, settings, a token) is refused, never dropped. */
export async function createTenantRequest(db: Db, { body }: AdminRequest): Promise<HttpResult> {
  const { name } = body as Static<typeof NewTenant>;
  const tenant = await createTenant(db, name);
  return ok({ id: tenant.id, name: tenant.name, token: tenant.token, enabled: tenant.enabled }, 201);
}

export async function listTenantsRequest(db: Db): Promise<HttpResult> {
  return ok({ data: await listTenants(db) });
}

/** A settings value as the CLI's key=value text: booleans as true/false, lists joined by commas, null as empty. */
function settingText(value: string | boolean | string[] | null): string {
  if (Array.isArray(value)) return value.join(',');
  return value === null ? '' : String(value);
}

/** The body fits TenantPatch. */
export async function patchTenantRequest(db: Db, { params, body }: AdminRequest): Promise<HttpResult> {
  const id = tenantIdParam(params.tenantId);
  const patch = body as Static<typeof TenantPatch>;
  const settings = patch.settings && Object.fromEntries(Object.entries(patch.settings).map(([key, value]) => [key, settingText(value)]));
  return ok(await updateTenant(db, id, { enabled: patch.enabled, settings }));
}

export async function rotateTokenRequest(db: Db, { params, query }: AdminRequest): Promise<HttpResult> {
  const id = tenantIdParam(params.tenantId);
  const keepOld = single(query, 'keepOld');
  const keepOldMs = keepOld === undefined ? DEFAULT_KEEP_OLD_MS : parseDuration(keepOld, MAX_KEEP_OLD_MS);
  if (keepOldMs === undefined) throw new RequestError(`keepOld: ${KEEP_OLD_RULE}`);
  return ok(await rotateTenantToken(db, id, keepOldMs));
}

export async function showTenantRequest(db: Db, { params }: AdminRequest): Promise<HttpResult> {
  return ok(await showTenant(db, tenantIdParam(params.tenantId)));
}
