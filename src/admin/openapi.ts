/** /api/v1/openapi.json: the admin routes from their table, plus the receiver's ingest and operations routes. */
import { ADMIN_ROUTES } from './routeTable';
import { PROPERTY_FILTER } from './params';

const PROPERTY_FILTER_DESCRIPTION = 'A parameter named property.NAME (property.plan=Enterprise): only end users whose property NAME equals the value, as text or as the number or boolean it writes; one per request';

type Operation = { summary: string; parameters?: unknown[]; requestBody?: unknown; responses: Record<string, { description: string }>; security?: unknown[] };

const json = (description: string) => ({ content: { 'application/json': { schema: { type: 'object' }, example: description } } });

function responses(table: Record<number, string>): Record<string, { description: string }> {
  return Object.fromEntries(Object.entries(table).map(([status, description]) => [status, { description }]));
}

const INGEST_RESPONSES = responses({
  202: '{"accepted": N, "rejected": [{"index","error"}], "rejectedCount"?}: every accepted event is in the queue; the first 100 reasons, rejectedCount when there were more',
  400: 'not UTF-8, not JSON, or no valid event; the first 100 reasons',
  401: 'missing or unknown tenant token',
  403: 'tenant disabled',
  413: 'body over MAX_BODY_BYTES, or the only event over MAX_EVENT_BYTES',
  415: 'unsupported Content-Encoding',
  503: 'Redis unreachable, or BODY_MEMORY_BUDGET_BYTES of bodies in flight; nothing accepted; Retry-After',
});

const HTTP_API_RESPONSES = responses({
  200: '{"code":200,"events_ingested","payload_size_bytes","server_upload_time"}',
  400: '{"code":400,"error","missing_field"?,"events_with_invalid_fields"?,"events_with_missing_fields"?}',
  403: 'tenant disabled',
  413: '{"code":413,"error":"Payload too large","detail"?}: over 1 MB (/2/httpapi) or 20 MB (/batch) after decompression, or MAX_BODY_BYTES if lower',
  503: 'Redis unreachable, or BODY_MEMORY_BUDGET_BYTES of bodies in flight; Retry-After',
});

const IDENTIFY_RESPONSES = responses({
  200: 'the text "success", as Amplitude answers: every identification is in the queue (group identifications of another group type than the tenant\'s companyGroupType are ignored, and noted in the delivery log)',
  400: '{"code":400,"error","missing_field"?,"detail"?,"events_with_invalid_fields"?,"events_with_missing_fields"?}: a missing or unknown api_key, a bad form or JSON, a bad identification, more than 1,024',
  403: 'tenant disabled',
  413: '{"code":413,"error":"Payload too large","detail"?}: over 1 MB after decompression, or MAX_BODY_BYTES if lower',
  415: 'a Content-Type that is neither a form nor JSON, or an unsupported Content-Encoding',
  429: '{"code":429,"error":"Too many requests","detail"}: over RATE_LIMIT_PER_TENANT; Retry-After',
  503: 'Redis unreachable, or BODY_MEMORY_BUDGET_BYTES of bodies in flight; Retry-After',
});

/** Amplitude's Identify APIs take a form (as Amplitude documents them) or the same fields as JSON. */
function identifyBody(what: string): unknown {
  const example = `api_key=TOKEN&identification=${what}`;
  return {
    required: true,
    content: {
      'application/x-www-form-urlencoded': { schema: { type: 'object', properties: { api_key: { type: 'string' }, identification: { type: 'string' } }, required: ['api_key', 'identification'] }, example },
      'application/json': { schema: { type: 'object' }, example: `{"api_key": TOKEN, "identification": ${what}}` },
    },
  };
}

function openapiPath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, '{$1}');
}

function pathParameters(path: string): unknown[] {
  return [...path.matchAll(/:([A-Za-z]+)/g)].map((match) => ({ name: match[1], in: 'path', required: true, schema: { type: 'string' } }));
}

export function buildOpenApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, Operation>> = {};
  const add = (path: string, method: string, operation: Operation) => {
    (paths[openapiPath(path)] ??= {})[method] = operation;
  };
  const tokenPath = [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }];
  const eventsBody = { required: true, ...json('one event object or an array of events (Planhat activities or Amplitude events)') };
  add('/analytics/:token', 'post', { summary: 'Ingest events (tenant token in the path)', parameters: tokenPath, requestBody: eventsBody, responses: INGEST_RESPONSES, security: [] });
  add('/analytics', 'post', { summary: 'Ingest events (Authorization: Bearer TOKEN)', requestBody: eventsBody, responses: INGEST_RESPONSES, security: [{ tenantToken: [] }] });
  add('/analytics/bulk/:token', 'post', { summary: 'Ingest an array of events; also takes id and cId', parameters: tokenPath, requestBody: eventsBody, responses: INGEST_RESPONSES, security: [] });
  add('/analytics/bulk', 'post', { summary: 'Ingest an array of events (Authorization: Bearer TOKEN)', requestBody: eventsBody, responses: INGEST_RESPONSES, security: [{ tenantToken: [] }] });
  for (const path of ['/2/httpapi', '/batch']) {
    add(path, 'post', { summary: 'Amplitude HTTP V2 API: {"api_key": TOKEN, "events": [...]}', requestBody: { required: true, ...json('{"api_key","events","options"}') }, responses: HTTP_API_RESPONSES, security: [] });
  }
  add('/identify', 'post', { summary: "Amplitude's Identify API: update or create end users", requestBody: identifyBody('[{"user_id","user_properties"}] (JSON, up to 1,024)'), responses: IDENTIFY_RESPONSES, security: [] });
  add('/groupidentify', 'post', { summary: "Amplitude's Group Identify API: update or create companies (group_type = the tenant's companyGroupType)", requestBody: identifyBody('[{"group_type","group_value","group_properties"}] (JSON, up to 1,024)'), responses: IDENTIFY_RESPONSES, security: [] });
  add('/healthz', 'get', { summary: 'The process is up', responses: responses({ 200: '{"status":"ok"}' }), security: [] });
  add('/readyz', 'get', { summary: 'Redis and the database answer', responses: responses({ 200: '{"status":"ready","redis":"ok","database":"ok"}', 503: 'which one is down' }), security: [] });
  add('/metrics', 'get', { summary: 'Prometheus metrics', responses: responses({ 200: 'Prometheus text format' }), security: [] });
  add('/admin/queues', 'get', { summary: 'Bull Board (HTTP Basic with ADMIN_TOKEN as password, or Bearer)', responses: responses({ 200: 'the board', 401: 'no or wrong credentials' }), security: [{ adminBasic: [] }, { adminBearer: [] }] });
  add('/api/v1/openapi.json', 'get', { summary: 'This document', responses: responses({ 200: 'OpenAPI 3.0 JSON', 401: 'no or wrong admin token' }) });
  for (const route of ADMIN_ROUTES) {
    const query = (route.query ?? []).map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' }, ...(name === PROPERTY_FILTER && { description: PROPERTY_FILTER_DESCRIPTION }) }));
    add(`/api/v1${route.path}`, route.method, {
      summary: route.summary,
      parameters: [...pathParameters(route.path), ...query],
      ...(route.body && { requestBody: { required: true, ...json(route.body) } }),
      responses: responses({ ...route.responses, 401: 'no or wrong admin token' }),
    });
  }
  return {
    openapi: '3.0.3',
    info: { title: 'activityd', version: '1', description: 'Receiver, ingest and admin API of activityd.' },
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
