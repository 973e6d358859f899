/** The header each kind of CSV import takes; externalId is the only column a file must have. */
import type { UpsertKind } from '../admin/upsertService';

export const CSV_COLUMNS: Record<UpsertKind, string[]> = {
  companies: ['externalId', 'name', 'domains'],
  assets: ['externalId', 'name', 'companyExternalId'],
  projects: ['externalId', 'name', 'companyExternalId'],
};

export const REQUIRED_CSV_COLUMN = 'externalId';
