/**
 * Which Content-Type an ingest body may declare. JSON is read whatever the header says, so the check only refuses
 * what is plainly something else (a form, multipart, a file) with a 415 that says why, instead of a confusing
 * "not valid JSON". No header, JSON types and text/plain (what browsers' sendBeacon sends) pass.
 */
const JSON_TYPES = /^(application\/json|application\/[a-z0-9.+-]+\+json|text\/json|text\/plain)$/;

const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * The reason to refuse, or undefined when the body may be read as JSON (or, with `acceptForm`, as a UTF-8 form:
 * Amplitude's Identify APIs take one).
 */
export function contentTypeRefusal(header: string | undefined, acceptForm = false): string | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const [mediaType, ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  const wanted = acceptForm ? `JSON (application/json) or a form (${FORM_TYPE})` : 'JSON (application/json)';
  if (!JSON_TYPES.test(mediaType) && !(acceptForm && mediaType === FORM_TYPE)) {
    return `Content-Type "${mediaType.slice(0, 100)}" is not supported: send ${wanted}`;
  }
  const charset = parameters.find((parameter) => parameter.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return `charset "${charset.slice(0, 40)}" is not supported: send UTF-8 ${wanted}`;
  }
  return undefined;
}
