/**
 * `activityd import companies|assets|projects FILE.csv --tenant ID`: a CSV with a header row (externalId, name,
 * and domains for companies — separated by ; or spaces — or companyExternalId for assets and projects), upserted
 * in chunks with a progress bar; refused rows are reported with their line numbers.
 */
import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { Db } from '../store/db';
import { FieldError } from '../normalize/activityEvent';
import { parseUpsertItem } from '../admin/upserts';
import { upsertItems, UpsertItem, UpsertKind } from '../store/catalog';
import { createProgress } from './progress';

const CHUNK = 500;

export class ImportError extends Error {}

export async function importCsv(db: Db, kind: UpsertKind, file: string, tenantId: number) {
  let records: Array<{ record: Record<string, string>; info: { lines: number } }>;
  try {
    records = parse(fs.readFileSync(file), { columns: true, info: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (error) {
    throw new ImportError(`${file}: ${(error as Error).message}`);
  }
  const refused: Array<{ line: number; error: string }> = [];
  const valid: Array<{ index: number; item: UpsertItem }> = [];
  for (const { record, info } of records) {
    const raw = {
      externalId: record.externalId,
      name: record.name || undefined,
      domains: kind === 'companies' && record.domains ? record.domains.split(/[;\s]+/).filter(Boolean) : [],
      companyExternalId: record.companyExternalId || undefined,
    };
    try {
      // The line a record ends on; a header takes line 1.
      valid.push({ index: info.lines, item: parseUpsertItem(kind, raw) });
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      refused.push({ line: info.lines, error: error.message });
    }
  }
  const progress = createProgress(records.length, `importing ${kind}`);
  progress.advance(refused.length);
  let created = 0;
  let updated = 0;
  for (let start = 0; start < valid.length; start += CHUNK) {
    const chunk = valid.slice(start, start + CHUNK);
    const summary = await upsertItems(db, kind, tenantId, chunk);
    created += summary.created;
    updated += summary.updated;
    refused.push(...summary.rejected.map(({ index, error }) => ({ line: index, error })));
    progress.advance(chunk.length);
  }
  progress.finish();
  return { rows: records.length, created, updated, refused: refused.sort((a, b) => a.line - b.line) };
}
