/**
 * The ingest routes' bodies and answers as TypeBox schemas, for /api/v1/openapi.json and the test that checks real
 * answers against it. The events themselves are checked field by field by normalize/ (each refusal names its event
 * and field, and the valid ones are kept), so their schema here describes them rather than checks them.
 */
import { Type } from '@sinclair/typebox';
import { Rejection, reply, RouteDoc, Strict } from '../http/routeDoc';

const Count = Type.Integer({ minimum: 0 });

const Event = Type.Object(
  {},
  {
    title: 'Event',
    additionalProperties: true,
    description: 'a Planhat activity (externalId or email, action, companyExternalId, date, info, ...) or an Amplitude event (event_type, user_id, time, insert_id, ...); see docs/events.md',
  },
);

const Accepted = Strict(
  {
    accepted: Count,
    rejected: Type.Array(Rejection, { description: 'the first 100 refused events' }),
    rejectedCount: Type.Optional(Type.Integer({ minimum: 101, description: 'how many were refused, when more than 100' })),
  },
  { title: 'Accepted' },
);

const Refused = Strict({ ...Accepted.properties, accepted: Type.Literal(0), error: Type.String() }, { title: 'Refused' });

const refusal = (description: string) => reply(description, Refused);

const INGEST_ANSWERS = {
  202: reply('every accepted event is in the queue; the refused ones with their index and reason', Accepted),
  400: refusal('not UTF-8, not JSON, a query string, or no valid event'),
  401: refusal('missing or unknown tenant token'),
  403: refusal('tenant disabled'),
  413: refusal('body over MAX_BODY_BYTES, more than MAX_EVENTS_PER_REQUEST events, or the only event over MAX_EVENT_BYTES'),
  415: refusal('not JSON, or an unsupported Content-Encoding'),
  429: refusal('over RATE_LIMIT_PER_TENANT; Retry-After'),
  503: refusal('Redis unreachable, or BODY_MEMORY_BUDGET_BYTES of bodies in flight; nothing accepted; Retry-After'),
};

const EventsBody = Type.Union([Event, Type.Array(Event)], { description: 'one event or an array of events' });
const BulkBody = Type.Array(Event, { description: 'an array of events; Planhat\'s short names id and cId are taken too' });

export const INGEST_DOCS = {
  analyticsInPath: { summary: 'Ingest events (tenant token in the path)', tenantToken: 'path', body: EventsBody, responses: INGEST_ANSWERS },
  analytics: { summary: 'Ingest events (Authorization: Bearer TOKEN)', tenantToken: 'bearer', body: EventsBody, responses: INGEST_ANSWERS },
  bulkInPath: { summary: 'Ingest an array of events (tenant token in the path)', tenantToken: 'path', body: BulkBody, responses: INGEST_ANSWERS },
  bulk: { summary: 'Ingest an array of events (Authorization: Bearer TOKEN)', tenantToken: 'bearer', body: BulkBody, responses: INGEST_ANSWERS },
} satisfies Record<string, RouteDoc>;

