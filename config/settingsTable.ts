/** The settings table of docs/configuration.md, rendered from the one definition of each setting in ./settings. */
import { settings } from './settings';

export const TABLE_START = '<!-- settings table: generated from config/settings.ts by `npm run docs:settings`; edit it there -->';
export const TABLE_END = '<!-- end of settings table -->';

export function renderSettingsTable(): string {
  const rows = Object.entries(settings).map(([name, setting]) => `| \`${name}\` | ${setting.default === '' ? '(unset)' : `\`${setting.default}\``} | ${setting.doc} |`);
  return [TABLE_START, '| setting | default | meaning |', '| --- | --- | --- |', ...rows, TABLE_END].join('\n');
}

/** `document` with its generated table replaced by the current one; throws when the markers are missing. */
export function withCurrentSettingsTable(document: string): string {
  const start = document.indexOf(TABLE_START);
  const end = document.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error('docs/configuration.md has no generated settings table (its start and end markers)');
  return document.slice(0, start) + renderSettingsTable() + document.slice(end + TABLE_END.length);
}
