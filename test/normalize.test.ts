import assert from 'node:assert/strict';
import { normalizeBody, BodyError } from '../src/normalize/normalizeBody';
import { parseDate, parseEmail, parseInsertId, parseNumber } from '../src/normalize/fields';
import { characterCount } from '../src/characterCount';
import { DEFAULT_SETTINGS } from '../src/tenants/settings';
import { newSequencedId, newTimeOrderedId } from '../src/timeOrderedIds';

const receivedAt = Date.UTC(2026, 10, 29, 12, 0, 0);
const options = (overrides: Partial<Parameters<typeof normalizeBody>[1]> = {}) => ({ bulk: false, maxEventBytes: 1024 * 1024, receivedAt, bodyBytes: 100, ...overrides });

describe('normalize: Planhat activities', () => {
  it('maps every Planhat field and applies the defaults', () => {
    const { events, rejected } = normalizeBody(
      [
        { externalId: 'u1', email: ' Ann@Example.COM ', name: 'Ann', companyExternalId: 'acme', action: 'login', date: '2024-05-01T10:00:00Z', count: 3, weight: 2.5, info: { plan: 'pro' }, insertId: 'ins-1' },
        { email: 'bob@example.com', action: 'logout' },
      ],
      options(),
    );
    assert.deepEqual(rejected, []);
    assert.deepEqual(events[0], {
      externalId: 'u1', email: 'ann@example.com', name: 'Ann', companyExternalId: 'acme', action: 'login',
      date: Date.UTC(2024, 4, 1, 10), count: 3, weight: 2.5, info: { plan: 'pro' }, insertId: 'ins-1',
    });
    assert.equal(events[1].date, receivedAt, 'date defaults to the time received');
    assert.equal(events[1].count, 1);
    assert.equal(events[1].weight, 1);
    assert.match(events[1].insertId, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'an insertId (a UUIDv7) is made when none is given');
    assert.equal(parseInt(events[1].insertId.replace(/-/g, '').slice(0, 12), 16), receivedAt, 'its first 48 bits are the time received');
  });

  it('makes insert ids that sort by the time they were made, and differ within one millisecond', () => {
    const earlier = Array.from({ length: 1000 }, () => newTimeOrderedId(receivedAt));
    const later = newTimeOrderedId(receivedAt + 1);
    assert.equal(new Set(earlier).size, 1000);
    for (const id of earlier) assert.ok(id < later, `${id} sorts before ${later}`);
  });

  it('makes delivery ids that sort in the order they were made, within one millisecond too, and by time across milliseconds', () => {
    const made = Array.from({ length: 5000 }, () => newSequencedId(receivedAt + 10));
    assert.deepEqual([...made].sort(), made);
    assert.equal(new Set(made).size, 5000);
    assert.ok(newSequencedId(receivedAt) > made[4999], 'a clock that goes back keeps the order');
    assert.ok(newSequencedId(receivedAt + 1000) > made[4999]);
  });

  it('accepts epoch milliseconds and numeric ids', () => {
    const { events } = normalizeBody({ externalId: 42, action: 'x', date: 1700000000123 }, options());
    assert.equal(events[0].externalId, '42');
    assert.equal(events[0].date, 1700000000123);
  });

  it('takes the bulk short names id and cId only on the bulk endpoint', () => {
    const bulk = normalizeBody([{ id: 'u9', cId: 'c9', action: 'x' }], options({ bulk: true }));
    assert.equal(bulk.events[0].externalId, 'u9');
    assert.equal(bulk.events[0].companyExternalId, 'c9');
    const single = normalizeBody([{ id: 'u9', cId: 'c9', action: 'x' }], options());
    assert.deepEqual(single.rejected, [{ index: 0, error: 'externalId: missing: an event needs externalId or email' }]);
  });

  it('keeps unknown top-level fields in info instead of dropping them', () => {
    const { events } = normalizeBody({ externalId: 'u1', action: 'x', plan: 'pro', info: { seats: 3 } }, options());
    assert.deepEqual(events[0].info, { plan: 'pro', seats: 3 });
  });

  it('refuses each bad field with its name and the reason', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ action: 'x' }, 'externalId: missing: an event needs externalId or email'],
      [{ externalId: 'u1' }, 'action: missing: must be a non-empty string'],
      [{ externalId: 'u1', action: '' }, 'action: missing: must be a non-empty string'],
      [{ externalId: 'u1', action: 7 }, 'action: must be a string, got a number'],
      [{ externalId: { a: 1 }, action: 'x' }, 'externalId: must be a string or a number, got an object'],
      [{ externalId: 'u1', email: 'not-an-email', action: 'x' }, 'email: "not-an-email" is not an email address'],
      [{ externalId: 'u1', action: 'x', date: 'yesterday' }, 'date: "yesterday" is not a valid date'],
      [{ externalId: 'u1', action: 'x', date: '2022-02-30 10:00:00' }, 'date: "2022-02-30 10:00:00" is not a valid date'],
      [{ externalId: 'u1', action: 'x', date: true }, 'date: must be a date string or epoch milliseconds, got a boolean'],
      [{ externalId: 'u1', action: 'x', count: 'many' }, 'count: "many" is not a number (a JSON number, or a decimal string such as "12", "-1.5" or "2e3")'],
      [{ externalId: 'u1', action: 'x', count: -1 }, 'count: must be between 0 and 1000000000000'],
      [{ externalId: 'u1', action: 'x', weight: [1] }, 'weight: must be a number, got an array'],
      [{ externalId: 'u1', action: 'x', info: 'text' }, 'info: must be an object, got a string'],
      [{ externalId: 'u\u0000', action: 'x' }, 'externalId: must not contain control characters'],
      [{ externalId: 'u'.repeat(256), action: 'x' }, 'externalId: must be at most 255 characters, got 256'],
    ];
    for (const [event, error] of cases) {
      const result = normalizeBody([event], options());
      assert.deepEqual(result.rejected, [{ index: 0, error }], JSON.stringify(event));
      assert.equal(result.events.length, 0);
    }
  });

  it('accepts the valid events of a mixed batch and reports the others by index', () => {
    const result = normalizeBody([{ externalId: 'a', action: 'x' }, 'text', { externalId: 'b' }, { email: 'c@d.io', action: 'y' }], options());
    assert.deepEqual(result.events.map((event) => event.action), ['x', 'y']);
    assert.deepEqual(result.rejected, [
      { index: 1, error: 'event: must be an object, got a string' },
      { index: 2, error: 'action: missing: must be a non-empty string' },
    ]);
  });

  it('refuses an event over MAX_EVENT_BYTES and marks it oversized', () => {
    const big = { externalId: 'u1', action: 'x', info: { blob: 'y'.repeat(600) } };
    const result = normalizeBody([big, { externalId: 'u2', action: 'x' }], options({ maxEventBytes: 500, bodyBytes: 700 }));
    assert.deepEqual(result.oversized, [0]);
    assert.match(result.rejected[0].error, /^event: is \d+ bytes, over the 500-byte limit \(MAX_EVENT_BYTES\)$/);
    assert.equal(result.events.length, 1);
  });

  it('refuses bodies that hold no events', () => {
    assert.throws(() => normalizeBody([], options()), BodyError);
    assert.throws(() => normalizeBody('text', options()), /body must be a JSON object or an array of objects, got a string/);
    assert.throws(() => normalizeBody({ externalId: 'u', action: 'x' }, options({ bulk: true })), /body must be a JSON array of events, got an object/);
  });

  it('keeps __proto__ and constructor keys as plain data', () => {
    const parsed = JSON.parse('{"externalId":"u1","action":"x","__proto__":{"polluted":true},"info":{"constructor":{"prototype":{"bad":1}}}}');
    const { events } = normalizeBody(parsed, options());
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(events[0].info), Object.prototype);
    assert.equal(JSON.stringify(events[0].info), '{"__proto__":{"polluted":true},"constructor":{"prototype":{"bad":1}}}');
  });
});

