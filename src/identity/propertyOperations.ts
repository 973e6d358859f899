/**
 * Amplitude's user-property operations applied to a properties object (an end user's, or a company's from its group
 * properties). Pure: the worker loads the stored object, applies each event's update in arrival order, and stores
 * the result. An update is what Amplitude sends as user_properties (or one group's group_properties):
 *
 *   { plan: 'pro', $set: { role: 'admin' }, $add: { logins: 1 }, $unset: { trial: '-' }, ... }
 *
 * Plain keys are $set. Within one update the operations apply in the order Amplitude's SDKs apply them: $clearAll,
 * $unset, $set, $setOnce, $add, $append, $prepend, $preInsert, $postInsert, $remove.
 *
 * Updates can reach the database out of arrival order (several workers, or jobs of one worker committed in another
 * order), so with an arrival stamp the assignments ($set, plain keys, $unset, $setOnce, $clearAll) keep the stamp of
 * the last one per key (and of the last $clearAll): an assignment older than that changes nothing, and the last one
 * received wins whatever the order of applying. Accumulating operations ($add and the list ones) apply once each,
 * in the order they are applied.
 */
import { isDeepStrictEqual } from 'node:util';
import { longerThan } from '../characterCount';
import type { PropertyStamps } from '../store/properties';

export const OPERATIONS = ['$clearAll', '$unset', '$set', '$setOnce', '$add', '$append', '$prepend', '$preInsert', '$postInsert', '$remove'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** A property value holds at most this many characters (each string in it, in a list or object too). */
export const MAX_PROPERTY_VALUE_CHARACTERS = 1024;
/** An end user's or company's properties are at most this many bytes as JSON. */
export const MAX_PROPERTIES_BYTES = 64 * 1024;

export type Properties = Record<string, unknown>;

export interface UpdateResult {
  /** The properties after the update; the ones before when it was refused. */
  properties: Properties;
  /** The stamps after the update (the ones given when it was refused); empty without a stamp. */
  stamps: PropertyStamps;
  /** Why the whole update was refused (a limit): nothing of it applied. */
  refused?: string;
  /** Operations skipped as Amplitude skips them (an $add to a text, an operation that is not an object), each named. */
  skipped: string[];
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isOperation = (key: string): key is Operation => (OPERATIONS as readonly string[]).includes(key);

/** A number, or a decimal written as text (Amplitude's SDKs allow "123" for $add); otherwise undefined. */
function numeric(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?([eE][+-]?\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

/** A value as the list operations see it: a list is its items, anything else one item. */
const items = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
const includes = (list: unknown[], value: unknown) => list.some((item) => isDeepStrictEqual(item, value));

/** The values not yet in `list`, each once, in their order. */
function absentFrom(list: unknown[], values: unknown[]): unknown[] {
  const added: unknown[] = [];
  for (const value of values) if (!includes(list, value) && !includes(added, value)) added.push(value);
  return added;
}

/** The update as (operation, key, value) steps in the order they apply; plain keys (and unknown $ keys) are $set before the update's own $set. */
function stepsOf(update: Properties, prefix: string, skipped: string[]): Array<[Operation, string, unknown]> {
  const steps: Array<[Operation, string, unknown]> = [];
  for (const operation of OPERATIONS) {
    if (operation === '$set') for (const [key, value] of Object.entries(update)) if (!isOperation(key)) steps.push(['$set', key, value]);
    if (!Object.hasOwn(update, operation)) continue;
    const value = update[operation];
    // $clearAll's value is a placeholder ("-" from the SDKs): its presence clears.
    if (operation === '$clearAll') steps.push([operation, '', value]);
    else if (!isObject(value)) skipped.push(`${prefix}${operation}: not an object of properties, skipped`);
    else for (const [key, item] of Object.entries(value)) steps.push([operation, key, item]);
  }
  return steps;
}

const ASSIGNMENTS: readonly Operation[] = ['$clearAll', '$unset', '$set', '$setOnce'];

/** The stamps an update is applied under, if it has one: assignments older than the key's last one are skipped. */
class Stamping {
  readonly keys: Map<string, string>;
  cleared?: string;
  constructor(
    given: PropertyStamps,
    readonly stamp: string | undefined,
  ) {
    this.keys = new Map(Object.entries(given.keys));
    this.cleared = given.cleared;
  }

  /** Whether this operation is an assignment that a later-received one already decided. */
  stale(operation: Operation, key: string): boolean {
    if (this.stamp === undefined || !ASSIGNMENTS.includes(operation)) return false;
    const assigned = operation === '$clearAll' ? undefined : this.keys.get(key);
    return [assigned, this.cleared].some((last) => last !== undefined && (this.stamp as string) < last);
  }

  /** Whether a $clearAll applied now leaves this key: it was assigned after the $clearAll was received. */
  spares(key: string): boolean {
    const last = this.keys.get(key);
    return this.stamp !== undefined && last !== undefined && last > this.stamp;
  }

  /** After an assignment applied: its stamp kept; a $clearAll's replaces the stamps it covers. */
  assigned(operation: Operation, key: string): void {
    if (this.stamp === undefined || !ASSIGNMENTS.includes(operation)) return;
    if (operation !== '$clearAll') {
      this.keys.set(key, this.stamp);
      return;
    }
    this.cleared = this.stamp;
    for (const [name, stamp] of this.keys) if (stamp <= this.stamp) this.keys.delete(name);
  }

  result(): PropertyStamps {
    return { keys: Object.fromEntries(this.keys), ...(this.cleared !== undefined && { cleared: this.cleared }) };
  }
}

function applyOne(properties: Map<string, unknown>, operation: Operation, key: string, value: unknown, skip: (reason: string) => void, spares: (key: string) => boolean): void {
  const current = properties.get(key);
  const has = properties.has(key);
  switch (operation) {
    case '$clearAll':
      for (const name of [...properties.keys()]) if (!spares(name)) properties.delete(name);
      return;
    case '$unset':
      properties.delete(key);
      return;
    case '$set':
      properties.set(key, value);
      return;
    case '$setOnce':
      if (!has) properties.set(key, value);
      return;
    case '$add': {
      const amount = numeric(value);
      const base = has ? numeric(current) : 0;
      if (amount === undefined) return skip('not a number, skipped');
      if (base === undefined) return skip('the property is not a number, skipped');
      if (!Number.isFinite(base + amount)) return skip('the sum is not a finite number, skipped');
      properties.set(key, base + amount);
      return;
    }
    case '$append':
      properties.set(key, [...(has ? items(current) : []), ...items(value)]);
      return;
    case '$prepend':
      properties.set(key, [...items(value), ...(has ? items(current) : [])]);
      return;
    case '$preInsert':
    case '$postInsert': {
      const list = has ? items(current) : [];
      const added = absentFrom(list, items(value));
      if (added.length === 0 && has) return;
      properties.set(key, operation === '$preInsert' ? [...added, ...list] : [...list, ...added]);
      return;
    }
    case '$remove':
      if (has) properties.set(key, items(current).filter((item) => !includes(items(value), item)));
      return;
  }
}

/** With the u flag a surrogate pair is one code point, so this matches only a lone (unpaired) surrogate. */
const UNSTORABLE = /\u0000|[\ud800-\udfff]/u;

/**
 * A property name as notes show it: JSON-escaped (a U+0000 in a name must not reach the delivery log's text column,
 * which PostgreSQL refuses it in) and cut to 100 characters.
 */
const shown = (key: string) => JSON.stringify(key.slice(0, 100)).slice(1, -1);

/** Why a string cannot be a property value or name, if it cannot. */
function textProblem(text: string, limit: boolean): string | undefined {
  if (limit && longerThan(text, MAX_PROPERTY_VALUE_CHARACTERS)) return `a property value is at most ${MAX_PROPERTY_VALUE_CHARACTERS} characters`;
  // PostgreSQL's jsonb takes neither; refused on SQLite too, so both databases keep the same properties.
  if (UNSTORABLE.test(text)) return 'holds U+0000 or an unpaired surrogate, which cannot be stored';
  return undefined;
}

/** The first string in the value (or name of an object in it) that cannot be stored, as a path below `path` and a reason. */
function valueProblem(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') {
    const problem = textProblem(value, true);
    return problem && `${path}: ${problem}`;
  }
  const entries: Array<[string, unknown, string | undefined]> = Array.isArray(value)
    ? value.map((item, index) => [`[${index}]`, item, undefined])
    : isObject(value) ? Object.entries(value).map(([key, item]) => [`.${shown(key)}`, item, textProblem(key, false)]) : [];
  for (const [step, item, nameProblem] of entries) {
    const found = nameProblem === undefined ? valueProblem(item, `${path}${step}`) : `${path}${step}: ${nameProblem}`;
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Applies one update. `prefix` names where it came from in skip notes and refusals ("user_properties."). A result
 * over a limit refuses the whole update: the properties stay as they were, and `refused` says why. With `arrival`
 * (the update's stamp and the stored stamps), an assignment older than the key's last one changes nothing.
 */
export function applyUpdate(current: Properties, update: Properties, prefix = '', arrival?: { stamp: string; stamps: PropertyStamps }): UpdateResult {
  const skipped: string[] = [];
  const properties = new Map(Object.entries(current));
  const stamping = new Stamping(arrival?.stamps ?? { keys: {} }, arrival?.stamp);
  const changed = new Set<string>();
  for (const [operation, key, value] of stepsOf(update, prefix, skipped)) {
    if (stamping.stale(operation, key)) continue;
    applyOne(properties, operation, key, value, (reason) => skipped.push(`${prefix}${operation}.${shown(key)}: ${reason}`), (name) => stamping.spares(name));
    stamping.assigned(operation, key);
    if (operation !== '$clearAll') changed.add(key);
  }
  const given = arrival?.stamps ?? { keys: {} };
  // fromEntries makes own properties: a key like "__proto__" stays a property, not the object's prototype.
  const next = Object.fromEntries(properties);
  for (const key of changed) {
    if (!properties.has(key)) continue;
    const problem = textProblem(key, false);
    const refusal = problem === undefined ? valueProblem(properties.get(key), shown(key)) : `${shown(key)}: ${problem}`;
    if (refusal !== undefined) return { properties: current, stamps: given, skipped, refused: `${prefix}${refusal}; the update was not applied` };
  }
  const bytes = Buffer.byteLength(JSON.stringify(next));
  if (bytes > MAX_PROPERTIES_BYTES) {
    return { properties: current, stamps: given, skipped, refused: `${prefix.replace(/\.$/, '') || 'properties'}: the properties would be ${bytes} bytes of JSON, over the limit of ${MAX_PROPERTIES_BYTES}; the update was not applied` };
  }
  return { properties: next, stamps: stamping.result(), skipped };
}
