/**
 * Amplitude's user-property operations: its documented examples, and property-based tests (fast-check) against an
 * independent model written as Amplitude's docs describe each operation, plus laws any implementation must keep.
 */
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { applyUpdate, MAX_PROPERTIES_BYTES, MAX_PROPERTY_VALUE_CHARACTERS, Properties } from '../src/identity/propertyOperations';
import type { PropertyStamps } from '../src/store/properties';

const apply = (current: Properties, update: Properties) => {
  const result = applyUpdate(current, update);
  assert.equal(result.refused, undefined, result.refused);
  return result.properties;
};

describe('property operations: Amplitude\'s documented behaviour', () => {
  it('plain keys and $set overwrite; $setOnce only sets what is not set', () => {
    assert.deepEqual(apply({ plan: 'free', first: 'a' }, { plan: 'pro', $set: { role: 'admin' }, $setOnce: { first: 'b', referrer: 'ads' } }), { plan: 'pro', first: 'a', role: 'admin', referrer: 'ads' });
  });

  it('$add increments, from 0 when unset, takes numbers written as text, and skips a property that is not a number', () => {
    assert.deepEqual(apply({ karma: 2 }, { $add: { karma: 1, friends: '3', debt: -2 } }), { karma: 3, friends: 3, debt: -2 });
    const result = applyUpdate({ plan: 'pro' }, { $add: { plan: 1, karma: 'lots' } }, 'user_properties.');
    assert.deepEqual(result.properties, { plan: 'pro' });
    assert.deepEqual(result.skipped, ['user_properties.$add.plan: the property is not a number, skipped', 'user_properties.$add.karma: not a number, skipped']);
  });

  it('$append starts an empty list, turns a scalar into a list, and appends each item of a list', () => {
    assert.deepEqual(apply({ tests: 'old' }, { $append: { tests: 'new-user-tests', some_list: [1, 2, 3, 4, 'values'] } }), { tests: ['old', 'new-user-tests'], some_list: [1, 2, 3, 4, 'values'] });
  });

  it('$prepend puts the values first, in their order', () => {
    assert.deepEqual(apply({ tests: ['c'] }, { $prepend: { tests: ['a', 'b'] } }), { tests: ['a', 'b', 'c'] });
  });

  it('$preInsert and $postInsert add only values the list does not hold yet', () => {
    assert.deepEqual(apply({ tags: ['b'] }, { $preInsert: { tags: ['a', 'b'] } }), { tags: ['a', 'b'] });
    assert.deepEqual(apply({ tags: ['b'] }, { $postInsert: { tags: ['b', 'c', 'c'] } }), { tags: ['b', 'c'] });
    assert.deepEqual(apply({}, { $postInsert: { tags: 'x' } }), { tags: ['x'] });
  });

  it('$remove takes every occurrence of the values out of a list, and does nothing to an unset property', () => {
    assert.deepEqual(apply({ tags: ['a', 'b', 'a', { k: 1 }] }, { $remove: { tags: ['a', { k: 1 }], none: 'x' } }), { tags: ['b'] });
  });

  it('$unset removes the property; $clearAll removes them all first, and the rest of the update applies after it', () => {
    assert.deepEqual(apply({ a: 1, b: 2 }, { $unset: { a: '-' } }), { b: 2 });
    assert.deepEqual(apply({ a: 1, b: 2 }, { $clearAll: '-', $set: { c: 3 } }), { c: 3 });
  });

  it('applies one update\'s operations in the SDKs\' order: $unset, $set, $setOnce, $add, $append, ... whatever order the keys were sent in', () => {
    assert.deepEqual(apply({ n: 1 }, { $add: { n: 2 }, $set: { n: 10 }, $unset: { n: '-' } }), { n: 12 });
    assert.deepEqual(apply({}, { $remove: { l: 'a' }, $append: { l: ['a', 'b'] }, $setOnce: { l: 'z' } }), { l: ['z', 'b'] });
  });

  it('skips an operation that is not an object, naming it', () => {
    const result = applyUpdate({ a: 1 }, { $set: 'plan', $add: [1] }, 'user_properties.');
    assert.deepEqual(result.properties, { a: 1 });
    assert.deepEqual(result.skipped, ['user_properties.$set: not an object of properties, skipped', 'user_properties.$add: not an object of properties, skipped']);
  });

  it('keeps keys like __proto__ and constructor as plain properties', () => {
    const result = apply({}, JSON.parse('{"__proto__": {"polluted": true}, "$set": {"constructor": 1}}') as Properties);
    assert.deepEqual(Object.keys(result), ['__proto__', 'constructor']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('refuses an update holding U+0000 or an unpaired surrogate, in a value or a name at any depth, naming it escaped', () => {
    const refusal = (update: Properties) => applyUpdate({ a: 1 }, update, 'user_properties.').refused;
    assert.equal(refusal({ note: 'x\u0000y' }), 'user_properties.note: holds U+0000 or an unpaired surrogate, which cannot be stored; the update was not applied');
    assert.equal(refusal({ 'n\u0000': 1 }), 'user_properties.n\\u0000: holds U+0000 or an unpaired surrogate, which cannot be stored; the update was not applied');
    assert.equal(refusal({ $append: { list: [{ 'k\ud800': 1 }] } }), 'user_properties.list[0].k\\ud800: holds U+0000 or an unpaired surrogate, which cannot be stored; the update was not applied');
    assert.equal(refusal({ emoji: '😀', $unset: { 'gone\u0000': '-' } }), undefined, 'a surrogate pair is a character; a name only unset is never stored');
  });

  it('refuses the whole update when a value would be over 1,024 characters, or the properties over 64 KiB, naming why', () => {
    const long = 'é'.repeat(MAX_PROPERTY_VALUE_CHARACTERS + 1);
    const tooLong = applyUpdate({ a: 1 }, { b: 2, $append: { notes: long } }, 'user_properties.');
    assert.deepEqual(tooLong.properties, { a: 1 });
    assert.equal(tooLong.refused, 'user_properties.notes[0]: a property value is at most 1024 characters; the update was not applied');
    assert.equal(applyUpdate({}, { a: 'é'.repeat(MAX_PROPERTY_VALUE_CHARACTERS) }).refused, undefined, 'exactly 1,024 characters is allowed');
    const many = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`p${i}`, 'x'.repeat(1000)]));
    const tooBig = applyUpdate({}, many, 'user_properties.');
    assert.deepEqual(tooBig.properties, {});
    assert.match(tooBig.refused ?? '', new RegExp(`^user_properties: the properties would be \\d+ bytes of JSON, over the limit of ${MAX_PROPERTIES_BYTES}`));
  });
});