describe('normalize: Amplitude events', () => {
  const amplitude = {
    event_type: 'Song Played',
    user_id: 'amp-user-1',
    device_id: 'dev-1',
    event_time: '2022-02-28 20:07:01.795',
    insert_id: 'amp-insert-1',
    event_properties: { song: 'x' },
    user_properties: { email: 'Amp@Example.com', name: 'Amp User', plan: 'free' },
    groups: { company: 'acme' },
    group_properties: { company: { name: 'Acme' } },
    platform: 'Web',
  };

  it('maps user_id, event_type, event_time, insert_id and user_properties.email, and keeps the rest in info', () => {
    const { events, rejected } = normalizeBody(amplitude, options());
    assert.deepEqual(rejected, []);
    const event = events[0];
    assert.equal(event.externalId, 'amp-user-1');
    assert.equal(event.action, 'Song Played');
    assert.equal(event.date, Date.UTC(2022, 1, 28, 20, 7, 1, 795), 'event_time without a zone is UTC');
    assert.equal(event.insertId, 'amp-insert-1');
    assert.equal(event.email, 'amp@example.com');
    assert.equal(event.name, 'Amp User');
    assert.deepEqual(event.info, {
      device_id: 'dev-1',
      event_properties: { song: 'x' },
      user_properties: { email: 'Amp@Example.com', name: 'Amp User', plan: 'free' },
      groups: { company: 'acme' },
      group_properties: { company: { name: 'Acme' } },
      platform: 'Web',
    });
  });

  it('uses time (epoch ms) and $insert_id when event_time and insert_id are absent', () => {
    const { events } = normalizeBody({ event_type: 'x', user_id: 'u', time: 1646078821795, $insert_id: 'dollar-id' }, options());
    assert.equal(events[0].date, 1646078821795);
    assert.equal(events[0].insertId, 'dollar-id');
  });

  it('lets top-level externalId, email and companyExternalId win', () => {
    const { events } = normalizeBody({ ...amplitude, externalId: 'mine', email: 'top@example.com', companyExternalId: 'co' }, options());
    assert.equal(events[0].externalId, 'mine');
    assert.equal(events[0].email, 'top@example.com');
    assert.equal(events[0].companyExternalId, 'co');
  });

  it('names Amplitude fields in its refusals', () => {
    const missing = normalizeBody({ event_type: 'x', device_id: 'd' }, options());
    assert.deepEqual(missing.rejected, [{ index: 0, error: 'user_id: missing: an event needs user_id or email (device-only events need the tenant setting allowDeviceOnlyEvents=true)' }]);
    const badTime = normalizeBody({ event_type: 'x', user_id: 'u', event_time: 'soon' }, options());
    assert.deepEqual(badTime.rejected, [{ index: 0, error: 'event_time: "soon" is not a valid date' }]);
    const badType = normalizeBody({ event_type: '', user_id: 'u' }, options());
    assert.deepEqual(badType.rejected, [{ index: 0, error: 'event_type: missing: must be a non-empty string' }]);
    const badEmail = normalizeBody({ event_type: 'x', user_properties: { email: 'nope' } }, options());
    assert.deepEqual(badEmail.rejected, [{ index: 0, error: 'user_properties.email: "nope" is not an email address' }]);
  });
});

