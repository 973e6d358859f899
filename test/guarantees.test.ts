/** docs/guarantees.md names the tests that prove each promise: each named file exists and has a test of each quoted title. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './support/testEnv';

/** The titles of a test file's it() calls, as patterns: a template's ${...} matches anything. */
function titlePatterns(source: string): RegExp[] {
  const titles = [...source.matchAll(/\bit\(\s*(['"`])((?:\\.|(?!\1).)*)\1/g)].map((match) => match[2].replace(/\\(['"`])/g, '$1'));
  return titles.map((title) => new RegExp('^' + title.split(/\$\{[^}]*\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$'));
}

describe('docs/guarantees.md', () => {
  it('every test a promise names exists, in the file it names', () => {
    const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs/guarantees.md'), 'utf8');
    const section = doc.split('\n## Guarantees\n')[1]?.split('\n## ')[0];
    assert.ok(section, 'docs/guarantees.md has a Guarantees section');
    const citations = [...section.matchAll(/`(test\/[\w/.-]+\.test\.ts)`: ((?:"[^"]+"(?:, )?)+)/g)];
    assert.ok(citations.length >= 10, `found ${citations.length} citations`);
    let checked = 0;
    for (const [, file, quoted] of citations) {
      const source = fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
      const patterns = titlePatterns(source);
      for (const [, raw] of quoted.matchAll(/"([^"]+)"/g)) {
        const title = raw.replace(/\\`/g, '`').replace(/\s+/g, ' ');
        assert.ok(patterns.some((pattern) => pattern.test(title)), `${file} has a test titled "${title}"`);
        checked += 1;
      }
    }
    assert.ok(checked >= 20, `checked ${checked} titles`);
  });
});
