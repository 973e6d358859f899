/** Bull Board in a real (headless Debian) Chromium: its title, a completed job kept for inspection; log in, find the failed job, retry it from the UI, see it land. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import sqlite3 from 'sqlite3';
import { chromium, Browser } from 'playwright-core';
import { createTestEnv, openMigrated, waitFor, countRows, onlyOn, TestEnv, ADMIN_TOKEN } from './support/testEnv';
import { waitForQueueDrained } from './support/settled';
import { startInProcess, newTenant, InProcessDaemon } from './support/daemon';
import { post, request } from './support/http';
import { Db } from '../src/store/db';

const CHROMIUM = '/usr/bin/chromium';

describe('Bull Board at /admin/queues', function () {
  let env: TestEnv;
  let db: Db;
  let daemon: InProcessDaemon;
  let tenant: { id: number; token: string };
  let browser: Browser | undefined;

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      // CI installs Debian's chromium (.ci/run); a developer machine without it skips, saying so.
      if (process.env.CI) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
      this.skip();
    }
    env = createTestEnv({ JOB_ATTEMPTS: '1', DB_BUSY_TIMEOUT_MS: '50' });
    db = await openMigrated(env.config);
    tenant = await newTenant(db);
    daemon = await startInProcess(env.config, db);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--no-first-run'] });
  });
  after(async () => {
    await browser?.close();
    await daemon?.stop();
    await db?.destroy();
    await env?.cleanup();
  });

  it('refuses without credentials (401, WWW-Authenticate: Basic) and with a wrong password', async () => {
    const none = await request(`${daemon.baseUrl}/admin/queues`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic /);
    const wrong = await request(`${daemon.baseUrl}/admin/queues`, { headers: { authorization: `Basic ${Buffer.from('ops:wrong').toString('base64')}` } });
    assert.equal(wrong.status, 401);
    const api = await request(`${daemon.baseUrl}/admin/queues/api/queues`);
    assert.equal(api.status, 401, 'the board\'s own API is behind the same credential');
    const bearer = await request(`${daemon.baseUrl}/admin/queues/api/queues`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(bearer.status, 200);
    assert.equal(none.headers.get('x-frame-options'), 'DENY');
  });

  it('is titled activityd and shows a completed job, kept for inspection after it was stored', async () => {
    const other = await newTenant(db);
    assert.equal((await post(`${daemon.baseUrl}/analytics/${other.token}`, { externalId: 'done-user', action: 'Board Done', insertId: 'board-done-1' })).status, 202);
    await waitFor('the activity stored', async () => (await countRows(db, 'activities', { insert_id: 'board-done-1' })) === 1, 20000);
    await waitForQueueDrained(env);
    const context = await (browser as Browser).newContext({ httpCredentials: { username: 'ops', password: ADMIN_TOKEN } });
    try {
      const page = await context.newPage();
      await page.goto(`${daemon.baseUrl}/admin/queues`);
      assert.equal(await page.title(), 'activityd');
      await page.getByText('activityd', { exact: true }).first().waitFor({ timeout: 10000 });
      await page.getByRole('link', { name: 'ingest' }).first().click();
      await page.locator('a[href$="status=completed"]').last().click();
      // The completed job, with what the worker returned: one event stored.
      await waitFor('the completed job on the page', async () => /returnValue:\s*\{\s*stored:\s*1,/.test(await page.innerText('body')), 10000, 100);
    } finally {
      await context.close();
    }
  });

  it('keeps a completed job with its tenant (its name), time and outcome, not its events, so kept jobs hold little Redis memory', async () => {
    const other = await newTenant(db);
    const big = 'x'.repeat(100_000);
    assert.equal((await post(`${daemon.baseUrl}/analytics/${other.token}`, { externalId: 'trim-user', action: 'Board Trim', insertId: 'board-trim-1', info: { big } })).status, 202);
    await waitFor('the activity stored', async () => (await countRows(db, 'activities', { insert_id: 'board-trim-1' })) === 1, 20000);
    type Job = { name: string; timestamp: number; data: Record<string, unknown>; returnValue: Record<string, number> | null };
    const kept = await waitFor('the completed job, trimmed', async () => {
      const reply = await request(`${daemon.baseUrl}/admin/queues/api/queues?activeQueue=ingest&status=completed&page=1`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const jobs = (JSON.parse(reply.text) as { queues: { name: string; jobs: Job[] }[] }).queues.find((queue) => queue.name === 'ingest')?.jobs ?? [];
      return jobs.find((job) => job.name === `tenant ${other.id}` && job.data.events === 'removed once stored');
    }, 10000, 100);
    assert.deepEqual(kept.data, { events: 'removed once stored' });
    assert.equal(typeof kept.timestamp, 'number');
    assert.equal(kept.returnValue?.stored, 1);
  });

  it('shows a failed job; "Retry all" in the UI replays it and the activity lands once', async function () {
    onlyOn(this, 'sqlite', 'it holds the SQLite file lock');
    const locker = new sqlite3.Database((env.config.DATABASE_URL as { filename: string }).filename);
    const run = (sql: string) => new Promise<void>((resolve, reject) => locker.run(sql, (error) => (error ? reject(error) : resolve())));
    await run('BEGIN EXCLUSIVE');
    try {
      await run('UPDATE write_lock SET generation = generation + 1');
      assert.equal((await post(`${daemon.baseUrl}/analytics/${tenant.token}`, { externalId: 'board-user', action: 'Board Test', insertId: 'board-1' })).status, 202);
      await waitFor('a failed job', async () => /activityd_queue_jobs\{state="failed"\} 1/.test((await request(`${daemon.baseUrl}/metrics`)).text), 20000, 100);
    } finally {
      await run('COMMIT');
      locker.close();
    }
    assert.equal(await countRows(db, 'activities', { insert_id: 'board-1' }), 0);

    // Without credentials the browser is challenged and cannot get in.
    const anonymous = await (browser as Browser).newPage();
    await assert.rejects(anonymous.goto(`${daemon.baseUrl}/admin/queues`), /ERR_INVALID_AUTH_CREDENTIALS/);
    await anonymous.close();

    const context = await (browser as Browser).newContext({ httpCredentials: { username: 'ops', password: ADMIN_TOKEN } });
    const page = await context.newPage();
    const opened = await page.goto(`${daemon.baseUrl}/admin/queues`);
    assert.equal(opened?.status(), 200);
    await page.getByRole('link', { name: 'ingest' }).first().click();
    await page.locator('a[href$="status=failed"]').last().click();
    await page.getByText('SQLITE_BUSY', { exact: false }).first().waitFor({ timeout: 10000 });
    await page.getByRole('button', { name: 'Retry all' }).click();
    // The board asks for confirmation before acting on every job.
    const confirm = page.getByRole('button', { name: /^(Confirm|Yes|Retry)/ });
    if (await confirm.count()) await confirm.last().click();
    await waitFor('the replayed activity', async () => (await countRows(db, 'activities', { insert_id: 'board-1' })) === 1, 20000);
    await waitForQueueDrained(env);
    assert.equal(await countRows(db, 'activities', { tenant_id: tenant.id }), 1);
    await context.close();
  });
});
