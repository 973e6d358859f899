/** The admin token made on first start without ADMIN_TOKEN: printed once, stored as a hash, rotated by the CLI (real processes). */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createTestEnv, openMigrated, waitFor, TestEnv, ADMIN_TOKEN } from './support/testEnv';
import { spawnActivityd, runActivityd, ensureStopped, ChildDaemon } from './support/daemon';
import { request } from './support/http';
import type { Db } from '../src/store/db';

const LISTENING = /"port":(\d+),"msg":"receiver listening"/;
const PRINTED_TOKEN = /admin token: +(\S+)/;
/** Logged after anything the start prints. */
const READY = /"msg":"ready"/;

const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`ops:${password}`).toString('base64')}` });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The statuses the board and the admin API give `headers`. */
async function answers(port: string, headers: Record<string, string>): Promise<{ board: number; api: number }> {
  const board = await request(`http://127.0.0.1:${port}/admin/queues/api/queues`, { headers });
  const api = await request(`http://127.0.0.1:${port}/api/v1/tenants`, { headers });
  return { board: board.status, api: api.status };
}

describe('admin token: made on first start, rotated by the CLI', () => {
  let env: TestEnv;
  let db: Db | undefined;
  const children: ChildDaemon[] = [];
  const start = (extra: Record<string, string> = {}) => {
    const child = spawnActivityd(['start'], { ...env.env, ...extra });
    children.push(child);
    return child;
  };

  beforeEach(() => {
    env = createTestEnv({ ADMIN_TOKEN: '', CREATE_DEFAULT_TENANT: 'false', LOG_LEVEL: 'info' });
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map(ensureStopped));
    await db?.destroy();
    db = undefined;
    await env.cleanup();
  });

  it('a first start without ADMIN_TOKEN prints a token once with the board URL; board and admin API take it (Basic or Bearer) and refuse others; rotate cuts the old one', async () => {
    const first = start();
    const [, token] = await first.waitForOutput(PRINTED_TOKEN, 120000);
    const port = (await first.waitForOutput(LISTENING))[1];
    assert.match(first.output(), new RegExp(`board: +http://127\\.0\\.0\\.1:${port}/admin/queues `), 'the board URL names the port the receiver got');
    db = await openMigrated(env.config);
    const stored = await db('admin_token').select('token_hash');
    assert.deepEqual(stored, [{ token_hash: crypto.createHash('sha256').update(token).digest('hex') }], 'only the hash is stored');

    assert.deepEqual(await answers(port, basic(token)), { board: 200, api: 401 }, 'Basic is for the board (a browser), Bearer for both');
    assert.deepEqual(await answers(port, bearer(token)), { board: 200, api: 200 });
    assert.deepEqual(await answers(port, bearer(`${token}x`)), { board: 401, api: 401 });
    assert.deepEqual(await answers(port, basic(ADMIN_TOKEN)), { board: 401, api: 401 });
    assert.deepEqual(await answers(port, {}), { board: 401, api: 401 });

    const rotated = await runActivityd(['admin-token', 'rotate'], env.env);
    assert.equal(rotated.code, 0, rotated.out);
    const newToken = JSON.parse(rotated.out).token as string;
    assert.deepEqual(await answers(port, bearer(newToken)), { board: 200, api: 200 }, 'the new token works at once');
    const cutAt = Date.now();
    await waitFor('the old token refused', async () => (await answers(port, bearer(token))).api === 401, 10000);
    assert.ok(Date.now() - cutAt < 5000, 'the old token stops within 5 seconds');
    assert.deepEqual(await answers(port, basic(token)), { board: 401, api: 401 });

    first.signal('SIGTERM');
    assert.equal(await first.exited, 0);
    const second = start();
    await second.waitForOutput(READY, 120000);
    assert.doesNotMatch(second.output(), /admin token:/, 'a later start prints no secret');
    assert.doesNotMatch(second.output(), new RegExp(newToken));
    assert.deepEqual(await answers((await second.waitForOutput(LISTENING))[1], bearer(newToken)), { board: 200, api: 200 });
  });

  it('of two processes starting at once on a database without an admin token, exactly one makes and prints it', async () => {
    db = await openMigrated(env.config);
    const both = [start(), start()];
    await Promise.all(both.map((child) => child.waitForOutput(READY, 120000)));
    const ports = await Promise.all(both.map(async (child) => (await child.waitForOutput(LISTENING))[1]));
    const printed = both.map((child) => PRINTED_TOKEN.exec(child.output())?.[1]).filter((token) => token !== undefined);
    assert.equal(printed.length, 1, both.map((child) => child.output()).join('\n---\n'));
    for (const port of ports) assert.deepEqual(await answers(port, bearer(printed[0] as string)), { board: 200, api: 200 });
    assert.equal((await db('admin_token').select('id')).length, 1);
  });

  it('with ADMIN_TOKEN set nothing is made or printed, and ADMIN_TOKEN wins over a stored admin token', async () => {
    db = await openMigrated(env.config);
    const withEnvToken = start({ ADMIN_TOKEN });
    await withEnvToken.waitForOutput(READY, 120000);
    const port = (await withEnvToken.waitForOutput(LISTENING))[1];
    assert.doesNotMatch(withEnvToken.output(), /admin token:/);
    assert.equal((await db('admin_token').select('id')).length, 0, 'no admin token made');
    assert.deepEqual(await answers(port, bearer(ADMIN_TOKEN)), { board: 200, api: 200 });

    const rotated = await runActivityd(['admin-token', 'rotate'], { ...env.env, ADMIN_TOKEN });
    assert.equal(rotated.code, 0, rotated.out);
    assert.match(rotated.out, /ADMIN_TOKEN is set here/);
    const storedToken = JSON.parse(rotated.out.split('\n').find((line) => line.startsWith('{')) as string).token as string;
    assert.deepEqual(await answers(port, bearer(storedToken)), { board: 401, api: 401 }, 'the stored token is not accepted where ADMIN_TOKEN is set');
    assert.deepEqual(await answers(port, bearer(ADMIN_TOKEN)), { board: 200, api: 200 });
  });
});
