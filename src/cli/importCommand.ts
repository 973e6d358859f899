/** `activityd import companies|assets|projects FILE.csv --tenant ID`: upserts from a CSV, one verb per kind. */
import type { UpsertKind } from '../admin/upsertService';
import { requireTenant } from '../admin/tenantService';
import { CSV_COLUMNS } from './csvColumns';
import { printJson, tenantIdFrom, withCurrentDatabase } from './runtime';
import type { Verb } from './verb';

const DOMAINS_NOTE = ' (domains separated by ; or spaces)';

function importVerb(kind: UpsertKind): Verb {
  return {
    words: ['import', kind],
    summary: `upsert ${kind} from a CSV`,
    details:
      `The header row names the columns: ${CSV_COLUMNS[kind].join(',')}${kind === 'companies' ? DOMAINS_NOTE : ''}, in any order; externalId is required, the others may be left out. ` +
      'A missing externalId column or a column of another kind stops the import before any row is written (exit 2). ' +
      'A progress bar goes to stderr; prints {"rows","created","updated","refused":[{"line","error"}]} (exit 1 if any row was refused).',
    args: [{ name: 'FILE.csv', about: 'the CSV file, with a header row' }],
    flags: { tenant: { type: 'string', value: 'ID', required: true, about: 'the tenant the rows belong to' } },
    run: (config, { args, flags }) => {
      const tenantId = tenantIdFrom(flags.tenant as string, '--tenant');
      return withCurrentDatabase(config, async (db) => {
        const { importCsv } = await import('./csvImport.js');
        await requireTenant(db, tenantId);
        const summary = await importCsv(db, kind, args[0], tenantId);
        printJson(summary);
        return summary.refused.length > 0 ? 1 : 0;
      });
    },
  };
}

export const importVerbs: Verb[] = [importVerb('companies'), importVerb('assets'), importVerb('projects')];
