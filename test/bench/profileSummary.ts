/**
 * Where a process's CPU time went, from the profile `npm run bench -- --cpu-prof DIR` makes of it: self time per
 * area (our code by folder, each package, node's internals, GC, idle) and the functions that took the most.
 * Usage: node dist/test/bench/profileSummary.js PROFILE.cpuprofile...
 */
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Our code by its folder under src/, a package by its name, node's own JavaScript as "node", and V8's pseudo-frames by name. */
function areaOf(url: string, functionName: string): string {
  if (url === '') return `(${functionName.replace(/[()]/g, '') || 'native'})`;
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inPackage) return inPackage[1];
  const ours = /dist\/(src\/[^/]+)/.exec(url);
  if (ours) return ours[1];
  return url.startsWith('node:') ? 'node' : url;
}

function table(title: string, totals: Map<string, number>, all: number, top: number): string {
  const lines = [...totals].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => `  ${((100 * us) / all).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  return `${title}\n${lines.join('\n')}\n`;
}

function summarize(file: string): string {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, index) => {
    const { callFrame } = byId.get(id) as ProfileNode;
    const us = profile.timeDeltas[index] ?? 0;
    all += us;
    const area = areaOf(callFrame.url, callFrame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const name = `${callFrame.functionName || '(anonymous)'} ${callFrame.url ? `${path.basename(callFrame.url)}:${callFrame.lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
  });
  const busy = all - (areas.get('(idle)') ?? 0);
  return `${path.basename(file)}: ${(all / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy (${((100 * busy) / all).toFixed(0)} %)\n`
    + table('self time by area:', areas, all, 15)
    + table('self time by function:', functions, all, 20);
}

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: node dist/test/bench/profileSummary.js PROFILE.cpuprofile...\n');
  process.exit(2);
}
for (const file of files) process.stdout.write(summarize(file) + '\n');
