/** The bench's table: activityd beside the baseline, their ratio, and the target where there is one. */
import type { PipelineFigures, BenchOptions } from './main';

interface Row {
  label: string;
  ours: number;
  base: number;
  unit: string;
  /** Met when `ours` compares to `target` this way. */
  target?: { op: '>=' | '<='; value: number };
}

const number = (value: number, unit: string) =>
  !Number.isFinite(value) ? 'n/a' : unit === 'ms' ? value.toFixed(value < 10 ? 2 : 0) : unit === 'MB' ? value.toFixed(0) : Math.round(value).toLocaleString('en-US');

function rows(ours: PipelineFigures, base: PipelineFigures): Row[] {
  const kb = (bytes: number) => bytes / 1024;
  return [
    { label: 'single-event POSTs, full load: requests/s', ours: ours.single.load.requestsPerSecond, base: base.single.load.requestsPerSecond, unit: '/s' },
    { label: 'single-event POSTs, full load: p50', ours: ours.single.load.p50Ms, base: base.single.load.p50Ms, unit: 'ms' },
    { label: 'single-event POSTs, full load: p99', ours: ours.single.load.p99Ms, base: base.single.load.p99Ms, unit: 'ms' },
    { label: `single-event POSTs at 2,000/s offered: requests/s`, ours: ours.paced.load.requestsPerSecond, base: base.paced.load.requestsPerSecond, unit: '/s' },
    { label: 'single-event POSTs at 2,000/s offered: p50', ours: ours.paced.load.p50Ms, base: base.paced.load.p50Ms, unit: 'ms' },
    { label: 'single-event POSTs at 2,000/s offered: p99', ours: ours.paced.load.p99Ms, base: base.paced.load.p99Ms, unit: 'ms', target: { op: '<=', value: 5 } },
    { label: 'bulk POSTs of 1,000 events: events/s accepted', ours: ours.bulk.load.requestsPerSecond * 1000, base: base.bulk.load.requestsPerSecond * 1000, unit: '/s' },
    { label: 'end-to-end, single-event POSTs: events/s', ours: ours.single.endToEndEventsPerSecond, base: base.single.endToEndEventsPerSecond, unit: '/s', target: { op: '>=', value: 10000 } },
    { label: 'end-to-end, Amplitude export records (~2 KB) as single-event POSTs: events/s', ours: ours.export?.endToEndEventsPerSecond ?? NaN, base: base.export?.endToEndEventsPerSecond ?? NaN, unit: '/s' },
    { label: 'end-to-end, bulk POSTs: events/s', ours: ours.bulk.endToEndEventsPerSecond, base: base.bulk.endToEndEventsPerSecond, unit: '/s', target: { op: '>=', value: 50000 } },
    { label: 'received -> stored p95, single-event run', ours: ours.single.p95ReceivedToStoredMs, base: base.single.p95ReceivedToStoredMs, unit: 'ms' },
    { label: 'received -> stored p95, bulk run', ours: ours.bulk.p95ReceivedToStoredMs, base: base.bulk.p95ReceivedToStoredMs, unit: 'ms' },
    { label: 'peak RSS, receiver', ours: ours.peakRssMb.receiver, base: base.peakRssMb.receiver, unit: 'MB' },
    { label: 'peak RSS, worker', ours: ours.peakRssMb.worker, base: base.peakRssMb.worker, unit: 'MB', target: { op: '<=', value: 200 } },
    { label: 'Redis used_memory before the run', ours: kb(ours.redis.usedMemoryBefore), base: kb(base.redis.usedMemoryBefore), unit: 'KiB' },
    { label: 'Redis used_memory after the drained run', ours: kb(ours.redis.usedMemoryAfter), base: kb(base.redis.usedMemoryAfter), unit: 'KiB' },
  ];
}

export function printTable(report: { options: BenchOptions; machine: { cpus: number; node: string }; redisUrl: string; activityd: PipelineFigures; baseline: PipelineFigures }): void {
  const { activityd: ours, baseline: base, options } = report;
  const header = ['', 'activityd', 'baseline', 'ours/base', 'target', 'met'];
  const lines = rows(ours, base).map((row) => {
    const met = row.target === undefined ? '' : (row.target.op === '>=' ? row.ours >= row.target.value : row.ours <= row.target.value) ? 'yes' : 'NO';
    return [
      row.label,
      `${number(row.ours, row.unit)} ${row.unit}`,
      `${number(row.base, row.unit)} ${row.unit}`,
      Number.isFinite(row.ours / row.base) ? (row.ours / row.base).toFixed(2) : 'n/a',
      row.target ? `${row.target.op} ${row.target.value.toLocaleString('en-US')} ${row.unit}` : '',
      met,
    ];
  });
  const widths = header.map((_, i) => Math.max(header[i].length, ...lines.map((line) => line[i].length)));
  const format = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  process.stdout.write(`\nactivityd bench: ${options.db}, ${options.events.toLocaleString('en-US')} events per run, ${report.machine.cpus} CPUs, node ${report.machine.node}, ${report.redisUrl}\n\n`);
  process.stdout.write(format(header) + '\n');
  for (const line of lines) process.stdout.write(format(line) + '\n');
  const e2eRatio = Math.min(ours.single.endToEndEventsPerSecond / base.single.endToEndEventsPerSecond, ours.bulk.endToEndEventsPerSecond / base.bulk.endToEndEventsPerSecond);
  process.stdout.write(`\nend-to-end vs baseline (lower of the two ratios): ${e2eRatio.toFixed(2)} (target >= 1.00: ${e2eRatio >= 1 ? 'met' : 'NOT met'})\n`);
  process.stdout.write(`Redis keys left under activityd's prefix after the drain: ${ours.redis.keysLeft} (${(ours.redis.bytesLeft / 1024).toFixed(1)} KiB): ${ours.redis.keyNames.join(', ')}\n`);
  const kept = ours.redis.keptCompleted;
  if (kept) process.stdout.write(`besides them, completed jobs kept for the board (COMPLETED_JOBS_KEPT, data dropped): ${kept.jobs} (${(kept.bytes / 1024).toFixed(1)} KiB with their index)\n`);
  if (ours.reads) {
    const reads = ours.reads;
    process.stdout.write(`\nreads (activityd, ${reads.activities.toLocaleString('en-US')} activities, pages of 100):\n`);
    process.stdout.write(`  page at depth 0: ${number(reads.pageMsAtStart, 'ms')} ms; page at the end: ${number(reads.pageMsAtEnd, 'ms')} ms (medians)\n`);
    process.stdout.write(`  8 readers paging during 2,000 requests/s offered: ${reads.readerPages.toLocaleString('en-US')} pages, p50 / p99 ${number(reads.readerPageP50Ms, 'ms')} / ${number(reads.readerPageP99Ms, 'ms')} ms\n`);
    process.stdout.write(`  received -> stored p95 at 2,000 requests/s: ${number(ours.paced.p95ReceivedToStoredMs, 'ms')} ms without readers, ${number(reads.pacedWhileReading.p95ReceivedToStoredMs, 'ms')} ms while they page\n`);
  }
  for (const [name, figures] of [['activityd', ours], ['baseline', base]] as const) {
    for (const key of ['single', 'export', 'paced', 'bulk'] as const) {
      const phase = figures[key];
      if (phase === undefined) continue;
      if (!phase.complete || phase.load.failed > 0) process.stdout.write(`note: ${name} ${key}: ${phase.load.failed} requests failed, ${phase.stored} of ${phase.events} events stored${phase.complete ? '' : ' (stalled; partial figures)'}\n`);
    }
  }
}
