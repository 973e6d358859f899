/** The bench's read phase: a page of activities at depth 0 and at the end of N activities, and received -> stored while 8 readers page. */
import type { Db } from '../../src/store/db';
import { encodeCursor } from '../../src/store/readQueries';
import type { PhaseSpec, PhaseFigures } from './main';
import { lastId, Pipeline } from './pipelines';

const READERS = 8;
const PAGE_LIMIT = 100;
/** Pages timed at each depth; the median is reported. */
const SAMPLES = 20;
const BULK_EVENTS = 1000;

export interface ReadFigures {
  activities: number;
  pageMsAtStart: number;
  pageMsAtEnd: number;
  readerPages: number;
  readerPageP50Ms: number;
  readerPageP99Ms: number;
  /** The paced phase run while the readers page. */
  pacedWhileReading: PhaseFigures;
}

interface ReadTarget {
  baseUrl: string;
  tenantId: number;
  adminToken: string;
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ?? NaN;

async function timedPage(target: ReadTarget, cursor: string | undefined): Promise<{ ms: number; nextCursor: string | null }> {
  const started = performance.now();
  const response = await fetch(`${target.baseUrl}/api/v1/tenants/${target.tenantId}/activities?limit=${PAGE_LIMIT}${cursor ? `&cursor=${cursor}` : ''}`, { headers: { authorization: `Bearer ${target.adminToken}` } });
  if (response.status !== 200) throw new Error(`a page of activities answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as { nextCursor: string | null };
  return { ms: performance.now() - started, nextCursor: body.nextCursor };
}

async function medianPageMs(target: ReadTarget, cursor: string | undefined): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i++) times.push((await timedPage(target, cursor)).ms);
  return percentile(times, 0.5);
}

/** Each reader walks the pages from the start, and starts over at the end, until told to stop. */
async function pageUntil(target: ReadTarget, stopped: () => boolean, times: number[]): Promise<void> {
  let cursor: string | undefined;
  while (!stopped()) {
    const page = await timedPage(target, cursor);
    times.push(page.ms);
    cursor = page.nextCursor ?? undefined;
  }
}

export async function readPhase(db: Db, pipeline: Pipeline, target: ReadTarget, activities: number, phase: (spec: PhaseSpec) => Promise<PhaseFigures>, quick: boolean): Promise<ReadFigures> {
  const missing = activities - Number((await db('activities').count({ n: '*' }))[0].n);
  if (missing > 0) {
    process.stderr.write(`bench: ${pipeline.name}: filling up to ${activities} activities...\n`);
    await phase({ kind: 'bulk', eventsPerRequest: BULK_EVENTS, action: 'fill', amount: Math.ceil(missing / BULK_EVENTS), connections: 4 });
  }
  const stored = Number((await db('activities').count({ n: '*' }))[0].n);
  process.stderr.write(`bench: ${pipeline.name}: pages at depth 0 and at the end of ${stored} activities...\n`);
  const pageMsAtStart = await medianPageMs(target, undefined);
  const pageMsAtEnd = await medianPageMs(target, encodeCursor((await lastId(db, pipeline)) - PAGE_LIMIT));
  process.stderr.write(`bench: ${pipeline.name}: 2,000 requests/s while ${READERS} readers page...\n`);
  let done = false;
  const times: number[] = [];
  const readers = Array.from({ length: READERS }, () => pageUntil(target, () => done, times));
  let pacedWhileReading: PhaseFigures;
  try {
    pacedWhileReading = await phase({ kind: 'single', eventsPerRequest: 1, action: 'paced-reading', duration: quick ? 5 : 10, rate: 2000 });
  } finally {
    done = true;
    await Promise.all(readers);
  }
  return { activities: stored, pageMsAtStart, pageMsAtEnd, readerPages: times.length, readerPageP50Ms: percentile(times, 0.5), readerPageP99Ms: percentile(times, 0.99), pacedWhileReading };
}
