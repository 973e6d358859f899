/**
 * Reads a CSV of companies, assets or projects for `activityd import`: its header is checked against the kind before
 * any row is written, then the rows go through the admin API's upsert service in chunks, with a progress bar;
 * refused rows are reported with their line numbers.
 */
import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import type { Db } from '../store/db';
import { upsertRecords, UpsertKind } from '../admin/upsertService';
import { CSV_COLUMNS, REQUIRED_CSV_COLUMN } from './csvColumns';
import { createProgress } from './progress';
import { UsageError } from './verb';

const CHUNK = 500;


/** A file that cannot be read or parsed: exit 1, as the fault is not in how the command was typed. */
class ImportError extends Error {}

/** A header with a column the kind does not take (an assets file imported as companies, say) would write rows missing their data. */
function checkedHeader(kind: UpsertKind, file: string, header: string[]): string[] {
  const takes = `${kind} take ${CSV_COLUMNS[kind].join(', ')}`;
  header.forEach((column, index) => {
    if (!CSV_COLUMNS[kind].includes(column)) throw new UsageError(`${file}: the header's column ${index + 1}, "${column}", is not a column of ${kind} (${takes}); nothing was imported`);
    if (header.indexOf(column) !== index) throw new UsageError(`${file}: the header names "${column}" twice; nothing was imported`);
  });
  if (!header.includes(REQUIRED_CSV_COLUMN)) throw new UsageError(`${file}: the header has no "${REQUIRED_CSV_COLUMN}" column, which every row needs (${takes}); nothing was imported`);
  return header;
}

/** A CSV record as the upsert service takes it: domains separated by ; or spaces. */
function rawItem(record: Record<string, string>) {
  return {
    externalId: record.externalId,
    name: record.name || undefined,
    domains: record.domains ? record.domains.split(/[;\s]+/).filter(Boolean) : [],
    companyExternalId: record.companyExternalId || undefined,
  };
}

export async function importCsv(db: Db, kind: UpsertKind, file: string, tenantId: number) {
  let records: Array<{ record: Record<string, string>; info: { lines: number } }>;
  try {
    records = parse(fs.readFileSync(file), { columns: (header: string[]) => checkedHeader(kind, file, header), info: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new ImportError(`${file}: ${(error as Error).message}`);
  }
  const progress = createProgress(records.length, `importing ${kind}`);
  const summary = { rows: records.length, created: 0, updated: 0, refused: [] as Array<{ line: number; error: string }> };
  for (let start = 0; start < records.length; start += CHUNK) {
    const chunk = records.slice(start, start + CHUNK);
    // The line a record ends on is its index; the header takes line 1.
    const written = await upsertRecords(db, kind, tenantId, chunk.map(({ record, info }) => ({ index: info.lines, raw: rawItem(record) })));
    summary.created += written.created;
    summary.updated += written.updated;
    summary.refused.push(...written.rejected.map(({ index, error }) => ({ line: index, error })));
    progress.advance(chunk.length);
  }
  progress.finish();
  return summary;
}
