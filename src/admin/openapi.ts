/**
 * /api/v1/openapi.json (OpenAPI 3.1), built from the route tables: the admin routes' own table and the documented
 * tables the receiver also mounts (ingest, health and metrics). Every body and answer is the TypeBox schema the
 * route's entry names, which is JSON Schema as it stands, so the document shows exactly what the handlers check.
 */
import { Type, TSchema } from '@sinclair/typebox';
import { PATH_PARAMETERS, QUERY_PARAMETERS } from './schemas';
import { ADMIN_ROUTES, AdminRoute } from './routeTable';
import { refused, Reply, RouteDoc, DocumentedRoute } from '../http/routeDoc';
import type { Access } from '../http/routeAccess';
import { PROPERTY_FILTER } from './params';

// OpenAPI has no parameter named by a pattern: as a deepObject, generated clients send property[plan]=Enterprise, which the route takes as well as property.plan=Enterprise.
const PROPERTY_FILTER_PARAMETER = {
  name: PROPERTY_FILTER,
  in: 'query',
  required: false,
  style: 'deepObject',
  explode: true,
  schema: { type: 'object', additionalProperties: { type: 'string' }, maxProperties: 1 },
  description:
    'One property filter: property[NAME]=VALUE, or property.NAME=VALUE (property[plan]=Enterprise): only end users whose property NAME equals the value, as text or as the number or boolean it writes; one per request',
};

type Operation = Record<string, unknown>;

const openapiPath = (path: string) => path.replace(/:([A-Za-z]+)/g, '{$1}');

const ANY_TEXT = Type.String();

const pathParameters = (path: string) =>
  [...path.matchAll(/:([A-Za-z]+)/g)].map((match) => ({ name: match[1], in: 'path', required: true, schema: PATH_PARAMETERS[match[1]] ?? ANY_TEXT }));

const jsonContent = (schema: TSchema) => ({ 'application/json': { schema } });

function responses(table: Record<number, Reply>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(table).map(([status, { description, schema, contentType }]) => [
      status,
      { description, ...(schema ? { content: jsonContent(schema) } : contentType ? { content: { [contentType]: { schema: { type: 'string' } } } } : {}) },
    ]),
  );
}

function security(access: Access, doc: RouteDoc): Array<Record<string, string[]>> {
  if (access === 'admin') return [{ adminBearer: [] }];
  if (access === 'tenant' && doc.tenantToken === 'bearer') return [{ tenantToken: [] }];
  return [];
}

function documentedOperation(route: DocumentedRoute): Operation {
  const { doc } = route;
  return {
    summary: doc.summary,
    parameters: pathParameters(route.path),
    ...(doc.body && { requestBody: { required: true, content: { ...jsonContent(doc.body), ...(doc.formBody && { 'application/x-www-form-urlencoded': { schema: doc.formBody } }) } } }),
    responses: responses(doc.responses),
    security: security(route.access, doc),
  };
}

/** What every admin route may answer beyond its own table: no credential, and for a body its reading and checking. */
function adminOperation(route: AdminRoute): Operation {
  const query = (route.query ?? []).map((name) => (name === PROPERTY_FILTER ? PROPERTY_FILTER_PARAMETER : { name, in: 'query', required: false, schema: QUERY_PARAMETERS[name] ?? ANY_TEXT }));
  const parameters = [...pathParameters(route.path), ...query];
  const common: Record<number, Reply> = { 401: refused('no or wrong admin token') };
  if (parameters.length > 0) common[400] = refused('a bad parameter, named');
  if (route.body) {
    common[400] = refused('not JSON, or a field that does not fit the body schema: named, with the reason');
    common[413] = refused("over the admin API's 8 MiB body limit");
    common[415] = refused('not application/json');
  }
  return {
    summary: route.summary,
    parameters,
    ...(route.body && { requestBody: { required: true, content: jsonContent(route.body) } }),
    responses: responses({ ...common, ...route.responses }),
    security: security(route.access, { summary: route.summary, responses: {} }),
  };
}

export function buildOpenApi(prefix: string, self: DocumentedRoute, receiverRoutes: readonly DocumentedRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, Operation>> = {};
  const add = (path: string, method: string, operation: Operation) => ((paths[openapiPath(path)] ??= {})[method] = operation);
  for (const route of receiverRoutes) add(route.path, route.method, documentedOperation(route));
  add(prefix + self.path, self.method, documentedOperation(self));
  for (const route of ADMIN_ROUTES) add(prefix + route.path, route.method, adminOperation(route));
  add('/admin/queues', 'get', {
    summary: 'Bull Board (HTTP Basic with ADMIN_TOKEN as password, or Bearer)',
    responses: responses({ 200: { description: 'the board', contentType: 'text/html' }, 401: refused('no or wrong credentials') }),
    security: [{ adminBasic: [] }, { adminBearer: [] }],
  });
  return {
    openapi: '3.1.0',
    info: { title: 'activityd', version: '1', description: 'Receiver, ingest, admin and read API of activityd.' },
    components: {
      securitySchemes: {
        adminBearer: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' },
        adminBasic: { type: 'http', scheme: 'basic', description: 'any user name, ADMIN_TOKEN as the password (board only)' },
        tenantToken: { type: 'http', scheme: 'bearer', description: 'a tenant token' },
      },
    },
    security: [{ adminBearer: [] }],
    paths,
  };
}
