/**
 * Every setting activityd reads, written once: its environment variable, its default and its meaning.
 * `loadConfig` validates them all at start-up; a bad value stops the process with a message naming the setting.
 * The README's settings table mirrors this file (a test checks that each setting is documented there).
 */
import { parseBoolean, parseDatabaseUrl, parseEnum, parseInteger, parseKey, parseRedisUrl, parseString, parseUrl, DatabaseTarget, RedisTarget } from './parsers';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const settings = {
  /** TCP port the receiver listens on. @defaultValue 8080 */
  PORT: { default: '8080', parse: parseInteger(0, 65535), doc: 'TCP port the receiver listens on' },
  /** Address the receiver binds to. @defaultValue 0.0.0.0 (every interface, so Amplitude can reach it) */
  HOST: { default: '0.0.0.0', parse: parseString({ allowEmpty: false }), doc: 'address the receiver binds to' },
  /** URL printed as the ingest address on first start; defaults to http://localhost:PORT. */
  PUBLIC_URL: { default: '', parse: parseUrl({ allowEmpty: true }), doc: 'public base URL shown in the ingest URL printed on first start' },
  /** Redis holding the queue: redis://, rediss://, redis-sentinel:// or redis-cluster:// (see parseRedisUrl). @defaultValue redis://127.0.0.1:6379 */
  REDIS_URL: { default: 'redis://127.0.0.1:6379', parse: parseRedisUrl, doc: 'Redis that holds the queue: one server, a Sentinel-managed master, or a cluster' },
  /** Prefix of every Redis key activityd writes, so several deployments or test runs can share one Redis. */
  QUEUE_PREFIX: { default: 'activityd', parse: parseString({ allowEmpty: false, pattern: /^[A-Za-z0-9_.:-]+$/ }), doc: 'prefix of every Redis key activityd uses' },
  /** SQLite file (a path or sqlite:// URL) or postgres:// URL. @defaultValue data/activityd.sqlite */
  DATABASE_URL: { default: 'data/activityd.sqlite', parse: parseDatabaseUrl, doc: 'SQLite path or sqlite:// URL, or a postgres:// URL' },
  /** Bearer token for the admin and read API. Empty: those routes answer 401. */
  ADMIN_TOKEN: { default: '', parse: parseString({ allowEmpty: true, minLength: 16 }), doc: 'bearer token of the admin API (at least 16 characters); unset, the admin API answers 401' },
  /**
   * Jobs one worker process handles at once; their events are written together (group commit). A single-event
   * request is one job, so this bounds the batch size of such traffic (draining 20,000 single-event jobs: about
   * 3,000 events/s at 128, 3,800 at 256). Memory is bounded by events, not jobs: once a worker holds
   * 2 x BATCH_MAX_EVENTS events it takes no more jobs until some are written (see src/process/inFlightBudget.ts).
   */
  WORKER_CONCURRENCY: { default: '256', parse: parseInteger(1, 1000), doc: 'jobs a worker process handles at once' },
  /** pino log level. @defaultValue info */
  LOG_LEVEL: { default: 'info', parse: parseEnum(LOG_LEVELS), doc: 'log level: ' + LOG_LEVELS.join(', ') },
  /** Largest single event, as JSON. @defaultValue 1 MiB */
  MAX_EVENT_BYTES: { default: '1048576', parse: parseInteger(256, 64 * 1024 * 1024), doc: 'largest accepted event, in bytes of JSON' },
  /** Largest request body, after decompression. @defaultValue 32 MiB */
  MAX_BODY_BYTES: { default: '33554432', parse: parseInteger(1024, 1024 * 1024 * 1024), doc: 'largest accepted request body, in bytes after decompression' },
  /** Most events one request may hold; more is refused whole with 413 before any is checked, so a body of millions of tiny items cannot tie up the receiver. */
  MAX_EVENTS_PER_REQUEST: { default: '10000', parse: parseInteger(1, 1000000), doc: 'most events one request may hold' },
  /**
   * Bytes of request bodies (after decompression) one receiver process holds at once, all requests together. A
   * request that would take it past this is refused with 503 and Retry-After, before its body is read when its
   * declared length does not fit. Parsing a body takes several times its size again, so leave room.
   * @defaultValue 256 MiB
   */
  BODY_MEMORY_BUDGET_BYTES: { default: '268435456', parse: parseInteger(1024 * 1024, 64 * 1024 * 1024 * 1024), doc: 'bytes of request bodies a receiver process holds at once; past it, 503 with Retry-After' },
  /** Whole-request deadline (headers and body); a client still sending after it is cut off with 408. */
  REQUEST_TIMEOUT_MS: { default: '120000', parse: parseInteger(100, 3600000), doc: 'how long a client may take to send a whole request' },
  /** Deadline for the request headers, against clients that trickle them in (slowloris); capped by REQUEST_TIMEOUT_MS. */
  HEADERS_TIMEOUT_MS: { default: '20000', parse: parseInteger(100, 3600000), doc: 'how long a client may take to send the request headers' },
  /** Ingest requests per second per tenant in each receiver process; 0: no limit. Over it: 429 with Retry-After. */
  RATE_LIMIT_PER_TENANT: { default: '0', parse: parseInteger(0, 1000000), doc: 'ingest requests per second per tenant and receiver process (0: off)' },
  /** Events per queue job; a larger request becomes several jobs added in one round trip. */
  JOB_MAX_EVENTS: { default: '500', parse: parseInteger(1, 100000), doc: 'events carried by one queue job' },
  /** Tries a job gets before it is failed (kept for inspection). */
  JOB_ATTEMPTS: { default: '10', parse: parseInteger(1, 1000), doc: 'tries a job gets against transient failures before it is kept as failed' },
  /** First retry delay; each further retry doubles it. */
  JOB_BACKOFF_MS: { default: '1000', parse: parseInteger(1, 3600000), doc: 'first retry delay in ms; each retry doubles it' },
  /** BullMQ lockDuration: how long a worker's claim on a job lasts without renewal. A worker that dies (SIGKILL, power loss) stops renewing, and its jobs count as stalled once the lock runs out. */
  JOB_LOCK_MS: { default: '30000', parse: parseInteger(1000, 3600000), doc: 'how long a worker\'s claim on a job lasts unrenewed (BullMQ lockDuration)' },
  /** BullMQ stalledInterval: how often workers look for jobs whose lock ran out and put them back in the queue. */
  STALLED_CHECK_MS: { default: '30000', parse: parseInteger(500, 3600000), doc: 'how often workers put stalled jobs back in the queue (BullMQ stalledInterval)' },
  /** BullMQ maxStalledCount: how many times a job may stall (its worker died) before it is failed; failed jobs stay replayable. */
  JOB_MAX_STALLED: { default: '5', parse: parseInteger(0, 1000), doc: 'times a job may be orphaned by a dying worker before it is kept as failed' },
  /** Most events written in one database transaction. */
  BATCH_MAX_EVENTS: { default: '5000', parse: parseInteger(1, 100000), doc: 'most events the worker writes in one transaction' },
  /** How long the receiver waits for Redis to acknowledge an enqueue before answering 503. */
  ENQUEUE_TIMEOUT_MS: { default: '5000', parse: parseInteger(10, 600000), doc: 'how long the receiver waits for Redis before answering 503' },
  /** Retry-After sent with 503. */
  RETRY_AFTER_SECONDS: { default: '30', parse: parseInteger(1, 86400), doc: 'Retry-After (seconds) sent with 503' },
  /** How often receivers reload tenants (tokens, enabled); at most 5 s so a change is everywhere within 5 s. */
  TENANT_REFRESH_MS: { default: '2000', parse: parseInteger(100, 5000), doc: 'how often each process reloads tenants and tokens (at most 5000)' },
  /** SQLite: how long a writer waits for the file lock before the attempt counts as a transient failure. */
  DB_BUSY_TIMEOUT_MS: { default: '5000', parse: parseInteger(0, 600000), doc: 'SQLite busy timeout in ms' },
  /** PostgreSQL connection pool size per process. */
  DB_POOL_MAX: { default: '10', parse: parseInteger(1, 1000), doc: 'PostgreSQL connections per process' },
  /** How long a process may drain on SIGINT/SIGTERM before unfinished jobs are handed back to the queue. */
  SHUTDOWN_TIMEOUT_MS: { default: '30000', parse: parseInteger(100, 3600000), doc: 'drain time on SIGINT/SIGTERM before in-flight jobs are handed back' },
  /** Port of the worker's /metrics, /healthz and /readyz when it runs on its own (`activityd worker`); pm2 instance N uses PORT+N. */
  WORKER_METRICS_PORT: { default: '9464', parse: parseInteger(0, 65535), doc: 'port of a worker process\'s /metrics, /healthz and /readyz (0: off)' },
  /** How long the delivery log keeps each request; the worker prunes older ones. */
  DELIVERY_RETENTION_DAYS: { default: '14', parse: parseInteger(1, 3650), doc: 'days the delivery log keeps each request' },
  /** AES-256-GCM key (32 bytes, base64) for job payloads and delivery records at rest in Redis; empty: stored as plain JSON. */
  JOB_ENCRYPTION_KEY: { default: '', parse: parseKey, doc: 'base64 of 32 random bytes: encrypts job payloads in Redis (unset: off)' },
  /** Whether `start` creates tenant "default" when the database has no tenant. */
  CREATE_DEFAULT_TENANT: { default: 'true', parse: parseBoolean, doc: 'whether `start` creates tenant "default" in an empty database' },
} as const;

type Settings = typeof settings;
export type SettingName = keyof Settings;
export type Config = { [K in SettingName]: ReturnType<Settings[K]['parse']> };
export type { DatabaseTarget, RedisTarget };