const AmplitudeRequest = Type.Object(
  {
    api_key: Type.Optional(Type.String({ description: 'the tenant token; or Authorization: Bearer TOKEN' })),
    events: Type.Array(Event, { minItems: 1 }),
    options: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { title: 'Amplitude HTTP V2 request', additionalProperties: true },
);

const AmplitudeAccepted = Strict(
  { code: Type.Literal(200), events_ingested: Count, payload_size_bytes: Count, server_upload_time: Type.Integer({ description: 'epoch milliseconds' }) },
  { title: 'Amplitude accepted' },
);

const FieldIndexes = Type.Record(Type.String(), Type.Array(Count), { description: 'field: the indexes of the events at fault' });

/** Amplitude's documented error shape, with this receiver's reasons (detail, rejected) beside it. */
const AmplitudeError = Strict(
  {
    code: Type.Integer(),
    error: Type.String(),
    detail: Type.Optional(Type.String()),
    missing_field: Type.Optional(Type.String()),
    events_with_invalid_fields: Type.Optional(FieldIndexes),
    events_with_missing_fields: Type.Optional(FieldIndexes),
    rejected: Type.Optional(Type.Array(Rejection)),
    rejectedCount: Type.Optional(Count),
  },
  { title: 'Amplitude error' },
);

const amplitudeRefusal = (description: string) => reply(description, AmplitudeError);

export const HTTP_API_DOC: RouteDoc = {
  summary: 'Amplitude HTTP V2 API (/2/httpapi, 1 MB) and Batch API (/batch, 20 MB): {"api_key": TOKEN, "events": [...]}; a request with any invalid event is refused whole',
  tenantToken: 'body',
  body: AmplitudeRequest,
  responses: {
    200: reply('every event is in the queue', AmplitudeAccepted),
    400: amplitudeRefusal('Invalid API key, invalid JSON, a missing field, a query string, or invalid events (their indexes by field)'),
    403: amplitudeRefusal('tenant disabled'),
    413: amplitudeRefusal('over the body limit after decompression (or MAX_BODY_BYTES if lower), too many events, or an event over MAX_EVENT_BYTES'),
    415: amplitudeRefusal('not JSON, or an unsupported Content-Encoding'),
    429: amplitudeRefusal('over RATE_LIMIT_PER_TENANT; Retry-After'),
    503: amplitudeRefusal('Redis unreachable, or BODY_MEMORY_BUDGET_BYTES of bodies in flight; Retry-After'),
  },
};

const MAX_IDENTIFICATIONS = 1024;

const Identification = Type.Object(
  {
    user_id: Type.Optional(Type.String()),
    device_id: Type.Optional(Type.String()),
    user_properties: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'plain keys, or Amplitude\'s operations ($set, $setOnce, $add, $append, $prepend, $preInsert, $postInsert, $remove, $unset, $clearAll)' })),
    groups: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { title: 'Identification', additionalProperties: true, description: 'user_id or device_id, and the user properties to apply' },
);

const GroupIdentification = Type.Object(
  {
    group_type: Type.String({ description: 'the tenant\'s companyGroupType updates the company; any other type is acknowledged and ignored' }),
    group_value: Type.String({ description: 'the company\'s externalId' }),
    group_properties: Type.Object({}, { additionalProperties: true, description: 'plain keys or Amplitude\'s operations, as user_properties' }),
  },
  { title: 'Group identification', additionalProperties: true },
);

/** Amplitude's Identify APIs: a form (as Amplitude documents them) or the same two fields as JSON. */
function identifyDoc(summary: string, item: typeof Identification | typeof GroupIdentification): RouteDoc {
  const identification = Type.Union([Type.String({ description: 'JSON text of one or an array' }), item, Type.Array(item, { minItems: 1, maxItems: MAX_IDENTIFICATIONS })]);
  return {
    summary,
    tenantToken: 'body',
    body: Type.Object({ api_key: Type.String({ description: 'the tenant token' }), identification }, { required: ['api_key', 'identification'], additionalProperties: true }),
    formBody: Type.Object(
      { api_key: Type.String({ description: 'the tenant token' }), identification: Type.String({ description: `JSON text: one object or an array of at most ${MAX_IDENTIFICATIONS}` }) },
      { additionalProperties: false },
    ),
    responses: {
      200: { description: 'every identification is in the queue (or ignored, for another group type): the text "success", as Amplitude answers', contentType: 'text/plain' },
      400: amplitudeRefusal('Invalid API key, a bad form or JSON, a missing api_key or identification, invalid identifications (their indexes by field), more than 1,024, or a query string'),
      403: amplitudeRefusal('tenant disabled'),
      413: amplitudeRefusal('over 1 MB after decompression (or MAX_BODY_BYTES if lower), too many identifications, or one over MAX_EVENT_BYTES'),
      415: amplitudeRefusal('neither a form nor JSON, or an unsupported Content-Encoding'),
      429: amplitudeRefusal('over RATE_LIMIT_PER_TENANT; Retry-After'),
      503: amplitudeRefusal('Redis unreachable, or BODY_MEMORY_BUDGET_BYTES of bodies in flight; Retry-After'),
    },
  };
}

export const IDENTIFY_DOC = identifyDoc('Amplitude Identify API: api_key and identification (user properties of one or up to 1,024 users); updates end users, stores no activity', Identification);
export const GROUP_IDENTIFY_DOC = identifyDoc(
  'Amplitude Group Identify API: api_key and identification (group properties); the tenant\'s company group type updates companies, stores no activity',
  GroupIdentification,
);
