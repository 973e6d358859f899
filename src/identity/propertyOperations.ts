/**
 * Amplitude's user-property operations applied to a properties object (an end user's, or a company's from its group
 * properties). Pure: the worker loads the stored object, applies each event's update in arrival order, and stores
 * the result. An update is what Amplitude sends as user_properties (or one group's group_properties):
 *
 *   { plan: 'pro', $set: { role: 'admin' }, $add: { logins: 1 }, $unset: { trial: '-' }, ... }
 *
 * Plain keys are $set. Within one update the operations apply in the order Amplitude's SDKs apply them: $clearAll,
 * $unset, $set, $setOnce, $add, $append, $prepend, $preInsert, $postInsert, $remove.
 */
import { isDeepStrictEqual } from 'node:util';
import { longerThan } from '../characterCount';

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

function applyOne(properties: Map<string, unknown>, operation: Operation, key: string, value: unknown, skip: (reason: string) => void): void {
  const current = properties.get(key);
  const has = properties.has(key);
  switch (operation) {
    case '$clearAll':
      properties.clear();
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

/** The first string in the value over the character limit, as a path below `key`. */
function tooLong(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return longerThan(value, MAX_PROPERTY_VALUE_CHARACTERS) ? path : undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = tooLong(item, `${path}[${index}]`);
      if (found !== undefined) return found;
    }
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      const found = tooLong(item, `${path}.${key}`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * Applies one update. `prefix` names where it came from in skip notes and refusals ("user_properties."). A result
 * over a limit refuses the whole update: the properties stay as they were, and `refused` says why.
 */
export function applyUpdate(current: Properties, update: Properties, prefix = ''): UpdateResult {
  const skipped: string[] = [];
  const properties = new Map(Object.entries(current));
  const changed = new Set<string>();
  for (const [operation, key, value] of stepsOf(update, prefix, skipped)) {
    applyOne(properties, operation, key, value, (reason) => skipped.push(`${prefix}${operation}.${key}: ${reason}`));
    if (operation !== '$clearAll') changed.add(key);
  }
  // fromEntries makes own properties: a key like "__proto__" stays a property, not the object's prototype.
  const next = Object.fromEntries(properties);
  for (const key of changed) {
    const path = properties.has(key) ? tooLong(properties.get(key), key) : undefined;
    if (path !== undefined) return { properties: current, skipped, refused: `${prefix}${path}: a property value is at most ${MAX_PROPERTY_VALUE_CHARACTERS} characters; the update was not applied` };
  }
  const bytes = Buffer.byteLength(JSON.stringify(next));
  if (bytes > MAX_PROPERTIES_BYTES) {
    return { properties: current, skipped, refused: `${prefix.replace(/\.$/, '') || 'properties'}: the properties would be ${bytes} bytes of JSON, over the limit of ${MAX_PROPERTIES_BYTES}; the update was not applied` };
  }
  return { properties: next, skipped };
}
