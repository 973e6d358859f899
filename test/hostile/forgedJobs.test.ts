/** Jobs put straight into the queue (as a forged board "add" or a script would): the worker checks each before writing, fails the bad ones visibly, and writes the rest. */
import assert from 'node:assert/strict';
import { useDaemon, DaemonParts } from '../support/fixtures';
import { newTenant } from '../support/daemon';
import { request } from '../support/http';
import { ADMIN_TOKEN, countRows, waitFor } from '../support/testEnv';
import { openQueueHandle, QueueHandle } from '../../src/daemon/queueHandle';
import { createLogger } from '../../src/log';
import { listFailed } from '../../src/cli/queueOperations';
import { finishDelivery, startDelivery } from '../../src/deliveries/deliveryRecord';
import type { StoredJob } from '../../src/queue/ingestQueue';

const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };

function event(insertId: string, more: Record<string, unknown> = {}) {
  return { externalId: 'forged-user', action: 'Forged', date: Date.now(), count: 1, weight: 1, info: {}, insertId, ...more };
}

describe('hostile: jobs that did not come from the receiver', () => {
  let parts: DaemonParts;
  let handle: QueueHandle;
  let tenantId = 0;

  useDaemon(
    {
      settings: { JOB_ATTEMPTS: '3' },
      seed: async (db) => {
        tenantId = (await newTenant(db)).id;
      },
    },
    (received) => (parts = received),
  );
  before(async () => {
    handle = await openQueueHandle(parts.env.config, createLogger({ LOG_LEVEL: 'silent' }, 'test'));
  });
  after(() => handle?.close());

  it('a job naming a tenant that does not exist, or holding a malformed event, is failed and listed; the other jobs of the batch are stored', async () => {
    const receivedAt = Date.now();
    const delivery = finishDelivery(startDelivery('analytics/bulk', 'forger', receivedAt), tenantId, 202, 2, []);
    const forged: Record<string, unknown> = {
      'no such tenant': { tenantId: 987654, receivedAt, events: [event('ghost-1')] },
      'malformed event': { tenantId, receivedAt, events: [event('mixed-ok'), event('mixed-bad', { action: 5 })], delivery: { id: delivery.id, indexes: [0, 1], record: delivery } },
      'events not a list': { tenantId, receivedAt, events: 'everything' },
      'tenant id as text': { tenantId: String(tenantId), receivedAt, events: [event('text-tenant')] },
      'no data': null,
    };
    const good = [
      { tenantId, receivedAt, events: [event('good-1')] },
      { tenantId, receivedAt, events: [event('good-2', { externalId: 'another' })] },
    ];
    // One round trip: the worker takes them together, and writes the good ones in a batch with the others around.
    const added = await handle.queue.addBulk([...Object.values(forged), ...good].map((data) => ({ name: 'events', data: data as StoredJob })));
    const forgedIds = added.slice(0, Object.keys(forged).length).map((job) => job.id);

    await waitFor('the good jobs stored', async () => (await countRows(parts.db, 'activities', { tenant_id: tenantId })) === 2);
    assert.equal(await countRows(parts.db, 'activities', { insert_id: 'good-1' }), 1);
    assert.equal(await countRows(parts.db, 'activities', { insert_id: 'good-2' }), 1);
    await waitFor('the forged jobs failed', async () => (await handle.queue.getFailedCount()) === forgedIds.length);

    // Failed for good at once (refused, not retried), each with a reason naming what is wrong: what `activityd failed list` prints.
    const listed = await listFailed(handle.queue, 100);
    const reasons = Object.fromEntries(listed.map((job) => [job.id, job]));
    const expected = [/tenant 987654 does not exist/, /events\[1\]\.action: not a non-empty string/, /events: not a list of events/, /tenantId: not a tenant id/, /the job data is not an object/];
    forgedIds.forEach((id, at) => {
      assert.match(reasons[id as string]?.reason ?? '', expected[at], `job ${id} (${Object.keys(forged)[at]})`);
      assert.equal(reasons[id as string].attemptsMade, 1, 'refused, not retried');
    });
    // The board lists them too.
    const board = await request(`${parts.daemon.baseUrl}/admin/queues/api/queues?activeQueue=ingest&status=failed&page=1&jobsPerPage=50`, { headers: ADMIN });
    const boardIds = board.body.queues.find((queue: { name: string }) => queue.name === 'ingest').jobs.map((job: { id: string }) => job.id);
    assert.deepEqual([...boardIds].sort(), [...forgedIds].sort());

    assert.equal(await countRows(parts.db, 'activities', { tenant_id: 987654 }), 0);
    assert.equal(await countRows(parts.db, 'activities', { insert_id: 'mixed-ok' }), 0, 'a job is refused whole');
    // The refused job's delivery record shows each of its events failed, with the reason.
    const shown = await waitFor('the failed delivery in the log', async () => {
      const answer = await request(`${parts.daemon.baseUrl}/api/v1/tenants/${tenantId}/deliveries/${delivery.id}`, { headers: ADMIN });
      return answer.status === 200 && answer.body.events.length === 2 ? answer.body : undefined;
    });
    assert.deepEqual(
      shown.events.map((item: { outcome: string }) => item.outcome),
      ['failed', 'failed'],
    );
    assert.match(shown.events[1].error, /events\[1\]\.action/);

    // The worker carries on.
    await handle.queue.add('events', { tenantId, receivedAt, events: [event('after')] });
    await waitFor('a later job stored', async () => (await countRows(parts.db, 'activities', { insert_id: 'after' })) === 1);
  });
});
