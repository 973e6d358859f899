import assert from 'node:assert/strict';
import { newTenant, InProcessDaemon } from '../support/daemon';
import { request } from '../support/http';
import { useDaemon } from '../support/fixtures';
import { countRows } from '../support/testEnv';
import { Db } from '../../src/store/db';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

describe('hostile bodies: bytes that are not UTF-8, and a byte-order mark', () => {
  let db: Db;
  let daemon: InProcessDaemon;
  let tenant: { id: number; token: string };

  useDaemon({ seed: async (db) => void (tenant = await newTenant(db, 'decoding')) }, (parts) => ({ db, daemon } = parts));

  /** {"externalId":"u<byte>","action":...}: the id holds one byte that no UTF-8 text has. */
  const withBadByte = (json: string, marker: string, byte: number) => {
    const [before, after] = json.split(marker);
    return Buffer.concat([Buffer.from(before), Buffer.from([byte]), Buffer.from(after)]);
  };

  it('a body that is not valid UTF-8 is refused with 400 naming the reason, on every ingest route; nothing is stored', async () => {
    const planhat = withBadByte(JSON.stringify({ externalId: 'u-#', action: 'latin1' }), '#', 0xe9);
    for (const path of [`/analytics/${tenant.token}`, `/analytics/bulk/${tenant.token}`]) {
      const body = path.includes('bulk') ? Buffer.concat([Buffer.from('['), planhat, Buffer.from(']')]) : planhat;
      const reply = await request(`${daemon.baseUrl}${path}`, { raw: body });
      assert.equal(reply.status, 400, `${path}: ${reply.text}`);
      // The bad byte follows '{"externalId":"u-' (18 bytes), and the bulk body's '['.
      assert.match(reply.body.error, new RegExp(`body is not valid UTF-8 \\(first bad byte at offset ${path.includes('bulk') ? 19 : 18}\\)`));
    }
    const httpApi = withBadByte(JSON.stringify({ api_key: tenant.token, events: [{ event_type: 'latin1', user_id: 'u-#' }] }), '#', 0xff);
    const reply = await request(`${daemon.baseUrl}/2/httpapi`, { raw: httpApi });
    assert.equal(reply.status, 400, reply.text);
    assert.equal(reply.body.error, 'Invalid JSON request body');
    assert.match(reply.body.detail, /not valid UTF-8/);
    assert.equal(await countRows(db, 'activities', { tenant_id: tenant.id, action: 'latin1' }), 0);
  });

  it('a valid body after a UTF-8 byte-order mark is read as if the mark were not there', async () => {
    const planhat = Buffer.concat([BOM, Buffer.from(JSON.stringify({ externalId: 'bom-user', action: 'bom' }))]);
    assert.equal((await request(`${daemon.baseUrl}/analytics/${tenant.token}`, { raw: planhat })).status, 202);
    const amplitude = Buffer.concat([BOM, Buffer.from(JSON.stringify({ api_key: tenant.token, events: [{ event_type: 'bom', user_id: 'bom-user' }] }))]);
    const reply = await request(`${daemon.baseUrl}/2/httpapi`, { raw: amplitude });
    assert.equal(reply.status, 200, reply.text);
    // Only one mark is skipped: a second is a character JSON does not allow there.
    const twice = Buffer.concat([BOM, BOM, Buffer.from('{"externalId":"bom-user","action":"bom"}')]);
    assert.equal((await request(`${daemon.baseUrl}/analytics/${tenant.token}`, { raw: twice })).status, 400);
  });
});