// ---- An independent model: each operation as Amplitude's docs describe it, over an association list.
type Entries = Array<[string, unknown]>;
const ORDER = ['$clearAll', '$unset', '$set', '$setOnce', '$add', '$append', '$prepend', '$preInsert', '$postInsert', '$remove'];
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
const has = (list: unknown[], value: unknown) => list.some((item) => isDeepStrictEqual(item, value));

function modelApply(current: Properties, update: Properties): Properties {
  let entries: Entries = Object.entries(current);
  const get = (key: string) => entries.find(([name]) => name === key);
  const put = (key: string, value: unknown) => {
    const found = get(key);
    if (found) found[1] = value;
    else entries.push([key, value]);
  };
  const plain = Object.entries(update).filter(([key]) => !ORDER.includes(key));
  for (const operation of ORDER) {
    if (operation === '$set') for (const [key, value] of plain) put(key, value);
    const argument = update[operation];
    if (argument === undefined) continue;
    if (operation === '$clearAll') {
      entries = [];
      continue;
    }
    if (typeof argument !== 'object' || argument === null || Array.isArray(argument)) continue;
    for (const [key, value] of Object.entries(argument)) {
      const found = get(key);
      switch (operation) {
        case '$unset': entries = entries.filter(([name]) => name !== key); break;
        case '$set': put(key, value); break;
        case '$setOnce': if (!found) put(key, value); break;
        case '$add': {
          const base = found ? found[1] : 0;
          if (typeof value === 'number' && typeof base === 'number') put(key, base + value);
          break;
        }
        case '$append': put(key, [...(found ? asList(found[1]) : []), ...asList(value)]); break;
        case '$prepend': put(key, [...asList(value), ...(found ? asList(found[1]) : [])]); break;
        case '$preInsert':
        case '$postInsert': {
          let list = found ? asList(found[1]) : [];
          const fresh: unknown[] = [];
          for (const item of asList(value)) if (!has(list, item) && !has(fresh, item)) fresh.push(item);
          if (found && fresh.length === 0) break;
          list = operation === '$preInsert' ? [...fresh, ...list] : [...list, ...fresh];
          put(key, list);
          break;
        }
        case '$remove': if (found) put(key, asList(found[1]).filter((item) => !has(asList(value), item))); break;
      }
    }
  }
  return Object.fromEntries(entries);
}

