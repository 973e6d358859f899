/** The README and docs/ hold together: every relative link names a file that exists and, with #anchor, a heading in it. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './support/testEnv';

/** The anchor a Markdown heading gets on GitHub: lower case, punctuation dropped, spaces as hyphens. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

function anchorsIn(file: string): Set<string> {
  const text = fs.readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((match) => anchorOf(match[1])));
}

const DOCUMENTS = ['README.md', ...fs.readdirSync(path.join(REPO_ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

describe('README and docs/', () => {
  it('every relative link points to a file that exists, and its #anchor to a heading there', () => {
    const broken: string[] = [];
    let links = 0;
    for (const document of DOCUMENTS) {
      const file = path.join(REPO_ROOT, document);
      const text = fs.readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue;
        links += 1;
        const [relative, anchor] = target.split('#');
        const linked = relative === '' ? file : path.resolve(path.dirname(file), relative);
        if (!fs.existsSync(linked)) broken.push(`${document}: ${target} (no such file)`);
        else if (anchor !== undefined && linked.endsWith('.md') && !anchorsIn(linked).has(anchor)) broken.push(`${document}: ${target} (no such heading)`);
      }
    }
    assert.deepEqual(broken, []);
    assert.ok(links >= 20, `found ${links} links`);
  });

  it('every source file the docs name by path exists', () => {
    const missing: string[] = [];
    for (const document of DOCUMENTS) {
      const text = fs.readFileSync(path.join(REPO_ROOT, document), 'utf8');
      for (const [, file] of text.matchAll(/`((?:src|test|config|migrations)\/[\w/.-]+\.ts)`/g)) {
        if (!fs.existsSync(path.join(REPO_ROOT, file))) missing.push(`${document}: ${file}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  it('the README stays a newcomer\'s page: at most 12 KB, with the quick start a new user types', () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    assert.ok(Buffer.byteLength(readme) <= 12 * 1024, `README.md is ${Buffer.byteLength(readme)} bytes`);
    for (const command of ['npm install', 'npm start', 'npm test']) assert.ok(readme.includes(command), `README shows ${command}`);
  });
});
