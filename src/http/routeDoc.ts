/**
 * What a route table entry says for /api/v1/openapi.json: its summary and the schema of its body and of each
 * answer. The schemas are TypeBox's, so they are JSON Schema as they stand: the handlers that check bodies check
 * them against these same objects, and the document embeds them unchanged (OpenAPI 3.1 takes JSON Schema).
 */
import { Type, TSchema, TObject, TProperties } from '@sinclair/typebox';
import type { TableRoute } from './routeAccess';

export interface Reply {
  description: string;
  /** The JSON body; absent for an answer that is not JSON (see contentType). */
  schema?: TSchema;
  /** When the body is not JSON: its media type, described in words. */
  contentType?: string;
}

export interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header';
  description?: string;
}

export interface RouteDoc {
  summary: string;
  /** Query parameters beyond the route's own list, and headers. */
  parameters?: Parameter[];
  body?: TSchema;
  /** The same request as an `application/x-www-form-urlencoded` form, for routes that take both. */
  formBody?: TSchema;
  responses: Record<number, Reply>;
  /** For `tenant` routes: where the token goes; `path` and `body` routes need no Authorization header. */
  tenantToken?: 'path' | 'bearer' | 'body';
}

/** A route of a table that openapi.json describes from its entry. */
export interface DocumentedRoute extends TableRoute {
  doc: RouteDoc;
}

/** An object of exactly these fields: a field the schema does not name is refused (a body) or a bug (an answer). */
export const Strict = <T extends TProperties>(properties: T, options: { title?: string; description?: string } = {}): TObject<T> =>
  Type.Object(properties, { ...options, additionalProperties: false });

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const IsoTime = (description?: string) => Type.String({ format: 'date-time', description });

/** The shape of every refusal that is not an ingest answer: the reason, naming the field when one is at fault. */
export const ErrorBody = Strict({ error: Type.String({ description: 'what was wrong, naming the field or parameter' }) }, { title: 'Error' });

/** One refused event or item: its position in what was sent, and the reason naming the field. */
export const Rejection = Strict({ index: Type.Integer({ minimum: 0 }), error: Type.String() }, { title: 'Rejection' });

export const reply = (description: string, schema?: TSchema): Reply => ({ description, schema });
export const refused = (description: string): Reply => reply(description, ErrorBody);
