/**
 * The bench's yardstick: the least a Redis-queued ingest pipeline can do. The receiver is bare node:http +
 * JSON.parse + one BullMQ add per request (202 after Redis acknowledged it); the worker stores each job's events
 * with a plain multi-row insert, one transaction per job, into one table. No validation, identity, companies,
 * idempotency or delivery log. Usage: node dist/test/bench/baseline.js receiver|worker (settings from the
 * environment, as activityd reads them).
 */
import http from 'node:http';
import { Queue, Worker } from 'bullmq';
import { loadConfig } from '../../config';
import { connectRedis } from '../../src/queue/redis';
import { openDatabase, Db } from '../../src/store/db';
import { chunks } from '../../src/store/chunks';

export const BASELINE_QUEUE = 'baseline';
export const BASELINE_TABLE = 'baseline_events';

interface BaselineJob {
  receivedAt: number;
  events: Array<Record<string, unknown>>;
}

export async function createBaselineTable(db: Db): Promise<void> {
  await db.schema.createTable(BASELINE_TABLE, (table) => {
    table.increments('id').primary();
    table.string('external_id', 255);
    table.string('action', 255).notNullable();
    table.text('info').notNullable();
    table.bigInteger('received_at').notNullable();
    table.bigInteger('stored_at').notNullable();
  });
}

function receiver(): void {
  const config = loadConfig();
  const queue = new Queue<BaselineJob>(BASELINE_QUEUE, {
    connection: connectRedis(config.REDIS_URL, 'producer'),
    prefix: `{${config.QUEUE_PREFIX}}`,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: false },
  });
  const server = http.createServer((request, response) => {
    const receivedAt = Date.now();
    const chunksIn: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunksIn.push(chunk));
    request.on('end', () => {
      const answer = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      let events: Array<Record<string, unknown>>;
      try {
        const parsed = JSON.parse(Buffer.concat(chunksIn).toString('utf8'));
        events = Array.isArray(parsed) ? parsed : [parsed];
      } catch {
        return answer(400, { error: 'bad JSON' });
      }
      queue.add('events', { receivedAt, events }).then(
        () => answer(202, { accepted: events.length }),
        () => answer(503, { error: 'queue unavailable' }),
      );
    });
  });
  server.listen(config.PORT, config.HOST, () => process.stdout.write('baseline receiver listening\n'));
}

function worker(): void {
  const config = loadConfig();
  const db = openDatabase(config);
  const worker = new Worker<BaselineJob>(
    BASELINE_QUEUE,
    async (job) => {
      await db.transaction(async (trx) => {
        // Taken once the transaction has the connection, as activityd's worker takes it.
        const storedAt = Date.now();
        const rows = job.data.events.map((event) => ({
          external_id: event.externalId === undefined ? (event.user_id === undefined ? null : String(event.user_id)) : String(event.externalId),
          // An Amplitude export record (the bench's export phase) names its action event_type, and is all info.
          action: String(event.action ?? event.event_type),
          info: JSON.stringify(event.info ?? event),
          received_at: job.data.receivedAt,
          stored_at: storedAt,
        }));
        for (const chunk of chunks(rows, 80)) await trx(BASELINE_TABLE).insert(chunk);
      });
    },
    { connection: connectRedis(config.REDIS_URL, 'worker'), prefix: `{${config.QUEUE_PREFIX}}`, concurrency: config.WORKER_CONCURRENCY },
  );
  worker.on('ready', () => process.stdout.write('baseline worker consuming\n'));
  worker.on('failed', (_job, error) => process.stderr.write(`baseline job failed: ${error.message}\n`));
}

if (require.main === module) {
  const role = process.argv[2];
  if (role === 'receiver') receiver();
  else if (role === 'worker') worker();
  else {
    process.stderr.write('usage: baseline.js receiver|worker\n');
    process.exit(2);
  }
}
