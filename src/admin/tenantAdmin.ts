/** Tenants through the admin API: HTTP in and out of tenantService, free of Koa; errors are thrown and answered by http/errorAnswers. Tokens are shown only when made. */
import type { Db } from '../store/db';
import type { HttpResult } from '../http/result';
import { RequestError } from '../http/requestError';
import { AdminRequest, jsonObjectBody, ok, single, tenantIdParam } from './params';
import { parseDuration } from '../duration';
import { DEFAULT_KEEP_OLD_MS, KEEP_OLD_RULE, MAX_KEEP_OLD_MS } from '../tenants/tenantAccounts';
import { createTenant, listTenants, rotateTenantToken, showTenant, updateTenant } from './tenantService';

export async function createTenantRequest(db: Db, { body }: AdminRequest): Promise<HttpResult> {
  const { name, ...unknown } = jsonObjectBody(body);
  // A field the sender believes has an effect (enabled, settings, a token) must not be dropped silently.
  const [field] = Object.keys(unknown);
  if (field !== undefined) throw new RequestError(`${field.slice(0, 60)}: not a field of a new tenant (send only name)`);
  const tenant = await createTenant(db, name as string);
  return ok({ id: tenant.id, name: tenant.name, token: tenant.token, enabled: tenant.enabled }, 201);
}

export async function listTenantsRequest(db: Db): Promise<HttpResult> {
  return ok({ data: await listTenants(db) });
}

/** A settings value as the CLI's key=value text: booleans as true/false, lists joined by commas. */
function settingText(key: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.join(',');
  if (value === null) return '';
  throw new RequestError(`settings.${key}: must be a string, a boolean, a list of strings or null`);
}

export async function patchTenantRequest(db: Db, { params, body }: AdminRequest): Promise<HttpResult> {
  const id = tenantIdParam(params.tenantId);
  const patch = jsonObjectBody(body);
  const unknown = Object.keys(patch).filter((key) => key !== 'enabled' && key !== 'settings');
  if (unknown.length > 0) throw new RequestError(`${unknown[0]}: not a tenant field (use enabled, settings)`);
  let settings: Record<string, string> | undefined;
  if (patch.settings !== undefined) {
    if (typeof patch.settings !== 'object' || patch.settings === null || Array.isArray(patch.settings)) throw new RequestError('settings: must be an object of setting: value');
    settings = Object.fromEntries(Object.entries(patch.settings).map(([key, value]) => [key, settingText(key, value)]));
  }
  if (patch.enabled !== undefined && typeof patch.enabled !== 'boolean') throw new RequestError('enabled: must be true or false');
  return ok(await updateTenant(db, id, { enabled: patch.enabled as boolean | undefined, settings }));
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
