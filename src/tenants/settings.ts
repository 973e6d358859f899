/**
 * A tenant's settings: which Amplitude property feeds each activity field (Planhat's "Mappings" tab), the
 * Amplitude group type that names companies, whether unknown companies are created, whether device-only events
 * are accepted, and which actions are kept.
 */
import { longerThan } from '../characterCount';
import { ActionFilter, compileActionFilter } from './actionFilter';

export const MAPPED_FIELDS = ['externalId', 'email', 'name', 'companyExternalId', 'assetExternalId', 'projectExternalId'] as const;
export type MappedField = (typeof MAPPED_FIELDS)[number];

export interface TenantSettings {
  /** Dotted property paths into an Amplitude event, per activity field. */
  mappings: Partial<Record<MappedField, string>>;
  companyGroupType: string;
  autoCreateCompanies: boolean;
  allowDeviceOnlyEvents: boolean;
  /** Exact names or `*` globs; empty: every action. */
  includeActions: string[];
  excludeActions: string[];
}

/** Settings as a process works with them: the stored values, and the action filters compiled when read. */
export interface ReadSettings extends TenantSettings {
  /** Dropped when the settings are written as JSON (an API answer, the stored text): it is derived from the lists. */
  readonly keepsAction: ActionFilter;
}

export const DEFAULT_SETTINGS: TenantSettings = {
  mappings: { externalId: 'user_id', email: 'user_properties.email', name: 'user_properties.name' },
  companyGroupType: 'company',
  autoCreateCompanies: true,
  allowDeviceOnlyEvents: false,
  includeActions: [],
  excludeActions: [],
};

export class SettingError extends Error {}

const PATH = /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+){0,9}$/;
const SETTING_KEYS = [...MAPPED_FIELDS, 'companyGroupType', 'autoCreateCompanies', 'allowDeviceOnlyEvents', 'includeActions', 'excludeActions'];

function parsePath(key: string, value: string): string {
  if (!PATH.test(value)) throw new SettingError(`${key}: "${value}" is not a property path (dotted names like event_properties.workspace_id)`);
  return value;
}

function parseFlag(key: string, value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new SettingError(`${key}: must be true or false, got "${value}"`);
}

function parseActionList(key: string, value: string): string[] {
  const patterns = value.split(',').map((pattern) => pattern.trim()).filter((pattern) => pattern !== '');
  for (const pattern of patterns) {
    if (longerThan(pattern, 255)) throw new SettingError(`${key}: "${pattern.slice(0, 40)}…" is longer than 255 characters`);
  }
  return patterns;
}

/** Applies `key=value` changes; an empty value resets a key to its default. Refuses unknown keys and bad values. */
export function applySettingChanges(current: TenantSettings, changes: Record<string, string>): TenantSettings {
  const next: TenantSettings = {
    mappings: { ...current.mappings },
    companyGroupType: current.companyGroupType,
    autoCreateCompanies: current.autoCreateCompanies,
    allowDeviceOnlyEvents: current.allowDeviceOnlyEvents,
    includeActions: current.includeActions,
    excludeActions: current.excludeActions,
  };
  for (const [key, rawValue] of Object.entries(changes)) {
    const value = rawValue.trim();
    if ((MAPPED_FIELDS as readonly string[]).includes(key)) {
      const field = key as MappedField;
      if (value === '') {
        if (DEFAULT_SETTINGS.mappings[field] === undefined) delete next.mappings[field];
        else next.mappings[field] = DEFAULT_SETTINGS.mappings[field];
      } else {
        next.mappings[field] = parsePath(key, value);
      }
      continue;
    }
    switch (key) {
      case 'companyGroupType':
        next.companyGroupType = value === '' ? DEFAULT_SETTINGS.companyGroupType : parsePath(key, value);
        break;
      case 'autoCreateCompanies':
      case 'allowDeviceOnlyEvents':
        next[key] = value === '' ? DEFAULT_SETTINGS[key] : parseFlag(key, value);
        break;
      case 'includeActions':
      case 'excludeActions':
        next[key] = parseActionList(key, value);
        break;
      default:
        throw new SettingError(`unknown setting "${key}"; known: ${SETTING_KEYS.join(', ')}`);
    }
  }
  return next;
}

/**
 * Settings read, by their stored text: each process parses and compiles a tenant's settings once per change, not
 * once per event or per reload. Bounded, oldest first out, so texts of settings changed long ago do not pile up.
 */
const readByText = new Map<string, ReadSettings>();
const MAX_READ_SETTINGS = 10000;

/** Settings as stored (JSON text), completed with the defaults for anything absent; shared and frozen, so never changed in place. */
export function readSettings(stored: string | null | undefined): ReadSettings {
  const text = stored ?? '';
  const known = readByText.get(text);
  if (known) return known;
  const parsed = text ? (JSON.parse(text) as Partial<TenantSettings>) : {};
  const values: TenantSettings = { ...DEFAULT_SETTINGS, ...parsed, mappings: Object.freeze({ ...DEFAULT_SETTINGS.mappings, ...parsed.mappings }) };
  const settings: ReadSettings = Object.freeze({ ...values, keepsAction: compileActionFilter(values.includeActions, values.excludeActions) });
  if (readByText.size >= MAX_READ_SETTINGS) readByText.delete(readByText.keys().next().value as string);
  readByText.set(text, settings);
  return settings;
}