describe('normalize: user and company properties', () => {
  it('carries user_properties as sent, operations included, and the company group\'s group_properties', () => {
    const userProperties = { email: 'a@b.example', plan: 'pro', $add: { logins: 1 }, $setOnce: { first_seen: '2026-01-01' } };
    const { events } = normalizeBody({ event_type: 'x', user_id: 'u', user_properties: userProperties, groups: { company: 'acme' }, group_properties: { company: { tier: 'gold' }, team: { size: 3 } } }, options());
    assert.deepEqual(events[0].userProperties, userProperties);
    assert.deepEqual(events[0].companyProperties, { tier: 'gold' });
    assert.deepEqual(events[0].info.user_properties, userProperties, 'the properties also stay in info');
  });

  it('reads a company group\'s properties kept under its group value', () => {
    const { events } = normalizeBody({ event_type: 'x', user_id: 'u', groups: { company: ['acme', 'other'] }, group_properties: { company: { acme: { tier: 'gold' } } } }, options());
    assert.deepEqual(events[0].companyProperties, { tier: 'gold' });
  });

  it('carries no company properties without a company, and none from another group type', () => {
    const { events } = normalizeBody({ event_type: 'x', user_id: 'u', groups: { team: 't' }, group_properties: { team: { size: 3 } } }, options());
    assert.equal(events[0].companyProperties, undefined);
    assert.equal(events[0].userProperties, undefined);
  });

  it('refuses an Amplitude event (on the Planhat and webhook routes too) whose user_properties or group_properties is not an object, naming the field; null is absent', () => {
    const { events, rejected } = normalizeBody(
      [
        { event_type: 'x', user_id: 'u', user_properties: 'plan=pro' },
        { event_type: '$groupidentify', groups: { company: 'c' }, group_properties: 5 },
        { event_type: 'x', user_id: 'u', groups: { company: 'c' }, group_properties: { company: ['c'] } },
        { event_type: 'x', user_id: 'u', user_properties: null, group_properties: null },
      ],
      options(),
    );
    assert.deepEqual(rejected, [
      { index: 0, error: 'user_properties: must be an object, got a string' },
      { index: 1, error: 'group_properties: must be an object, got a number' },
      { index: 2, error: 'group_properties.company: must be an object, got an array' },
    ]);
    assert.deepEqual([events.length, events[0].userProperties], [1, undefined]);
  });

  it('applies a user payload\'s user_properties (user forwarding) to its end user', () => {
    const { events } = normalizeBody({ user_id: 'u', user_properties: { $set: { plan: 'pro' } } }, options());
    assert.equal(events[0].kind, 'identify');
    assert.deepEqual(events[0].userProperties, { $set: { plan: 'pro' } });
  });

  it('reads a $groupidentify event as the SDKs send it: the company of the group, its operations, no person needed', () => {
    const raw = { event_type: '$groupidentify', device_id: 'd-1', groups: { company: 'acme' }, group_properties: { $set: { name: 'Acme Inc', tier: 'gold' }, $add: { seats: 2 } }, insert_id: 'g-1' };
    const { events, rejected } = normalizeBody(raw, options());
    assert.deepEqual(rejected, []);
    const [event] = events;
    assert.equal(event.kind, 'groupidentify');
    assert.equal(event.companyExternalId, 'acme');
    assert.equal(event.companyName, 'Acme Inc');
    assert.deepEqual(event.companyProperties, { $set: { name: 'Acme Inc', tier: 'gold' }, $add: { seats: 2 } });
    assert.equal(event.externalId, undefined);
    assert.equal(event.userProperties, undefined);
    assert.equal(event.action, '$groupidentify');
  });

  it('takes a $groupidentify\'s group_properties for a company named by a top-level companyExternalId too', () => {
    const { events } = normalizeBody({ event_type: '$groupidentify', companyExternalId: 'acme', group_properties: { $set: { tier: 'gold' } } }, options());
    assert.equal(events[0].companyExternalId, 'acme');
    assert.deepEqual(events[0].companyProperties, { $set: { tier: 'gold' } });
  });

  it('accepts a $groupidentify of another group type, with no company to update', () => {
    const { events, rejected } = normalizeBody({ event_type: '$groupidentify', user_id: 'u', groups: { team: 't' }, group_properties: { $set: { size: 3 } } }, options());
    assert.deepEqual(rejected, []);
    assert.equal(events[0].kind, 'groupidentify');
    assert.equal(events[0].companyExternalId, undefined);
    assert.equal(events[0].companyProperties, undefined);
  });
});

