/** ACTIVITY_RETENTION_DAYS: activities dated before it go, in batches the worker's writes get between; recent ones stay; off by default. */
import assert from 'node:assert/strict';
import type { Db } from '../src/store/db';
import { writeBatch } from '../src/process/writeBatch';
import { pruneActivities } from '../src/store/activityPruning';
import { startRetention } from '../src/process/retention';
import { createLogger } from '../src/log';
import { ActivityEvent } from '../src/normalize/activityEvent';
import { useDaemon, useStore } from './support/fixtures';
import { newTenant } from './support/daemon';
import { countRows, waitFor } from './support/testEnv';
import { post, request } from './support/http';
import { settledDeliveries } from './support/settled';
import { getDelivery } from '../src/store/deliveryReads';
import { parseProperties } from '../src/store/properties';
import { finishDelivery, startDelivery } from '../src/deliveries/deliveryRecord';
import { ADMIN_TOKEN } from './support/testEnv';

const DAY_MS = 24 * 60 * 60 * 1000;
const OLD_DATE = Date.now() - 400 * DAY_MS;
const RECENT_DATE = Date.now() - DAY_MS;

function events(prefix: string, count: number, date: number): ActivityEvent[] {
  return Array.from({ length: count }, (_, i) => ({ action: 'viewed', date, count: 1, weight: 1, info: {}, insertId: `${prefix}-${i}`, externalId: `user-${i % 50}` }));
}

async function store(db: Db, tenantId: number, prefix: string, count: number, date: number): Promise<void> {
  for (let start = 0; start < count; start += 2000) await writeBatch(db, [{ tenantId, receivedAt: Date.now(), events: events(`${prefix}-${start}`, Math.min(2000, count - start), date) }]);
}

const olderThan = (db: Db, cutoff: number) => db('activities').where('date', '<', cutoff).count({ n: '*' }).then(([{ n }]) => Number(n));

