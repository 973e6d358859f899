import assert from 'node:assert/strict';
import { Cluster } from 'ioredis';
import { parseRedisUrl } from '../config/parsers';
import { connectRedis, redisClientOptions } from '../src/queue/redis';
import { queuePrefix } from '../src/queue/ingestQueue';
import { deliveryListKey } from '../src/queue/deliveryOutbox';

describe('REDIS_URL: one Redis, Sentinel or Cluster', () => {
  it('reads redis:// and rediss:// as they are, and hides passwords in display', () => {
    assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6379/2'), { mode: 'standalone', url: 'redis://127.0.0.1:6379/2', display: 'redis://127.0.0.1:6379/2' });
    assert.equal(parseRedisUrl('rediss://app:s3cret@cache:6380').display, 'rediss://app:***@cache:6380');
  });

  it('reads redis-sentinel:// with sentinels, master name, db, passwords and default port', () => {
    assert.deepEqual(parseRedisUrl('redis-sentinel://:pw%40x@s1:26380,s2,[::1]:26381/mymaster?db=3&sentinelPassword=sp'), {
      mode: 'sentinel',
      sentinels: [{ host: 's1', port: 26380 }, { host: 's2', port: 26379 }, { host: '::1', port: 26381 }],
      name: 'mymaster',
      db: 3,
      password: 'pw@x',
      sentinelPassword: 'sp',
      display: 'redis-sentinel://:***@s1:26380,s2,[::1]:26381/mymaster?db=3&sentinelPassword=***',
    });
    assert.deepEqual(parseRedisUrl('redis-sentinel://s1:26379/m'), { mode: 'sentinel', sentinels: [{ host: 's1', port: 26379 }], name: 'm', db: 0, display: 'redis-sentinel://s1:26379/m' });
  });

  it('reads redis-cluster:// with seed nodes, user and password', () => {
    assert.deepEqual(parseRedisUrl('redis-cluster://app:pw@n1:7000,n2:7001,n3'), {
      mode: 'cluster',
      nodes: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }, { host: 'n3', port: 6379 }],
      username: 'app',
      password: 'pw',
      display: 'redis-cluster://app:***@n1:7000,n2:7001,n3',
    });
  });

  it('refuses malformed forms with a message that says what is wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['http://x', /must be a redis:\/\/, rediss:\/\/, redis-sentinel:/],
      ['redis-sentinel://s1:26379', /needs the master name as its path/],
      ['redis-sentinel://s1:26379/', /needs the master name/],
      ['redis-sentinel://s1:26379/m?db=x', /db must be a whole number, got "x"/],
      ['redis-sentinel://s1:26379/m?tls=1', /option "tls" is unknown/],
      ['redis-sentinel://s1:99999/m', /port of "s1:99999" must be between 1 and 65535/],
      ['redis-cluster://n1:7000,,n2:7001', /host "" is not HOST or HOST:PORT/],
      ['redis-cluster://n1:7000/1', /takes no path \(a cluster has only db 0\)/],
      ['redis-cluster://n1:abc', /host "n1:abc" is not HOST or HOST:PORT/],
      ['redis-cluster://', /host "" is not HOST or HOST:PORT/],
    ];
    for (const [raw, message] of cases) assert.throws(() => parseRedisUrl(raw), message, raw);
    assert.doesNotMatch((() => { try { parseRedisUrl('http://u:topsecret@x'); } catch (error) { return (error as Error).message; } return ''; })(), /topsecret/);
  });

  it('builds a Sentinel client and a Cluster client with the role options', async () => {
    const sentinel = redisClientOptions(parseRedisUrl('redis-sentinel://:pw@s1:26380/mymaster?db=1'), 'producer');
    assert.equal(sentinel.kind, 'redis');
    assert.deepEqual(sentinel.kind === 'redis' && [sentinel.options.sentinels, sentinel.options.name, sentinel.options.db, sentinel.options.password, sentinel.options.enableOfflineQueue], [
      [{ host: 's1', port: 26380 }], 'mymaster', 1, 'pw', false,
    ]);
    const cluster = redisClientOptions(parseRedisUrl('redis-cluster://:pw@n1:7000,n2:7001'), 'worker');
    assert.equal(cluster.kind, 'cluster');
    if (cluster.kind !== 'cluster') return;
    assert.deepEqual(cluster.nodes, [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }]);
    // BullMQ's blocking worker connection needs maxRetriesPerRequest null on each node.
    assert.equal(cluster.options?.redisOptions?.maxRetriesPerRequest, null);
    assert.equal(cluster.options?.redisOptions?.password, 'pw');
    const client = connectRedis(parseRedisUrl('redis-cluster://127.0.0.1:1'), 'producer');
    assert.ok(client instanceof Cluster);
    client.disconnect();
  });

  it('every Redis key activityd writes carries the {QUEUE_PREFIX} hash tag, so a cluster keeps them on one slot', () => {
    const prefix = queuePrefix({ QUEUE_PREFIX: 'activityd' });
    assert.equal(prefix, '{activityd}');
    assert.equal(deliveryListKey(prefix), '{activityd}:deliveries');
  });
});