describe('normalize: dates', () => {
  it('reads ISO 8601 with zones, Amplitude times and epoch ms strings', () => {
    assert.equal(parseDate('d', '2024-01-02T03:04:05+02:00'), Date.UTC(2024, 0, 2, 1, 4, 5));
    assert.equal(parseDate('d', '2024-01-02T03:04:05.5Z'), Date.UTC(2024, 0, 2, 3, 4, 5, 500));
    assert.equal(parseDate('d', '2024-01-02'), Date.UTC(2024, 0, 2));
    assert.equal(parseDate('d', '1700000000000'), 1700000000000);
    assert.equal(parseDate('d', undefined), undefined);
  });

  it('refuses dates out of range', () => {
    assert.throws(() => parseDate('date', -5), /date: must be between 1970-01-01 and 9999-12-31/);
    assert.throws(() => parseDate('date', 1e20), /date: must be between/);
    assert.throws(() => parseDate('date', '2024-13-01'), /date: "2024-13-01" is not a valid date/);
    assert.throws(() => parseDate('date', '2024-01-01T25:00:00Z'), /not a valid date/);
  });
});

describe('normalize: numbers, emails, lengths, insert ids and colliding fields', () => {
  const bounds = { min: -1e12, max: 1e12 };
  const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const insertIds = (raw: unknown) => {
    const result = normalizeBody(raw, options());
    return { ids: result.events.map((event) => event.insertId), rejected: result.rejected };
  };

  it('takes JSON numbers and decimal strings, and refuses hex, binary, octal, Infinity, empty and other forms naming the field', () => {
    for (const [text, value] of [['5', 5], [' 5 ', 5], ['-1.5', -1.5], ['2e3', 2000], ['1.5E-3', 0.0015], ['007', 7], ['0', 0]] as const) {
      assert.equal(parseNumber('weight', text, bounds), value, text);
    }
    assert.equal(parseNumber('weight', 12.5, bounds), 12.5);
    assert.equal(parseNumber('weight', null, bounds), undefined, 'null is absent');
    for (const text of ['0x10', '0b1', '0o7', 'Infinity', '-Infinity', 'NaN', '', '   ', '1_000', '1,5', '+5', '.5', '5.', '1e', '5 5', '\u0665']) {
      assert.throws(() => parseNumber('weight', text, bounds), / weight: ".*" is not a number/, JSON.stringify(text));
    }
  });

  it('refuses an email holding an invisible, format or space character, naming the field and the character', () => {
    for (const [email, codePoint] of [
      ['a\u200b@x.com', 'U+200B'], ['a\u200d@x.com', 'U+200D'], ['\u202eann@x.com', 'U+202E'], ['a\u2066b@x.com', 'U+2066'], ['a\u00adb@x.com', 'U+00AD'],
      ['a\u00a0b@x.com', 'U+00A0'], ['a\u3000b@x.com', 'U+3000'], ['a\u2060@x.com', 'U+2060'], ['a@x\u3164.com', 'U+3164'], ['a\ufe0f@x.com', 'U+FE0F'],
    ]) {
      assert.throws(() => parseEmail('user_properties.email', email), new RegExp(` user_properties\\.email: must not contain invisible, format or space characters \\(it holds ${codePoint.replace('+', '\\+')}\\)$`), email);
    }
    assert.equal(parseEmail('email', ' Ann.Müller@Bücher.DE '), 'ann.müller@bücher.de', 'trimmed and lower-cased; letters of any script pass');
    assert.equal(parseEmail('email', 'ann@x.com\ufeff'), 'ann@x.com', 'a byte-order mark at either end is surrounding whitespace, as for every id');
  });

  it('counts lengths in characters (code points): 255 emoji are an action, 256 are not', () => {
    assert.equal(characterCount('😀'.repeat(255)), 255);
    assert.equal(characterCount('a\ud800b'), 3, 'a lone surrogate counts once');
    const emoji = (n: number) => '😀'.repeat(n);
    const ok = normalizeBody({ externalId: emoji(255), action: emoji(255), name: emoji(1000), companyExternalId: emoji(255), insertId: emoji(255) }, options());
    assert.deepEqual(ok.rejected, []);
    assert.equal(ok.events[0].action, emoji(255));
    for (const [field, length, limit] of [['action', 256, 255], ['externalId', 256, 255], ['name', 1001, 1000], ['insertId', 256, 255], ['assetExternalId', 256, 255]] as const) {
      const event = { externalId: 'u', action: 'x', [field]: emoji(length) };
      assert.deepEqual(normalizeBody(event, options()).rejected, [{ index: 0, error: `${field}: must be at most ${limit} characters, got ${length}` }]);
    }
  });

  it('keeps insert ids byte for byte, refuses blank ones naming the field, and makes one only when absent or null', () => {
    const { ids, rejected } = insertIds([
      { externalId: 'u', action: 'x', insertId: 'dup-1' }, { externalId: 'u', action: 'x', insertId: ' dup-1' },
      { externalId: 'u', action: 'x', insertId: 'dup-1 ' }, { externalId: 'u', action: 'x', insertId: 'DUP-1' }, { externalId: 'u', action: 'x', insertId: 42 },
    ]);
    assert.deepEqual(rejected, []);
    assert.deepEqual(ids, ['dup-1', ' dup-1', 'dup-1 ', 'DUP-1', '42']);
    assert.equal(parseInsertId('insertId', '\u00a0x\u00a0'), '\u00a0x\u00a0');
    for (const [event, error] of [
      [{ externalId: 'u', action: 'x', insertId: '' }, 'insertId: must not be empty or only whitespace (leave it out, and the receiver makes one)'],
      [{ externalId: 'u', action: 'x', insertId: ' \u00a0 ' }, 'insertId: must not be empty or only whitespace (leave it out, and the receiver makes one)'],
      [{ event_type: 'x', user_id: 'u', insert_id: '' }, 'insert_id: must not be empty or only whitespace (leave it out, and the receiver makes one)'],
      [{ event_type: 'x', user_id: 'u', insert_id: '', $insert_id: 'other' }, 'insert_id: must not be empty or only whitespace (leave it out, and the receiver makes one)'],
      [{ event_type: 'x', user_id: 'u', $insert_id: '  ' }, '$insert_id: must not be empty or only whitespace (leave it out, and the receiver makes one)'],
      [{ externalId: 'u', action: 'x', insertId: 'dup-1\n' }, 'insertId: must not contain control characters'],
    ] as const) {
      assert.deepEqual(insertIds(event).rejected, [{ index: 0, error }], JSON.stringify(event));
    }
    const made = insertIds([{ externalId: 'u', action: 'x', insertId: null }, { event_type: 'x', user_id: 'u', insert_id: null, $insert_id: ' kept ' }, { event_type: 'x', user_id: 'u' }]);
    assert.match(made.ids[0], UUID_V7);
    assert.equal(made.ids[1], ' kept ', 'a null insert_id gives way to $insert_id');
    assert.match(made.ids[2], UUID_V7);
  });

  it('trims other ids (case kept, blank is absent) and trims and lower-cases emails', () => {
    const blankDate = normalizeBody([{ externalId: 'u', action: 'x', date: '  ' }, { event_type: 'x', user_id: 'u', event_time: ' ', time: 1700000000000 }], options());
    assert.deepEqual(blankDate.events.map((event) => event.date), [receivedAt, 1700000000000], 'a blank date is absent, as every blank value');
    const { events } = normalizeBody([
      { externalId: ' U-1\t', email: ' Ann@X.COM ', companyExternalId: ' Acme ', assetExternalId: ' A ', projectExternalId: ' P ', action: 'x' },
      { event_type: 'x', user_id: '  ', device_id: 'd', email: 'b@x.com', groups: { company: ' G ' } },
    ], options());
    assert.deepEqual(
      [events[0].externalId, events[0].email, events[0].companyExternalId, events[0].assetExternalId, events[0].projectExternalId],
      ['U-1', 'ann@x.com', 'Acme', 'A', 'P'],
    );
    assert.equal(events[1].externalId, undefined, 'a blank user_id is absent (and device_id does not stand in without allowDeviceOnlyEvents)');
    assert.equal(events[1].companyExternalId, 'G');
    const devices = normalizeBody([
      { event_type: 'x', user_id: ' \t ', device_id: ' d-1 ' },
      { event_type: 'x', device_id: 'D-1' },
      { event_type: 'x', device_id: '   ' },
      { event_type: 'x', device_id: { id: 1 } },
    ], options({ settings: { ...DEFAULT_SETTINGS, allowDeviceOnlyEvents: true } }));
    assert.deepEqual(devices.events.map((event) => event.externalId), ['device:d-1', 'device:D-1'], 'a blank user_id gives way to device_id, trimmed, case kept');
    assert.deepEqual(devices.rejected, [
      { index: 2, error: 'user_id: missing: an event needs user_id or email' },
      { index: 3, error: 'device_id: must be a string or a number, got an object' },
    ]);
  });

  it('refuses a Planhat event whose top-level field is also in info with another value, naming the field; an equal value is kept once', () => {
    assert.deepEqual(normalizeBody({ externalId: 'u', action: 'x', plan: 'top', info: { plan: 'inner' } }, options()).rejected, [
      { index: 0, error: 'plan: given at the top level and in info with different values; send it in one place (a top-level field is kept in info)' },
    ]);
    const same = normalizeBody({ externalId: 'u', action: 'x', plan: { tier: [1, 2] }, info: { plan: { tier: [1, 2] }, seats: 3 } }, options());
    assert.deepEqual(same.events[0].info, { plan: { tier: [1, 2] }, seats: 3 });
    const inherited = normalizeBody(JSON.parse('{"externalId":"u","action":"x","constructor":"top","toString":1,"info":{}}'), options());
    assert.deepEqual(inherited.events[0].info, { constructor: 'top', toString: 1 }, "a key info only inherits (Object.prototype's) is no collision");
  });
});
