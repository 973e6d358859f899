/**
 * Checks a request body against its route's schema (the one /api/v1/openapi.json shows) and words the first
 * failure as the rest of the API does: `field: reason`, with the field as a path (`settings.includeActions`,
 * `domains[0]`) and the reason in words, never the validator's own phrasing.
 */
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, TypeCheck, ValueError, ValueErrorType } from '@sinclair/typebox/compiler';
import { describe } from '../normalize/fields';
import { RequestError } from '../http/requestError';

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checker(schema: TSchema): TypeCheck<TSchema> {
  let check = compiled.get(schema);
  if (!check) compiled.set(schema, (check = TypeCompiler.Compile(schema)));
  return check;
}

/** `/settings/includeActions/0` as `settings.includeActions[0]`; the value itself is `whole`. */
function fieldName(path: string, whole: string): string {
  if (path === '') return whole;
  const name = path
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((text, part) => (/^\d+$/.test(part) ? `${text}[${part}]` : text === '' ? part : `${text}.${part}`), '');
  return name.slice(0, 80);
}

/** What a schema takes, in words: "a string", "true or false", "a string, true or false or null". */
function expected(schema: TSchema): string {
  if (schema.anyOf) {
    const kinds: string[] = schema.anyOf.map(expected);
    return kinds.length === 1 ? kinds[0] : `${kinds.slice(0, -1).join(', ')} or ${kinds[kinds.length - 1]}`;
  }
  switch (schema.type) {
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    case 'integer':
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'null':
      return 'null';
    case 'array':
      return schema.items?.type === 'string' ? 'an array of strings' : 'an array';
    case 'object':
      return schema.title ? `${schema.title} (an object)` : 'an object';
    default:
      return 'of another type';
  }
}

function reason(error: ValueError): string {
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'missing';
    case ValueErrorType.ObjectAdditionalProperties: {
      const known = Object.keys(error.schema.properties ?? {});
      return `not a field of ${error.schema.title ?? 'this object'} (${known.length > 0 ? `it takes ${known.join(', ')}` : 'it takes none'})`;
    }
    case ValueErrorType.StringMinLength:
      return error.schema.minLength === 1 ? 'must not be empty' : `must be at least ${error.schema.minLength} characters`;
    case ValueErrorType.StringMaxLength:
      return `must be at most ${error.schema.maxLength} characters`;
    case ValueErrorType.ArrayMaxItems:
      return `must hold at most ${error.schema.maxItems} items`;
    default:
      return `must be ${expected(error.schema)}, got ${describe(error.value)}`;
  }
}

/** The first way `value` breaks `schema`, as `field: reason` (`whole` names the value itself); undefined when it fits. */
export function schemaFailure(schema: TSchema, value: unknown, whole = 'body'): string | undefined {
  const check = checker(schema);
  if (check.Check(value)) return undefined;
  const error = check.Errors(value).First();
  return error ? `${fieldName(error.path, whole)}: ${reason(error)}` : `${whole}: does not fit its schema`;
}

/** Refuses (400) a value that does not fit; otherwise returns it, typed by the caller. */
export function checkBody<T>(schema: TSchema, value: unknown): T {
  const failure = schemaFailure(schema, value);
  if (failure !== undefined) throw new RequestError(failure);
  return value as T;
}
