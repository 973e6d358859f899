/**
 * Which Content-Type an ingest body may declare. JSON is read whatever the header says, so the check only refuses
 * what is plainly something else (a form, multipart, a file) with a 415 that says why, instead of a confusing
 * "not valid JSON". No header, JSON types and text/plain (what browsers' sendBeacon sends) pass.
 */
const JSON_TYPES = /^(application\/json|application\/[a-z0-9.+-]+\+json|text\/json|text\/plain)$/;

/** The reason to refuse, or undefined when the body may be read as JSON. */
export function contentTypeRefusal(header: string | undefined): string | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const [mediaType, ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  if (!JSON_TYPES.test(mediaType)) {
    return `Content-Type "${mediaType.slice(0, 100)}" is not supported: send JSON (application/json)`;
  }
  const charset = parameters.find((parameter) => parameter.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    return `charset "${charset.slice(0, 40)}" is not supported: send UTF-8 JSON`;
  }
  return undefined;
}