describe('retention: activities past ACTIVITY_RETENTION_DAYS', () => {
  describe('the pruning itself', () => {
    let db: Db;
    let tenantId: number;
    useStore((parts) => ({ db, tenantId } = parts));

    it('deletes every tenant\'s activities dated before the cutoff, in batches between which a writer keeps storing; recent ones stay', async () => {
      const other = (await newTenant(db)).id;
      await store(db, tenantId, 'old', 8000, OLD_DATE);
      await store(db, other, 'old', 1500, OLD_DATE);
      await store(db, tenantId, 'recent', 100, RECENT_DATE);
      const cutoff = Date.now() - 30 * DAY_MS;

      let pruning = true;
      const oldLeftAtEachWrite: number[] = [];
      const writer = (async () => {
        for (let round = 0; pruning; round++) {
          await writeBatch(db, [{ tenantId, receivedAt: Date.now(), events: events(`during-${round}`, 10, Date.now()) }]);
          oldLeftAtEachWrite.push(await olderThan(db, cutoff));
        }
      })();
      // The writer is under way (its first statements planned, its connection open) before the pruning starts.
      await waitFor('the first write', async () => oldLeftAtEachWrite.length > 0);
      const removed = await pruneActivities(db, cutoff);
      pruning = false;
      await writer;

      assert.equal(removed, 9500);
      assert.equal(await olderThan(db, cutoff), 0);
      assert.equal(await countRows(db, 'activities', { tenant_id: tenantId }), 100 + oldLeftAtEachWrite.length * 10, 'recent activities and those written meanwhile stay');
      const storedMidway = oldLeftAtEachWrite.filter((left) => left > 0 && left < 9500).length;
      assert.ok(storedMidway >= 2, `the writer stored while the pruning was half done (old rows left at each write: ${oldLeftAtEachWrite.join(', ')})`);
    });

    /** One request's job, with its delivery record, as the receiver queues it. */
    const job = (event: ActivityEvent) => {
      const delivery = finishDelivery(startDelivery('httpapi', undefined, Date.now()), tenantId, 200, 1, []);
      return { tenantId, receivedAt: delivery.receivedAt, events: [event], delivery: { id: delivery.id, indexes: [0], record: delivery } };
    };
    const played: ActivityEvent = { action: 'Played', date: OLD_DATE, count: 1, weight: 1, info: {}, insertId: 'late-1', externalId: 'late', userProperties: { $add: { plays: 1 } } };

    it('a redelivered event whose activity was pruned by ACTIVITY_RETENTION_DAYS does not apply its $add again: an event dated before the retention is not stored', async () => {
      // Stored while the retention was longer (or unset), then pruned.
      await writeBatch(db, [job(played)]);
      assert.equal(await pruneActivities(db, Date.now() - 30 * DAY_MS), 1);
      // Amplitude retries a delivery for hours; the same event (same insert id) arrives again.
      const redelivery = job(played);
      assert.deepEqual(await writeBatch(db, [redelivery], { activityRetentionDays: 30 }), [['filtered']]);
      const user = await db('end_users').where({ tenant_id: tenantId, external_id: 'late' }).first('properties');
      assert.deepEqual(parseProperties(user.properties), { plays: 1 }, 'a redelivery (same insert id) applies its operations once (docs/guarantees.md)');
      assert.equal(await countRows(db, 'activities', { tenant_id: tenantId }), 0);
      const [logged] = (await getDelivery(db, tenantId, redelivery.delivery.id))?.events ?? [];
      assert.equal(logged?.outcome, 'filtered');
      assert.match(String(logged?.error), /before ACTIVITY_RETENTION_DAYS \(30\): not stored, its properties not applied/);
    });

    it('the delivery log of a request whose activity was pruned by ACTIVITY_RETENTION_DAYS shows it pruned, not pending for ever', async () => {
      const stored = job({ ...played, userProperties: undefined });
      await writeBatch(db, [stored]);
      assert.deepEqual((await getDelivery(db, tenantId, stored.delivery.id))?.outcomes, { stored: 1, duplicate: 0, filtered: 0, identified: 0, failed: 0, pruned: 0, pending: 0 });
      await pruneActivities(db, Date.now() - 30 * DAY_MS);
      const after = await getDelivery(db, tenantId, stored.delivery.id);
      assert.deepEqual(after?.outcomes, { stored: 0, duplicate: 0, filtered: 0, identified: 0, failed: 0, pruned: 1, pending: 0 }, '"pending" means not yet handled (docs/operations.md)');
      assert.deepEqual(after?.events, [{ index: 0, insertId: 'late-1', outcome: 'pruned', error: 'stored, then its activity was deleted: dated before ACTIVITY_RETENTION_DAYS' }]);
    });

    it('with ACTIVITY_RETENTION_DAYS 0 (the default) a retention pass deletes no activity', async () => {
      await store(db, tenantId, 'old', 10, OLD_DATE);
      const retention = startRetention(db, { deliveries: 14, activities: 0 }, createLogger({ LOG_LEVEL: 'silent' }, 'test'));
      await retention.passNow();
      await retention.stop();
      assert.equal(await countRows(db, 'activities', { tenant_id: tenantId }), 10);
    });
  });

  describe('in a running worker', function () {
    this.timeout(120000);
    let db: Db;
    let baseUrl: string;
    let tenant: { id: number; token: string };
    useDaemon(
      {
        settings: { ACTIVITY_RETENTION_DAYS: '30' },
        seed: async (seedDb) => {
          tenant = await newTenant(seedDb);
          await store(seedDb, tenant.id, 'old', 6000, OLD_DATE);
          await store(seedDb, tenant.id, 'recent', 100, RECENT_DATE);
        },
      },
      (parts) => ({ db, daemon: { baseUrl } } = parts),
    );

    it('prunes old activities from its start while it stores the events posted meanwhile', async () => {
      for (let i = 0; i < 20; i++) {
        const reply = await post(`${baseUrl}/analytics/${tenant.token}`, { externalId: `new-${i}`, action: 'signed in', insertId: `new-${i}` });
        assert.equal(reply.status, 202);
      }
      await waitFor('old activities pruned and new ones stored', async () => (await olderThan(db, Date.now() - 30 * DAY_MS)) === 0 && (await countRows(db, 'activities', { tenant_id: tenant.id })) === 120, 60000, 100);
    });
  });

  describe('in a worker with ACTIVITY_RETENTION_DAYS set', function () {
    this.timeout(60000);
    let db: Db;
    let baseUrl: string;
    let tenant: { id: number; token: string };
    useDaemon({ settings: { ACTIVITY_RETENTION_DAYS: '30' }, seed: async (seedDb) => void (tenant = await newTenant(seedDb)) }, (parts) => ({ db, daemon: { baseUrl } } = parts));

    it('an event dated before the retention is filtered, its properties not applied, and the delivery log names ACTIVITY_RETENTION_DAYS', async () => {
      const old = { user_id: 'late', event_type: 'Played', insert_id: 'late-1', time: OLD_DATE, user_properties: { $add: { plays: 1 } } };
      const recent = { user_id: 'late', event_type: 'Played', insert_id: 'late-2', time: RECENT_DATE, user_properties: { $add: { plays: 1 } } };
      const reply = await waitFor('the tenant known', async () => {
        const answer = await post(`${baseUrl}/2/httpapi`, { api_key: tenant.token, events: [old, recent] });
        return answer.status === 401 ? undefined : answer;
      }, 5000);
      assert.equal(reply.status, 200);
      const [delivery] = await settledDeliveries(baseUrl, tenant.id, 1);
      assert.deepEqual([delivery.outcomes.stored, delivery.outcomes.filtered], [1, 1]);
      const detail = (await request(`${baseUrl}/api/v1/tenants/${tenant.id}/deliveries/${delivery.id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body;
      assert.match(detail.events[0].error, /before ACTIVITY_RETENTION_DAYS \(30\)/);
      const user = await db('end_users').where({ tenant_id: tenant.id, external_id: 'late' }).first('properties');
      assert.deepEqual(parseProperties(user.properties), { plays: 1 });
    });
  });
});
