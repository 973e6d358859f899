/** `npm run docs:settings`: rewrites the settings table of docs/configuration.md from config/settings.ts. */
import fs from 'node:fs';
import path from 'node:path';
import { withCurrentSettingsTable } from '../../config/settingsTable';
import { REPO_ROOT } from './testEnv';

const file = path.join(REPO_ROOT, 'docs/configuration.md');
fs.writeFileSync(file, withCurrentSettingsTable(fs.readFileSync(file, 'utf8')));
process.stdout.write(`wrote the settings table of ${path.relative(process.cwd(), file)}\n`);
