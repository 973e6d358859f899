/** The layering of src/, machine-checked: every import of every file against the table in docs/architecture.md. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './support/testEnv';

const SRC = path.join(REPO_ROOT, 'src');
/** The row of the table that stands for the files directly in src/. */
const ROOT_FILES = 'src/*.ts';

interface FolderRule {
  mayImport: Set<string>;
  typesFrom: Set<string>;
}

/** The table's rows: `folder/` | may import | types from | what lives there. */
function readRules(markdown: string): Map<string, FolderRule> {
  const rules = new Map<string, FolderRule>();
  const names = (cell: string) => new Set([...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]));
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    if (cells.length < 6 || !/^`[^`]+`$/.test(cells[1])) continue;
    rules.set(cells[1].slice(1, -1), { mayImport: names(cells[2]), typesFrom: names(cells[3]) });
  }
  return rules;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The table's name for the folder a file under src/ lives in; undefined outside src/. */
function folderOf(file: string): string | undefined {
  const relative = path.relative(SRC, file);
  if (relative.startsWith('..')) return undefined;
  const parts = relative.split(path.sep);
  return parts.length === 1 ? ROOT_FILES : `${parts[0]}/`;
}

interface Import {
  specifier: string;
  typeOnly: boolean;
  line: number;
}

/** Every relative import and re-export of a file, static or dynamic. */
function importsOf(text: string): Import[] {
  const found: Import[] = [];
  const statement = /\b(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'(\.[^']*)'|\bimport\(\s*'(\.[^']*)'\s*\)|\brequire\(\s*'(\.[^']*)'\s*\)/g;
  for (const match of text.matchAll(statement)) {
    const line = text.slice(0, match.index).split('\n').length;
    found.push({ specifier: match[2] ?? match[3] ?? match[4], typeOnly: match[1] !== undefined, line });
  }
  return found;
}

/** Each cycle the table allows, once, as "a/ -> b/ -> a/" starting from its first folder in alphabetical order. */
function cyclesIn(rules: Map<string, FolderRule>): string[] {
  const cycles = new Set<string>();
  const visit = (trail: string[]) => {
    const last = trail[trail.length - 1];
    const rule = rules.get(last);
    for (const next of new Set([...(rule?.mayImport ?? []), ...(rule?.typesFrom ?? [])])) {
      // Files of one folder import each other freely.
      if (next === last) continue;
      if (next === trail[0]) {
        if (trail.every((folder) => folder >= trail[0])) cycles.add([...trail, next].join(' -> '));
      } else if (!trail.includes(next)) {
        visit([...trail, next]);
      }
    }
  };
  for (const folder of rules.keys()) visit([folder]);
  return [...cycles];
}

describe('architecture: the import rule of each folder (docs/architecture.md)', () => {
  const rules = readRules(fs.readFileSync(path.join(REPO_ROOT, 'docs/architecture.md'), 'utf8'));

  it('the table names every folder of src/ and allows no cycle between folders', () => {
    assert.ok(rules.size > 5, 'the table of folders was found in docs/architecture.md');
    const folders = new Set(sourceFiles(SRC).map((file) => folderOf(file) as string));
    assert.deepEqual([...folders].filter((folder) => !rules.has(folder)).sort(), [], 'folders of src/ without a row in the table');
    assert.deepEqual(cyclesIn(rules), [], 'the table allows these cycles');
  });

  it('every import of every file under src/ is one its folder may make', () => {
    const broken: string[] = [];
    for (const file of sourceFiles(SRC)) {
      const from = folderOf(file) as string;
      const rule = rules.get(from);
      for (const { specifier, typeOnly, line } of importsOf(fs.readFileSync(file, 'utf8'))) {
        const to = folderOf(path.resolve(path.dirname(file), specifier));
        // config/ holds the settings, which every process and folder reads.
        if (to === undefined || to === from) continue;
        if (rule?.mayImport.has(to) || (typeOnly && rule?.typesFrom.has(to))) continue;
        broken.push(`${path.relative(REPO_ROOT, file)}:${line} imports '${specifier}'${typeOnly ? ' (types)' : ''}: ${from} may not import ${to}`);
      }
    }
    assert.deepEqual(broken, [], 'imports the table in docs/architecture.md does not allow');
  });

  it('SQL stays in store/: no file elsewhere builds a query (a knex table call or raw SQL)', () => {
    const queries: string[] = [];
    for (const file of sourceFiles(SRC)) {
      if (folderOf(file) === 'store/') continue;
      fs.readFileSync(file, 'utf8').split('\n').forEach((text, index) => {
        if (/\b(db|trx|knex)\(\s*['"`]|\.raw\(/.test(text)) queries.push(`${path.relative(REPO_ROOT, file)}:${index + 1}: ${text.trim()}`);
      });
    }
    assert.deepEqual(queries, [], 'SQL outside store/');
  });

  it('reads imports as the rule needs them: type-only or not, re-exports and dynamic imports', () => {
    const text = ["import type { A } from '../store/db';", "import { b } from './b';", "export { c } from '../c';", "const d = await import('../d/e');", "import x from 'koa';"].join('\n');
    assert.deepEqual(importsOf(text), [
      { specifier: '../store/db', typeOnly: true, line: 1 },
      { specifier: './b', typeOnly: false, line: 2 },
      { specifier: '../c', typeOnly: false, line: 3 },
      { specifier: '../d/e', typeOnly: false, line: 4 },
    ]);
  });
});
