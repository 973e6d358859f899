import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig, settings, ConfigError } from '../config';
import { REPO_ROOT } from './support/testEnv';
import { withCurrentSettingsTable } from '../config/settingsTable';

describe('config', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    assert.equal(config.PORT, 8080);
    assert.deepEqual(config.REDIS_URL, { mode: 'standalone', url: 'redis://127.0.0.1:6379', display: 'redis://127.0.0.1:6379' });
    assert.deepEqual(config.DATABASE_URL, { client: 'sqlite', filename: path.resolve('data/activityd.sqlite') });
    assert.equal(config.QUEUE_PREFIX, 'activityd');
    assert.equal(config.MAX_EVENT_BYTES, 1024 * 1024);
    assert.equal(config.MAX_BODY_BYTES, 32 * 1024 * 1024);
    assert.equal(config.ADMIN_TOKEN, '');
  });

  it('takes each setting from its environment variable', () => {
    const config = loadConfig({ PORT: '9000', DATABASE_URL: 'sqlite:///tmp/x.sqlite', LOG_LEVEL: 'debug', WORKER_CONCURRENCY: '7' });
    assert.equal(config.PORT, 9000);
    assert.deepEqual(config.DATABASE_URL, { client: 'sqlite', filename: '/tmp/x.sqlite' });
    assert.equal(config.LOG_LEVEL, 'debug');
    assert.equal(config.WORKER_CONCURRENCY, 7);
    assert.deepEqual(loadConfig({ DATABASE_URL: 'postgres://u@db:5432/app?schema=activity' }).DATABASE_URL, {
      client: 'postgres',
      connectionString: 'postgres://u@db:5432/app',
      schema: 'activity',
    });
  });

  it('refuses bad values, naming every bad setting', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ PORT: '70000' }, /PORT must be between 0 and 65535, got 70000/],
      [{ REDIS_URL: 'http://x' }, /REDIS_URL must be a redis:\/\/, rediss:\/\/, redis-sentinel:\/\/HOST:PORT,...\/MASTER or redis-cluster:\/\/HOST:PORT,... URL/],
      [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must be a file path, a sqlite:\/\/ URL or a postgres:\/\/ URL/],
      [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/],
      [{ LOG_FORMAT: 'yaml' }, /LOG_FORMAT must be one of pretty, json, got "yaml"/],
      [{ ADMIN_TOKEN: 'short' }, /ADMIN_TOKEN must be at least 16 characters/],
      [{ TENANT_REFRESH_MS: '10000' }, /TENANT_REFRESH_MS must be between 100 and 5000/],
      [{ QUEUE_PREFIX: 'has space' }, /QUEUE_PREFIX must match/],
      [{ CREATE_DEFAULT_TENANT: 'maybe' }, /CREATE_DEFAULT_TENANT must be true or false/],
      [{ JOB_ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') }, /JOB_ENCRYPTION_KEY must be base64 of exactly 32 bytes/],
      [{ STALLED_CHECK_MS: '0' }, /STALLED_CHECK_MS must be between 500 and 3600000/],
      [{ REDIS_URL: 'redis://127.0.0.1:6379/abc' }, /REDIS_URL db \(the path\) must be a whole number, as in redis:\/\/HOST:PORT\/0, got "\/abc"/],
      [{ HEADERS_TIMEOUT_MS: '30000', REQUEST_TIMEOUT_MS: '20000' }, /HEADERS_TIMEOUT_MS must be at most REQUEST_TIMEOUT_MS \(20000\), got 30000/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => loadConfig(env), (error: Error) => error instanceof ConfigError && message.test(error.message), JSON.stringify(env));
    }
  });

  it('the settings table of docs/configuration.md is the one config/settings.ts generates (npm run docs:settings)', () => {
    const document = fs.readFileSync(path.join(REPO_ROOT, 'docs/configuration.md'), 'utf8');
    assert.equal(document, withCurrentSettingsTable(document), 'docs/configuration.md is out of date: run npm run docs:settings');
    for (const name of Object.keys(settings)) assert.ok(document.includes(`| \`${name}\` |`), `docs/configuration.md has a row for ${name}`);
  });
});
