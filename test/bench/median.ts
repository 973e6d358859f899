/**
 * Medians over several bench runs: `node dist/test/bench/median.js test/bench/results/A.json B.json ...` prints the
 * bench's table with each figure the median of the runs (each figure on its own, so a row's ratio is the ratio of
 * the medians).
 */
import fs from 'node:fs';
import { printTable } from './table';

type Json = number | string | boolean | null | Json[] | { [key: string]: Json };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The runs' common shape with every number replaced by its median; anything else is taken from the first run that has it. */
function medianOf(all: Json[]): Json {
  // A figure older runs lack (a phase added since) is the median of the runs that have it.
  const runs = all.filter((run) => run !== undefined);
  const [first] = runs;
  if (typeof first === 'number') return median(runs as number[]);
  if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    return Object.fromEntries(Object.keys(first).map((key) => [key, medianOf(runs.map((run) => (run as Record<string, Json>)[key]))]));
  }
  return first;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: node dist/test/bench/median.js RESULT.json...\n');
  process.exit(2);
}
const runs = files.map((file) => JSON.parse(fs.readFileSync(file, 'utf8')) as Json);
process.stdout.write(`medians of ${runs.length} runs: ${files.join(', ')}\n`);
printTable(medianOf(runs) as unknown as Parameters<typeof printTable>[0]);
