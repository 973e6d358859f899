/**
 * Property-based tests (fast-check) over the receiver, through real HTTP, Redis and SQLite: whatever a client
 * sends gets a JSON answer with a reason and never a 500, and what was accepted reads back exactly as sent, with
 * keys like __proto__ and constructor kept as plain data and Object.prototype never touched.
 */
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { waitFor, TestEnv, ADMIN_TOKEN } from '../support/testEnv';
import { newTenant, InProcessDaemon } from '../support/daemon';
import { request } from '../support/http';
import { connectRedis } from '../../src/queue/redis';
import { openIngestQueue } from '../../src/queue/ingestQueue';
import { useDaemon } from '../support/fixtures';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const DANGEROUS_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__', 'valueOf'];
const FIELDS = ['externalId', 'email', 'name', 'action', 'date', 'count', 'weight', 'info', 'insertId', 'companyExternalId', 'assetExternalId', 'projectExternalId', 'id', 'cId',
  'event_type', 'user_id', 'device_id', 'event_time', 'time', 'insert_id', 'user_properties', 'groups', 'group_properties', 'event_properties'];

/** Any UTF-16 code unit (so lone surrogates too), weighted towards the troublesome ones. */
const anyUnit = fc.oneof(
  fc.constantFrom('\u0000', '\u001f', '\u007f', '\ud800', '\udfff', '\u202e', '\ufeff', '\u2028', '"', '\\', '😀', 'é', ' '),
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
);
const anyText = fc.oneof(
  fc.string({ unit: anyUnit, maxLength: 30 }),
  fc.constantFrom(...DANGEROUS_KEYS, '', ' ', 'null', '1e400', '-0', '9'.repeat(400), 'x'.repeat(300)),
);
/** Written as JSON text by hand, so a key like "__proto__" is a plain key on the wire whatever the generator makes. */
type Json = { text: string };
const json = (value: unknown): Json => ({ text: JSON.stringify(value) });
const object = (entries: Array<[string, Json]>): Json => ({ text: `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value.text}`).join(',')}}` });
const array = (items: Json[]): Json => ({ text: `[${items.map((item) => item.text).join(',')}]` });

const oddValue: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map(json),
  anyText.map(json),
  fc.constantFrom('1e400', '-1e400', '1e308', '-1', '-0', '9007199254740993', '1000000000001', '253402300800000', '-62135596800000', '0.5', '[]', '{}', 'true', 'null')
    .map((text) => ({ text })),
  fc.constantFrom('2022-02-30', '2022-02-28 20:07:01.795', '9999-12-31T23:59:60Z', '0000-01-01', '1969-12-31T23:59:59Z', 'yesterday', '+275760-09-13T00:00:00Z', '2022-13-01', '1646078821795', '').map(json),
  fc.integer({ min: 0, max: 2000 }).map((length) => json('z'.repeat(length * 50))),
  fc.integer({ min: 0, max: 300 }).map((length) => ({ text: `[${Array(length).fill('0').join(',')}]` })),
  fc.integer({ min: 1, max: 20000 }).map((depth) => ({ text: `${'{"a":['.repeat(depth)}1${']}'.repeat(depth)}` })),
);
const key = fc.oneof(fc.constantFrom(...FIELDS, ...DANGEROUS_KEYS), anyText);
const nested: fc.Arbitrary<Json> = fc.letrec<{ node: Json }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    oddValue,
    fc.array(fc.tuple(key, tie('node')), { maxLength: 4 }).map(object),
    fc.array(tie('node'), { maxLength: 4 }).map(array),
  ),
})).node;
const event: fc.Arbitrary<Json> = fc.array(fc.tuple(key, fc.oneof(oddValue, nested)), { maxLength: 8 }).map(object);
/** A valid event with some fields overwritten by odd values (a repeated key wins in JSON), so both sides of each rule are reached. */
const nearlyValid: fc.Arbitrary<Json> = fc
  .tuple(fc.constantFrom<Array<[string, Json]>>(
    [['externalId', json('u-1')], ['action', json('Logged in')]],
    [['email', json('Ann@Example.com')], ['action', json('x')], ['companyExternalId', json('acme')]],
    [['event_type', json('Viewed')], ['user_id', json('amp-1')], ['event_time', json('2022-02-28 20:07:01.795')]],
  ), fc.array(fc.tuple(key, fc.oneof(oddValue, nested)), { maxLength: 3 }))
  .map(([base, extra]) => object([...base, ...extra]));
const anyEvent = fc.oneof(event, nearlyValid, nearlyValid);
const body: fc.Arbitrary<Json> = fc.oneof(anyEvent, anyEvent, fc.array(anyEvent, { maxLength: 6 }).map(array), nested, fc.jsonValue().map(json));

interface Sent {
  route: 'single' | 'bulk' | 'bearer' | 'httpapi';
  bytes: Buffer;
  contentType: string;
  gzip: boolean;
}

const sent: fc.Arbitrary<Sent> = fc
  .record({
    route: fc.constantFrom('single', 'bulk', 'bearer', 'httpapi') as fc.Arbitrary<Sent['route']>,
    body,
    damage: fc.oneof(
      { weight: 6, arbitrary: fc.constant<{ kind: 'none' }>({ kind: 'none' }) },
      { weight: 1, arbitrary: fc.nat().map((at) => ({ kind: 'truncate' as const, at })) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ kind: 'bytes' as const, bytes })) },
    ),
    contentType: fc.constantFrom('application/json', 'application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16'),
    gzip: fc.boolean(),
  })
  .map(({ route, body: json, damage, contentType, gzip }) => {
    let text = route === 'httpapi' ? `{"api_key":"TOKEN","events":${json.text}}` : json.text;
    if (damage.kind === 'truncate') text = text.slice(0, damage.at % (text.length + 1));
    const bytes = damage.kind === 'bytes' ? Buffer.from(damage.bytes) : Buffer.from(text, 'utf8');
    // A counterexample prints short: a deep or huge body would fill the terminal.
    const shown = `${route} ${contentType}${gzip ? ' gzip' : ''} ${bytes.length} bytes: ${JSON.stringify(bytes.toString('utf8').slice(0, 300))}`;
    return { route, bytes, contentType, gzip, [fc.toStringMethod]: () => shown };
  });

function prototypeSnapshot(): string {
  return JSON.stringify([Object.getOwnPropertyNames(Object.prototype).sort(), Object.getOwnPropertyNames(Array.prototype).sort(), Object.getPrototypeOf({}) === Object.prototype]);
}

describe('hostile input: property-based, over real HTTP', function () {
  this.timeout(120000);
  let env: TestEnv;
  let daemon: InProcessDaemon;
  let tenant: { id: number; token: string };
  const prototypeBefore = prototypeSnapshot();

  useDaemon(
    {
      settings: { MAX_BODY_BYTES: String(256 * 1024), MAX_EVENT_BYTES: String(32 * 1024), MAX_EVENTS_PER_REQUEST: '50' },
      seed: async (db) => {
        tenant = await newTenant(db, 'properties');
      },
    },
    (parts) => ({ env, daemon } = parts),
  );

  /** Every accepted event reached the database: nothing left in the queue, and no job failed in the worker. */
  async function queueSettled(): Promise<void> {
    const redis = connectRedis(env.config.REDIS_URL, 'producer');
    const queue = openIngestQueue(env.config, redis);
    try {
      const counts = await waitFor('the queue to drain', async () => {
        const now = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
        return now.waiting + now.active + now.delayed + now.prioritized === 0 ? now : undefined;
      }, 30000, 100);
      assert.equal(counts.failed, 0, `failed jobs: ${JSON.stringify((await queue.getFailed()).map((job) => job.failedReason))}`);
    } finally {
      await queue.close();
      redis.disconnect();
    }
  }

  async function send(item: Sent) {
    const path = { single: `/analytics/${tenant.token}`, bulk: `/analytics/bulk/${tenant.token}`, bearer: '/analytics', httpapi: '/2/httpapi' }[item.route];
    let bytes = item.route === 'httpapi' ? Buffer.from(item.bytes.toString('utf8').replace('"TOKEN"', JSON.stringify(tenant.token)), 'utf8') : item.bytes;
    const headers: Record<string, string> = { 'content-type': item.contentType };
    if (item.route === 'bearer') headers.authorization = `Bearer ${tenant.token}`;
    if (item.gzip) {
      bytes = zlib.gzipSync(bytes);
      headers['content-encoding'] = 'gzip';
    }
    return request(`${daemon.baseUrl}${path}`, { raw: bytes, headers });
  }

  it('anything sent gets 200/202/400/413/415 with a JSON reason, never a 500, and the receiver stays up', async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(sent, async (item) => {
        const reply = await send(item);
        seen.set(reply.status, (seen.get(reply.status) ?? 0) + 1);
        assert.ok([200, 202, 400, 413, 415].includes(reply.status), `status ${reply.status}: ${reply.text.slice(0, 300)}`);
        assert.ok(reply.body !== null && typeof reply.body === 'object' && !Array.isArray(reply.body), `JSON object body: ${reply.text.slice(0, 200)}`);
        if (reply.status === 202) {
          assert.ok(reply.body.accepted >= 1 && Array.isArray(reply.body.rejected));
        } else if (reply.status === 200) {
          assert.equal(reply.body.code, 200);
        } else {
          assert.equal(typeof reply.body.error, 'string', reply.text.slice(0, 200));
          assert.ok(reply.body.error.length > 0);
          if (item.route !== 'httpapi') assert.ok(Array.isArray(reply.body.rejected));
          for (const rejection of reply.body.rejected ?? []) assert.match(rejection.error, /^[^:]+: ./, 'each rejection names a field and a reason');
        }
      }),
      { numRuns: 300, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31), endOnFailure: true },
    );
    // The generators reach every kind of answer, not only the first refusal.
    for (const status of [202, 400, 415]) assert.ok(seen.has(status), `no ${status} among ${JSON.stringify([...seen])}`);
    const alive = await request(`${daemon.baseUrl}/analytics/${tenant.token}`, { body: { externalId: 'alive', action: 'ping' } });
    assert.equal(alive.status, 202);
    await queueSettled();
    assert.equal(prototypeSnapshot(), prototypeBefore);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('valid events read back exactly as sent, __proto__ and constructor keys as plain data, Object.prototype untouched', async () => {
    const validUnit = fc.oneof(
      fc.constantFrom('😀', 'é', 'ß', '中', '\u202e', '\u00a0', '"', '\\', '/', '%', '?', '&', '#'),
      fc.integer({ min: 0x20, max: 0xd7ff }).filter((code) => code !== 0x7f).map((code) => String.fromCharCode(code)),
    );
    const id = fc.string({ unit: validUnit, minLength: 1, maxLength: 40 }).filter((text) => text.trim() !== '');
    const infoKey = fc.oneof(fc.constantFrom(...DANGEROUS_KEYS), fc.string({ unit: anyUnit, maxLength: 12 }));
    const infoValue = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map(json),
      fc.constantFrom(object([['polluted', json('yes')]]), object([['__proto__', object([['polluted', json('deep')]])]]), json('\u0000\ud800')),
    );
    const info = fc.uniqueArray(fc.tuple(infoKey, infoValue), { maxLength: 6, selector: ([name]) => name }).map(object);
    const validEvent = fc.record({
      externalId: id,
      action: id,
      date: fc.integer({ min: 0, max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }),
      count: fc.double({ min: 0, max: 1e12, noNaN: true }),
      weight: fc.double({ min: -1e12, max: 1e12, noNaN: true }),
      info,
    });

    const expected = new Map<string, Record<string, unknown>>();
    let serial = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(validEvent, { minLength: 1, maxLength: 4 }), async (events) => {
        const texts = events.map((e) => {
          const insertId = `rt-${process.pid}-${serial++}`;
          const text = object([
            ['externalId', json(e.externalId)], ['action', json(e.action)], ['date', json(e.date)], ['count', json(e.count)],
            ['weight', json(e.weight)], ['insertId', json(insertId)], ['info', e.info],
          ]).text;
          const parsed = JSON.parse(text);
          expected.set(insertId, {
            externalId: e.externalId.trim(), action: e.action.trim(), date: new Date(e.date).toISOString(),
            count: parsed.count, weight: parsed.weight, info: parsed.info, insertId,
          });
          return text;
        });
        const reply = await request(`${daemon.baseUrl}/analytics/${tenant.token}`, { raw: `[${texts.join(',')}]` });
        assert.equal(reply.status, 202, reply.text.slice(0, 300));
        assert.deepEqual(reply.body, { accepted: events.length, rejected: [] });
      }),
      { numRuns: 40, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31), endOnFailure: true },
    );

    const readAll = async () => {
      const rows: any[] = [];
      let cursor: string | null = '';
      while (cursor !== null) {
        const page: any = await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/activities?limit=1000${cursor ? `&cursor=${cursor}` : ''}`, { headers: admin });
        assert.equal(page.status, 200, page.text.slice(0, 200));
        rows.push(...page.body.data);
        cursor = page.body.nextCursor;
      }
      return rows.filter((row) => expected.has(row.insertId));
    };
    const stored = await waitFor('every accepted event stored', async () => {
      const rows = await readAll();
      return rows.length === expected.size ? rows : undefined;
    }, 30000, 200);
    for (const row of stored) {
      const want = expected.get(row.insertId) as Record<string, unknown>;
      assert.deepEqual(
        { externalId: row.externalId, action: row.action, date: row.date, count: row.count, weight: row.weight, info: row.info, insertId: row.insertId },
        want,
      );
      assert.equal(Object.getPrototypeOf(row.info), Object.prototype, 'info is a plain object');
    }
    await queueSettled();
    assert.equal(prototypeSnapshot(), prototypeBefore);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('a fixed example: __proto__, constructor and prototype keys in info and at the top level are stored and read back as data', async () => {
    // Top-level extras join info; the same key in both with different values is refused (test/hostile/fields.test.ts), so they differ here.
    const raw = '{"externalId":"proto-1","action":"proto","insertId":"proto-ins","__proto__":{"polluted":"top"},"constructor":{"prototype":{"polluted":"ctor"}},'
      + '"info":{"nested":{"__proto__":{"polluted":"info"},"constructor":{"prototype":{"polluted":"info-ctor"}}},"prototype":1}}';
    assert.equal((await request(`${daemon.baseUrl}/analytics/${tenant.token}`, { raw })).status, 202);
    const amplitude = '{"event_type":"proto","user_id":"proto-2","insert_id":"proto-amp","groups":{"company":"__proto__"},"group_properties":{"company":{"name":"n"}},'
      + '"user_properties":{"__proto__":{"polluted":"amp"},"email":"p@example.com"},"event_properties":{"constructor":"c"}}';
    assert.equal((await request(`${daemon.baseUrl}/analytics/${tenant.token}`, { raw: amplitude })).status, 202);
    const read = async (externalId: string) =>
      (await request(`${daemon.baseUrl}/api/v1/tenants/${tenant.id}/activities?externalId=${externalId}`, { headers: admin })).body.data[0];
    const planhat = await waitFor('the Planhat event', () => read('proto-1'));
    assert.deepEqual(planhat.info, JSON.parse('{"__proto__":{"polluted":"top"},"constructor":{"prototype":{"polluted":"ctor"}},"nested":{"__proto__":{"polluted":"info"},"constructor":{"prototype":{"polluted":"info-ctor"}}},"prototype":1}'));
    assert.ok(Object.hasOwn(planhat.info, '__proto__'));
    assert.equal(planhat.info.__proto__.polluted, 'top');
    assert.equal(planhat.info.nested.__proto__.polluted, 'info');
    const amp = await waitFor('the Amplitude event', () => read('proto-2'));
    assert.equal(amp.companyExternalId, '__proto__');
    assert.deepEqual(amp.info.user_properties, JSON.parse('{"__proto__":{"polluted":"amp"},"email":"p@example.com"}'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(prototypeSnapshot(), prototypeBefore);
  });

  it('ids with unpaired surrogates or control characters are refused with the field named, never stored mangled', async () => {
    for (const [raw, field] of [
      ['{"externalId":"\\ud800","action":"x"}', 'externalId'],
      ['{"externalId":"a","action":"x\\udc00y"}', 'action'],
      ['{"externalId":"a\\u0000b","action":"x"}', 'externalId'],
      ['{"event_type":"x","user_id":"u","insert_id":"\\udbff"}', 'insert_id'],
    ]) {
      const reply = await request(`${daemon.baseUrl}/analytics/${tenant.token}`, { raw });
      assert.equal(reply.status, 400, `${raw}: ${reply.text}`);
      assert.match(reply.body.rejected[0].error, new RegExp(`^${field}: must (be valid Unicode|not contain control characters)`));
    }
    const paired = await request(`${daemon.baseUrl}/analytics/${tenant.token}`, { raw: '{"externalId":"\\ud83d\\ude00","action":"x"}' });
    assert.equal(paired.status, 202, 'a surrogate pair (an emoji) is fine');
  });
});
