/** LOG_FORMAT: JSON lines for machines, pino-pretty's lines for people; tokens redacted in both; a bad value stops the start. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createTestEnv, openMigrated, TestEnv } from './support/testEnv';
import { spawnActivityd, runActivityd, ensureStopped, ChildDaemon } from './support/daemon';
import { createLogger } from '../src/log';
import type { Db } from '../src/store/db';

const SECRET = 'secret-token-Zq8wX2rT5yU7iO9p';

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

/** What a logger of `format` writes for one line carrying a token in each redacted place. */
function logged(format: 'pretty' | 'json'): string {
  const sink = new PassThrough();
  let text = '';
  sink.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const log = createLogger({ LOG_LEVEL: 'info', LOG_FORMAT: format }, 'test', sink);
  log.info({ token: SECRET, authorization: `Bearer ${SECRET}`, headers: { authorization: `Bearer ${SECRET}` }, tenant: { token: SECRET } }, 'a line with tokens');
  return text;
}

describe('logs: LOG_FORMAT', () => {
  it('json writes one JSON object per line, tokens redacted', () => {
    const text = logged('json');
    const line = JSON.parse(text.trim());
    assert.equal(line.msg, 'a line with tokens');
    assert.deepEqual([line.token, line.authorization, line.headers.authorization, line.tenant.token], Array(4).fill('[redacted]'));
    assert.ok(!text.includes(SECRET));
  });

  it('pretty writes readable lines that are not JSON, tokens still redacted', () => {
    const text = logged('pretty');
    assert.match(text, /INFO.*a line with tokens/);
    assert.ok(text.split('\n').filter((line) => line.trim() !== '').every((line) => !isJson(line)), text);
    assert.match(text, /\[redacted\]/);
    assert.ok(!text.includes(SECRET), text);
  });

  describe('in a real process', function () {
    this.timeout(60000);
    let env: TestEnv;
    let db: Db;
    let daemon: ChildDaemon | undefined;

    before(async () => {
      env = createTestEnv({ CREATE_DEFAULT_TENANT: 'false', LOG_LEVEL: 'info' });
      db = await openMigrated(env.config);
    });
    after(async () => {
      await ensureStopped(daemon);
      await db.destroy();
      await env.cleanup();
    });

    it('LOG_FORMAT=pretty: a receiver logs readable lines, not JSON, even with stdout not a terminal', async () => {
      daemon = spawnActivityd(['receiver'], { ...env.env, LOG_FORMAT: 'pretty' });
      const [line] = await daemon.waitForOutput(/^.*receiver listening.*$/m);
      assert.equal(isJson(line), false, line);
      assert.match(line, /INFO/);
    });

    it('unset, a receiver whose stdout is not a terminal logs JSON lines', async () => {
      await ensureStopped(daemon);
      daemon = spawnActivityd(['receiver'], env.env);
      const [line] = await daemon.waitForOutput(/^.*receiver listening.*$/m);
      assert.equal(JSON.parse(line).msg, 'receiver listening');
    });

    it('a bad LOG_FORMAT stops the start with exit 2, naming it', async () => {
      const result = await runActivityd(['start'], { ...env.env, LOG_FORMAT: 'yaml' });
      assert.equal(result.code, 2, result.out);
      assert.match(result.out, /invalid setting: LOG_FORMAT must be one of pretty, json, got "yaml"/);
    });
  });
});
