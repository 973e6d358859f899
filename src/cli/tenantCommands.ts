/** `activityd tenant ...`: the admin API's tenant service on the command line. */
import { SettingError } from '../tenants/settings';
import { changeTenantSettings, createTenant, listTenants, rotateTenantToken, setTenantEnabled, showTenant } from '../admin/tenantService';
import { DEFAULT_KEEP_OLD_MS, KEEP_OLD_RULE, MAX_KEEP_OLD_MS } from '../tenants/tenantAccounts';
import { parseDuration } from '../duration';
import { printJson, tenantIdFrom, withCurrentDatabase } from './runtime';
import { UsageError, Verb } from './verb';

const ID = { name: 'ID', about: 'the tenant\'s id (a whole number, as "tenant list" shows)' };

function settingChanges(assignments: string[]): Record<string, string> {
  const changes: Record<string, string> = {};
  for (const assignment of assignments) {
    const equals = assignment.indexOf('=');
    if (equals <= 0) throw new UsageError(`"${assignment}" is not key=value`);
    changes[assignment.slice(0, equals)] = assignment.slice(equals + 1);
  }
  return changes;
}

function enableVerb(enabled: boolean): Verb {
  const word = enabled ? 'enable' : 'disable';
  return {
    words: ['tenant', word],
    summary: enabled ? 'accept events for the tenant again' : 'refuse the tenant\'s events with 403',
    details: `Prints the tenant: {"id","name","enabled","createdAt"}.${enabled ? '' : ' Events already accepted are still stored.'}`,
    args: [ID],
    run: (config, { args }) =>
      withCurrentDatabase(config, async (db) => {
        printJson(await setTenantEnabled(db, tenantIdFrom(args[0]), enabled));
        return 0;
      }),
  };
}

export const tenantVerbs: Verb[] = [
  {
    words: ['tenant', 'create'],
    summary: 'create a tenant',
    details: 'Prints {"id","name","token"}: the only time the token is shown. Exit 1 if the name is taken.',
    args: [{ name: 'NAME', about: 'the tenant\'s name: 1 to 100 characters, no control characters, not taken (a name starting with - goes after --)' }],
    run: (config, { args }) =>
      withCurrentDatabase(config, async (db) => {
        const tenant = await createTenant(db, args[0]);
        printJson({ id: tenant.id, name: tenant.name, token: tenant.token });
        return 0;
      }),
  },
  {
    words: ['tenant', 'list'],
    summary: 'list tenants (no tokens)',
    details: 'Prints a JSON array of {"id","name","enabled","createdAt","oldTokenValidUntil"}; tokens are never shown. oldTokenValidUntil is until when a replaced token is still accepted (null: none is).',
    run: (config) =>
      withCurrentDatabase(config, async (db) => {
        printJson(await listTenants(db));
        return 0;
      }),
  },
  {
    words: ['tenant', 'show'],
    summary: 'print the tenant and its settings',
    details: 'Prints {"id","name","enabled","createdAt","oldTokenValidUntil","settings"} (mappings, company rules, action filters).',
    args: [ID],
    run: (config, { args }) =>
      withCurrentDatabase(config, async (db) => {
        printJson(await showTenant(db, tenantIdFrom(args[0])));
        return 0;
      }),
  },
  {
    words: ['tenant', 'set'],
    summary: 'change the tenant\'s settings',
    details:
      'Keys: externalId, email, name, companyExternalId, assetExternalId, projectExternalId (Amplitude property paths), companyGroupType, autoCreateCompanies, allowDeviceOnlyEvents, includeActions, excludeActions (comma-separated, * globs); an empty value resets a key to its default. Prints {"id","settings"}. A bad key or value exits 2 naming it, and nothing is changed.',
    args: [ID, { name: 'key=value', about: 'a setting and its new value (key= resets it)', repeated: true }],
    run: (config, { args: [id, ...assignments] }) =>
      withCurrentDatabase(config, async (db) => {
        const tenantId = tenantIdFrom(id);
        try {
          printJson({ id: tenantId, settings: await changeTenantSettings(db, tenantId, settingChanges(assignments)) });
        } catch (error) {
          if (error instanceof SettingError) throw new UsageError(error.message);
          throw error;
        }
        return 0;
      }),
  },
  enableVerb(true),
  enableVerb(false),
  {
    words: ['tenant', 'rotate-token'],
    summary: 'print a new token; the old one stays valid for a grace period, then stops',
    details:
      'Prints {"id","token","oldTokenValidUntil"}. Both tokens are accepted until oldTokenValidUntil (24 hours unless --keep-old says otherwise), then every receiver refuses the old one; with --keep-old 0 it has no grace (oldTokenValidUntil null) and every receiver refuses it within 5 seconds. Rotating again ends an earlier grace.',
    args: [ID],
    flags: { 'keep-old': { type: 'string', value: 'DURATION', about: 'how long the old token stays valid: 0, 90s, 30m, 24h (default), 7d; at most 30d' } },
    run: (config, { args, flags }) => {
      const tenantId = tenantIdFrom(args[0]);
      const keepOld = flags['keep-old'] as string | undefined;
      const keepOldMs = keepOld === undefined ? DEFAULT_KEEP_OLD_MS : parseDuration(keepOld, MAX_KEEP_OLD_MS);
      if (keepOldMs === undefined) throw new UsageError(`--keep-old: ${KEEP_OLD_RULE}, got "${keepOld}"`);
      return withCurrentDatabase(config, async (db) => {
        printJson(await rotateTenantToken(db, tenantId, keepOldMs));
        return 0;
      });
    },
  },
];