const key = fc.constantFrom('plan', 'tags', 'n', 'role', 'x');
// Numbers the model adds without surprises: integers (no numeric strings, which only the implementation reads).
const value = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.constantFrom('a', 'b', 'pro'), fc.array(fc.constantFrom('a', 'b', 1), { maxLength: 3 }), fc.constant({ k: 1 }));
const properties = fc.dictionary(key, value, { maxKeys: 4, noNullPrototype: true });
const operationArgument = fc.dictionary(key, value, { maxKeys: 3, noNullPrototype: true });
const update = fc.record(
  {
    plan: value,
    $clearAll: fc.constant('-'),
    $unset: fc.dictionary(key, fc.constant('-'), { maxKeys: 2 }),
    $set: operationArgument,
    $setOnce: operationArgument,
    $add: fc.dictionary(key, fc.integer({ min: -50, max: 50 }), { maxKeys: 2 }),
    $append: operationArgument,
    $prepend: operationArgument,
    $preInsert: operationArgument,
    $postInsert: operationArgument,
    $remove: operationArgument,
  },
  { requiredKeys: [] },
);
// The key order a sender wrote must not matter: shuffle the update's keys.
const shuffledUpdate = fc.tuple(update, fc.integer()).map(([u, seed]) => Object.fromEntries(Object.entries(u).sort(([a], [b]) => ((a.charCodeAt(1) * seed) % 7) - ((b.charCodeAt(1) * seed) % 7))));

describe('property operations: against an independent model (fast-check)', () => {
  it('every update gives what the model gives', () => {
    fc.assert(fc.property(properties, shuffledUpdate, (current, u) => {
      assert.deepEqual(applyUpdate(current, u).properties, modelApply(current, u));
    }), { numRuns: 2000 });
  });

  it('a sequence of updates gives what the model gives, and never changes its input', () => {
    fc.assert(fc.property(properties, fc.array(update, { maxLength: 5 }), (start, updates) => {
      const frozen = structuredClone(start);
      let ours: Properties = start;
      let model: Properties = start;
      for (const u of updates) {
        ours = applyUpdate(ours, u).properties;
        model = modelApply(model, u);
      }
      assert.deepEqual(ours, model);
      assert.deepEqual(start, frozen);
    }), { numRuns: 500 });
  });

  it('laws: two $adds are one $add of their sum; $setOnce, $preInsert, $postInsert and $unset applied twice are applied once', () => {
    fc.assert(fc.property(properties, key, fc.integer({ min: -100, max: 100 }), fc.integer({ min: -100, max: 100 }), (current, k, a, b) => {
      const numeric = { ...current, [k]: typeof current[k] === 'number' ? current[k] : 0 };
      assert.deepEqual(apply(apply(numeric, { $add: { [k]: a } }), { $add: { [k]: b } }), apply(numeric, { $add: { [k]: a + b } }));
    }));
    fc.assert(fc.property(properties, fc.constantFrom('$setOnce', '$preInsert', '$postInsert', '$unset'), operationArgument, (current, operation, argument) => {
      const once = apply(current, { [operation]: argument });
      assert.deepEqual(apply(once, { [operation]: argument }), once);
    }));
  });
});

describe('property operations: assignments under arrival stamps', () => {
  const stamp = (n: number) => `s${String(n).padStart(3, '0')}`;
  const applyStamped = (start: Properties, updates: Array<[number, Properties]>) => {
    let state = { properties: start, stamps: { keys: {} } as PropertyStamps };
    for (const [n, u] of updates) {
      const result = applyUpdate(state.properties, u, '', { stamp: stamp(n), stamps: state.stamps });
      state = { properties: result.properties, stamps: result.stamps };
    }
    return state.properties;
  };
  const assignment = fc.record({ $set: fc.dictionary(key, value, { maxKeys: 3 }), $unset: fc.dictionary(key, fc.constant('-'), { maxKeys: 2 }), $clearAll: fc.constant('-') }, { requiredKeys: [] });

  it('$set, plain keys, $unset and $clearAll applied in any order end as applied in arrival order: the last received assignment of each key wins', () => {
    fc.assert(fc.property(properties, fc.array(assignment, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 6 }), (start, updates, shuffle) => {
      const received = updates.map((u, n): [number, Properties] => [n, u]);
      const applied = [...received];
      shuffle.forEach((to, from) => {
        if (from >= applied.length) return;
        const at = to % applied.length;
        [applied[from], applied[at]] = [applied[at], applied[from]];
      });
      assert.deepEqual(applyStamped(start, applied), applyStamped(start, received));
    }), { numRuns: 1000 });
  });

  it('an older $set, $unset, $setOnce or $clearAll than a key\'s last assignment changes nothing; accumulating operations apply whatever their stamp', () => {
    assert.deepEqual(applyStamped({}, [[2, { $set: { plan: 'pro' } }], [1, { $set: { plan: 'free' } }]]), { plan: 'pro' });
    assert.deepEqual(applyStamped({ plan: 'free' }, [[2, { $unset: { plan: '-' } }], [1, { plan: 'trial', $setOnce: { plan: 'x' } }]]), {});
    assert.deepEqual(applyStamped({ plan: 'free', seats: 1 }, [[3, { $set: { plan: 'pro' } }], [2, { $clearAll: '-' }], [1, { $set: { seats: 9 } }]]), { plan: 'pro' });
    assert.deepEqual(applyStamped({}, [[2, { $clearAll: '-' }], [1, { $add: { logins: 1 }, $append: { seen: 'a' } }]]), { logins: 1, seen: ['a'] });
  });
});
