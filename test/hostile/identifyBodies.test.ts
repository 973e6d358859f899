/**
 * Hostile bodies on Amplitude's Identify APIs (POST /identify, /groupidentify): each gets a clear 4xx naming what is
 * wrong, never a 500, and an unknown api_key at the head of a large form is refused before the rest is parsed.
 */
import assert from 'node:assert/strict';
import { useDaemon } from '../support/fixtures';
import { InProcessDaemon, newTenant } from '../support/daemon';
import { request } from '../support/http';
import { uploadWhileReading } from '../support/uploadWhileReading';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const MiB = 1024 * 1024;

describe('hostile: bodies on the Identify APIs', () => {
  let daemon: InProcessDaemon;
  let token: string;

  useDaemon({ worker: false, seed: async (db) => void (token = (await newTenant(db)).token) }, (parts) => ({ daemon } = parts));

  const form = (raw: string | Buffer, path = '/identify') => request(`${daemon.baseUrl}${path}`, { raw, headers: FORM });

  it('bad percent-encoding, escapes that are not UTF-8, raw bytes that are not UTF-8: 400 naming the field', async () => {
    for (const [raw, reason] of [
      [`api_key=${token}&identification=%7B%ZZ`, /form field "identification": bad percent-encoding/],
      [`api_key=${token}&identification=%C3%28`, /form field "identification": bad percent-encoding/],
      [`api_key=${token}&ident%G1=x`, /form field name "ident%G1": bad percent-encoding/],
      [Buffer.concat([Buffer.from(`api_key=${token}&identification=`), Buffer.from([0xff, 0xfe])]), /body is not valid UTF-8 \(first bad byte at offset/],
    ] as const) {
      const reply = await form(raw);
      assert.deepEqual([reply.status, reply.body?.error], [400, 'Invalid form body'], reply.text);
      assert.match(reply.body.detail, reason);
    }
  });

  it('a field given twice (api_key, identification) is refused, not one of them picked', async () => {
    for (const raw of [`api_key=${token}&api_key=other&identification={"user_id":"u"}`, `api_key=${token}&identification={"user_id":"a"}&identification={"user_id":"b"}`]) {
      const reply = await form(raw, '/groupidentify');
      assert.equal(reply.status, 400, reply.text);
      assert.match(reply.body.detail, /given more than once/);
    }
  });

  it('an identification nested deep, and one that is no object: 400 with the reason', async () => {
    const depth = 100000;
    const deep = await form(`api_key=${token}&identification={"user_id":"u","user_properties":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    assert.deepEqual([deep.status, deep.body.events_with_invalid_fields], [400, { identification: [0] }], deep.text);
    assert.match(deep.body.rejected[0].error, /^identification: is nested more than 64 levels deep/);
    const list = await form(`api_key=${token}&identification=[1,"x",null]`);
    assert.deepEqual([list.status, list.body.events_with_invalid_fields], [400, { identification: [0, 1, 2] }]);
  });

  it('a huge form field: 413 at the limit, not read to its end', async () => {
    const reply = await form(`api_key=${token}&identification=${'x'.repeat(2 * MiB)}`);
    assert.deepEqual([reply.status, reply.body.error], [413, 'Payload too large']);
    assert.match(reply.body.detail, /limit/);
  });

  it('an unknown api_key at the head of a 5 MB chunked form gets its 400 before the rest is read', async () => {
    const block = Buffer.from('x'.repeat(64 * 1024));
    function* chunked(): Generator<Buffer> {
      const parts = [Buffer.from('api_key=nope&identification='), ...Array.from({ length: 80 }, () => block)];
      for (const part of parts) yield Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]);
      yield Buffer.from('0\r\n\r\n');
    }
    const head = `POST /identify HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const reply = await uploadWhileReading(Number(new URL(daemon.baseUrl).port), head, chunked());
    assert.equal(reply.failure, undefined);
    assert.deepEqual([reply.status, reply.body], [400, { code: 400, error: 'Invalid API key' }]);
  });
});
