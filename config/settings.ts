/**
 * Every setting activityd reads, written once: its environment variable, its default and its meaning (Markdown,
 * as docs/configuration.md shows it). `loadConfig` validates them all at start-up; a bad value stops the process
 * with a message naming the setting. The table in docs/configuration.md is generated from this file
 * (`npm run docs:settings`), and a test fails when it is not current.
 */
import { parseBoolean, parseDatabaseUrl, parseEnum, parseInteger, parseKey, parseRedisUrl, parseString, parseUrl, DatabaseTarget, RedisTarget } from './parsers';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const settings = {
  PORT: { default: '8080', parse: parseInteger(0, 65535), doc: 'TCP port the receiver listens on (`0`: any free port)' },
  HOST: { default: '0.0.0.0', parse: parseString({ allowEmpty: false }), doc: 'address the receiver binds to' },
  PUBLIC_URL: { default: '', parse: parseUrl({ allowEmpty: true }), doc: 'public base URL used in the ingest URL printed on first start; unset: `http://localhost:PORT`' },
  REDIS_URL: { default: 'redis://127.0.0.1:6379', parse: parseRedisUrl, doc: 'Redis that holds the queue: `redis://` or `rediss://` (user, password and db as in any Redis URL), `redis-sentinel://` or `redis-cluster://` (see [Redis](operations.md#redis-sentinel-cluster-and-sizing))' },
  QUEUE_PREFIX: { default: 'activityd', parse: parseString({ allowEmpty: false, pattern: /^[A-Za-z0-9_.:-]+$/ }), doc: 'prefix of every Redis key activityd uses; give each deployment (and test run) sharing a Redis its own' },
  DATABASE_URL: { default: 'data/activityd.sqlite', parse: parseDatabaseUrl, doc: 'a SQLite file path or `sqlite://PATH` (its folder is made if the folder above it exists, as a new install\'s `data/`; a longer missing path is refused at start), or `postgres://user:pass@host:5432/db` (`?schema=NAME` optional)' },
  ADMIN_TOKEN: { default: '', parse: parseString({ allowEmpty: true, minLength: 16 }), doc: 'bearer token of the read/admin API, at least 16 characters; unset, that API answers `401`' },
  WORKER_CONCURRENCY: { default: '256', parse: parseInteger(1, 1000), doc: 'queue jobs one worker process handles at once; their events are written together (a single-event request is one job, so this bounds the batch size of such traffic); whatever this is, a worker holding `2 × BATCH_MAX_EVENTS` events takes no more jobs until some are written' },
  LOG_LEVEL: { default: 'info', parse: parseEnum(LOG_LEVELS), doc: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`; logs are JSON lines (pino) on stdout' },
  MAX_EVENT_BYTES: { default: '1048576', parse: parseInteger(256, 64 * 1024 * 1024), doc: 'largest accepted event, in bytes of JSON (1 MiB)' },
  MAX_BODY_BYTES: { default: '33554432', parse: parseInteger(1024, 1024 * 1024 * 1024), doc: 'largest accepted request body, in bytes after decompression (32 MiB); also the most bytes (as sent) of a refused body the receiver reads and drops after its answer, so the client sees the answer (see docs/http-api.md)' },
  MAX_EVENTS_PER_REQUEST: { default: '10000', parse: parseInteger(1, 1000000), doc: 'most events one request may hold; more is refused whole with `413` before any event is checked' },
  BODY_MEMORY_BUDGET_BYTES: { default: '268435456', parse: parseInteger(1024 * 1024, 64 * 1024 * 1024 * 1024), doc: 'bytes of request bodies (after decompression) one receiver process holds at once, all ingest requests together (256 MiB); a request that does not fit gets `503` with `Retry-After`, before its body is read when its declared length does not fit; parsing takes several times a body\'s size again, so leave room below the process\'s memory' },
  REQUEST_TIMEOUT_MS: { default: '120000', parse: parseInteger(100, 3600000), doc: 'how long a client may take to send a whole request (headers and body); after it the connection gets `408` and is closed' },
  HEADERS_TIMEOUT_MS: { default: '20000', parse: parseInteger(100, 3600000), doc: 'how long a client may take to send the request headers (against clients that trickle them in); at most `REQUEST_TIMEOUT_MS` (a larger value stops start-up, exit 2)' },
  RATE_LIMIT_PER_TENANT: { default: '0', parse: parseInteger(0, 1000000), doc: 'ingest requests per second per tenant in each receiver process (bursts up to one second\'s worth); over it `429` with `Retry-After`; `0`: no limit' },
  JOB_MAX_EVENTS: { default: '500', parse: parseInteger(1, 100000), doc: 'events carried by one queue job: a receiver puts the requests of a tenant that arrive while its previous enqueue is in flight into one job, up to this many events (and 1 MiB of request bodies); a larger request becomes several jobs, added in one round trip' },
  JOB_ATTEMPTS: { default: '10', parse: parseInteger(1, 1000), doc: 'tries a job gets against transient failures before it is kept as failed. Read by the process that enqueues (`receiver`, `start`): each job carries the retry policy it was queued with, whichever worker runs it, so set on a `worker` alone it changes nothing (see [Retry policy](operations.md#which-process-decides-the-retry-policy))' },
  JOB_BACKOFF_MS: { default: '1000', parse: parseInteger(1, 3600000), doc: 'delay before the first retry; each further retry doubles it. Read by the process that enqueues (`receiver`, `start`), as `JOB_ATTEMPTS`' },
  JOB_LOCK_MS: { default: '30000', parse: parseInteger(1000, 3600000), doc: 'how long a worker\'s claim on a job lasts without renewal (BullMQ `lockDuration`; renewed every half of it while the job runs); when a worker dies, its jobs go back to the queue once this runs out (see [When a worker dies](operations.md#when-a-worker-dies)). Read by `worker` and `start`' },
  STALLED_CHECK_MS: { default: '30000', parse: parseInteger(500, 3600000), doc: 'how often workers look for jobs whose claim ran out and put them back in the queue (BullMQ `stalledInterval`). Read by `worker` and `start`' },
  JOB_MAX_STALLED: { default: '5', parse: parseInteger(0, 1000), doc: 'how many times one job may be orphaned by a dying worker before it is kept as failed (replayable), so a job that kills its worker cannot do so for ever. Read by `worker` and `start`' },
  BATCH_MAX_EVENTS: { default: '5000', parse: parseInteger(1, 100000), doc: 'most events the worker writes in one database transaction' },
  ENQUEUE_TIMEOUT_MS: { default: '5000', parse: parseInteger(10, 600000), doc: 'how long the receiver waits for Redis to acknowledge the job holding a request\'s events before it gives up on it; it then withdraws the job, waits up to as long again for Redis to confirm the withdrawal, and answers `503` (none of the events stored) or, if a worker had already taken the job, `202` (see [guarantees](guarantees.md))' },
  RETRY_AFTER_SECONDS: { default: '30', parse: parseInteger(1, 86400), doc: 'the `Retry-After` sent with `503`' },
  TENANT_REFRESH_MS: { default: '2000', parse: parseInteger(100, 5000), doc: 'how often each process reloads tenants and tokens, which bounds how long a disabled tenant or replaced token still works (100 to 5000); a token it does not know makes it reload at once, so a new tenant or token needs no wait' },
  DB_BUSY_TIMEOUT_MS: { default: '5000', parse: parseInteger(0, 600000), doc: 'SQLite: how long a write waits for the file lock before the attempt counts as a transient failure' },
  DB_POOL_MAX: { default: '10', parse: parseInteger(1, 1000), doc: 'PostgreSQL: connections per process' },
  SHUTDOWN_TIMEOUT_MS: { default: '30000', parse: parseInteger(100, 3600000), doc: 'on SIGINT/SIGTERM, the longest a stop takes, whatever Redis or the database are doing: in-flight requests and jobs get nine tenths of it to finish before the rest is handed back to the queue; a stop not done by then says what it could not finish and exits 1. Read by `start`, `receiver` and `worker`' },
  WORKER_METRICS_PORT: { default: '9464', parse: parseInteger(0, 65535), doc: 'port of `/metrics`, `/healthz` and `/readyz` of a worker process started on its own (`activityd worker`); pm2 instance N listens on this port + N; `0`: off' },
  DELIVERY_RETENTION_DAYS: { default: '14', parse: parseInteger(1, 3650), doc: 'days the delivery log keeps each request; workers prune older ones hourly' },
  JOB_ENCRYPTION_KEY: { default: '', parse: parseKey, doc: 'base64 of 32 random bytes (`openssl rand -base64 32`): job payloads and delivery records in Redis are encrypted with AES-256-GCM (see [Encrypting what Redis holds](operations.md#encrypting-what-redis-holds)); unset: plain JSON' },
  CREATE_DEFAULT_TENANT: { default: 'true', parse: parseBoolean, doc: 'whether `start` creates tenant `default` in a database without tenants' },
} as const;

type Settings = typeof settings;
export type SettingName = keyof Settings;
export type Config = { [K in SettingName]: ReturnType<Settings[K]['parse']> };
export type { DatabaseTarget, RedisTarget };
