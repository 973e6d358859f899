/** A receiver process stopped with SIGINT or SIGTERM under load: it exits 0, and every request it answered 2xx is stored. */
import assert from 'node:assert/strict';
import { createTestEnv, openMigrated, waitFor, TestEnv } from '../support/testEnv';
import { waitForQueueDrained } from '../support/settled';
import { newTenant, spawnActivityd, ensureStopped, ChildDaemon } from '../support/daemon';
import { post } from '../support/http';
import { Db } from '../../src/store/db';

const LISTENING = /"port":(\d+),"msg":"receiver listening"/;
const CONSUMING = /worker consuming the ingest queue/;

describe('faults: receiver stopped under load', function () {
  this.timeout(120000);
  let env: TestEnv;
  let db: Db;
  let worker: ChildDaemon;
  const children: ChildDaemon[] = [];

  before(async () => {
    env = createTestEnv();
    db = await openMigrated(env.config);
    worker = spawnActivityd(['worker'], { ...env.env, LOG_LEVEL: 'info' });
    children.push(worker);
    await worker.waitForOutput(CONSUMING);
  });
  after(async () => {
    await Promise.all(children.map(ensureStopped));
    await db.destroy();
    await env.cleanup();
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal}: requests in flight are answered, the process exits 0, and every event answered 2xx is stored exactly once`, async () => {
      const tenant = await newTenant(db);
      const receiver = spawnActivityd(['receiver'], { ...env.env, LOG_LEVEL: 'info' });
      children.push(receiver);
      const url = `http://127.0.0.1:${(await receiver.waitForOutput(LISTENING))[1]}/analytics/${tenant.token}`;
      await waitFor('tenant known', async () => (await post(url, { externalId: 'warmup', action: 'x', insertId: 'warm' })).status === 202, 10000);

      const accepted: string[] = ['warm'];
      const refused: string[] = [];
      let signalledAt = Infinity;
      let answeredAfterSignal = 0;
      // Eight clients with keep-alive connections; each stops at its first connection error (the receiver is gone).
      const lane = async (lane: number) => {
        for (let round = 0; ; round++) {
          const events = Array.from({ length: 10 }, (_, i) => ({ externalId: `user-${(round + i) % 40}`, action: signal, insertId: `${signal}-${lane}-${round}-${i}` }));
          const sentAt = Date.now();
          let reply;
          try {
            reply = await post(url, events);
          } catch {
            return;
          }
          if (reply.status === 202) {
            accepted.push(...events.map((event) => event.insertId));
            if (sentAt < signalledAt && Date.now() > signalledAt) answeredAfterSignal += 1;
          } else refused.push(`${reply.status} ${reply.text}`);
        }
      };
      const lanes = Promise.all(Array.from({ length: 8 }, (_, i) => lane(i)));
      await waitFor('load running', async () => accepted.length > 2000, 30000, 10);
      signalledAt = Date.now();
      receiver.signal(signal);
      assert.equal(await receiver.exited, 0, receiver.output().slice(-2000));
      await lanes;
      assert.match(receiver.output(), /"msg":"stopped cleanly"/);
      assert.deepEqual(refused, [], 'no request refused while stopping');
      assert.ok(answeredAfterSignal > 0, 'requests in flight at the signal were answered');

      const stored = async () => (await db('activities').where({ tenant_id: tenant.id }).select('insert_id')).map((row: { insert_id: string }) => row.insert_id);
      await waitFor('every accepted event stored', async () => (await stored()).length >= accepted.length, 60000, 100);
      await waitForQueueDrained(env);
      const rows = await stored();
      assert.equal(rows.length, accepted.length, 'none lost, none twice');
      assert.deepEqual(new Set(rows), new Set(accepted));
      process.stdout.write(`      (${accepted.length} events accepted, ${answeredAfterSignal} requests in flight at the signal answered 202)\n`);
    });
  }
});
