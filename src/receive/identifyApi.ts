/**
 * Amplitude's Identify API (POST /identify) and Group Identify API (POST /groupidentify), free of Koa: `api_key` and
 * `identification` (a JSON string of one object or an array) as a form, as Amplitude documents them and its senders
 * post them, or as a JSON body. Amplitude's answers: 200 "success"; 400 naming what is missing or malformed (the
 * request is refused whole, as Amplitude does); 413; 429; 503.
 */
import { BodyError, TooManyEventsError } from '../normalize/normalizeBody';
import { IdentifyApi, normalizeIdentifications } from '../normalize/identification';
import { IngestDeps, queueAccepted, recordRefusal, requestLimits } from './ingestRequest';
import type { DeliveryStart } from '../deliveries/deliveryRecord';
import type { HttpResult } from '../http/result';
import { BodyDecodeError } from './decodeBody';
import { FormError, parseForm } from './formBody';
import { amplitudeError, amplitudeRateLimited, checkApiKey, isRefusal, jsonObjectBody, payloadTooLarge, refuseInvalidEvents, unqueued } from './amplitudeHttpApi';

/** How the body is written: a form (Amplitude's documented way), or JSON. */
export type IdentifyBodyKind = 'form' | 'json';

const FORM_TYPE = 'application/x-www-form-urlencoded';

/** What the Content-Type says: a form, JSON (any other type that passed contentTypeRefusal), or nothing. */
export function declaredBodyKind(contentType: string | undefined): IdentifyBodyKind | undefined {
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (mediaType === '') return undefined;
  return mediaType === FORM_TYPE ? 'form' : 'json';
}

/** Without a Content-Type the body tells: JSON starts with "{" (after any byte-order mark), a form with a field name. */
export function bodyKind(contentType: string | undefined, body: Buffer): IdentifyBodyKind {
  return declaredBodyKind(contentType) ?? (body.toString('latin1', 0, 64).replace(/^\u00ef\u00bb\u00bf/, '').trimStart().startsWith('{') ? 'json' : 'form');
}

const SUCCESS: HttpResult = { status: 200, body: 'success' };

type Fields = { api_key?: unknown; identification?: unknown };

function readFields(body: Buffer, kind: IdentifyBodyKind): { fields: Fields } | { refusal: HttpResult } {
  if (kind === 'json') {
    const read = jsonObjectBody(body);
    return 'refusal' in read ? read : { fields: read.object };
  }
  try {
    const form = parseForm(body);
    return { fields: { api_key: form.get('api_key'), identification: form.get('identification') } };
  } catch (error) {
    if (error instanceof FormError || error instanceof BodyDecodeError) return { refusal: amplitudeError(400, 'Invalid form body', { detail: error.message }) };
    throw error;
  }
}

/** The identification as a value: a form carries it as JSON text; a JSON body may carry the text or the value itself. */
function parseIdentification(identification: unknown): { value: unknown } | HttpResult {
  if (typeof identification !== 'string') return { value: identification };
  try {
    return { value: JSON.parse(identification) };
  } catch (error) {
    return amplitudeError(400, 'Invalid identification JSON', { detail: `identification: ${(error as Error).message}` });
  }
}

const missingField = (field: string) => amplitudeError(400, 'Request missing required field', { missing_field: field });

export async function acceptIdentifyRequest(deps: IngestDeps, api: IdentifyApi, request: { body: Buffer; kind: IdentifyBodyKind; delivery: DeliveryStart }): Promise<HttpResult> {
  const { body, delivery } = request;
  const read = readFields(body, request.kind);
  if ('refusal' in read) return read.refusal;
  const { fields } = read;
  if (typeof fields.api_key !== 'string' || fields.api_key === '') return missingField('api_key');
  if (fields.identification === undefined || fields.identification === null || fields.identification === '') return missingField('identification');

  const check = await checkApiKey(deps, fields.api_key, delivery);
  if (isRefusal(check)) return check;
  const { tenantId } = check;
  const limited = amplitudeRateLimited(deps, tenantId, delivery);
  if (limited) return limited;
  const identification = parseIdentification(fields.identification);
  if ('status' in identification) return recordRefusal(deps, tenantId, delivery, identification);

  let normalized;
  try {
    normalized = normalizeIdentifications(api, identification.value, { bulk: false, ...requestLimits(deps, { delivery, body, settings: check.settings }) });
  } catch (error) {
    if (error instanceof TooManyEventsError) return recordRefusal(deps, tenantId, delivery, payloadTooLarge(error.message));
    if (error instanceof BodyError) return recordRefusal(deps, tenantId, delivery, amplitudeError(400, 'Invalid identification', { detail: error.message }));
    throw error;
  }
  if (normalized.oversized.length > 0) return recordRefusal(deps, tenantId, delivery, payloadTooLarge(), normalized.rejected);
  if (normalized.rejected.length > 0) return refuseInvalidEvents(deps, tenantId, delivery, normalized);
  // Ignored group identifications are not refusals: the delivery log lists them with their reason.
  if (normalized.events.length === 0) return recordRefusal(deps, tenantId, delivery, SUCCESS, normalized.ignored);
  const queued = await queueAccepted(deps, tenantId, delivery, { ...normalized, rejected: normalized.ignored }, 200, body.length);
  return queued.queued ? SUCCESS : unqueued(deps, queued.result);
}
