/**
 * Ingest routes take no query string. Amplitude and Planhat senders never send one, so a parameter there is a
 * mistake (a token, a tenant or a "dry run" flag put where nothing reads it) that is refused with a 400 naming it,
 * rather than ignored while the sender believes it had an effect.
 */

const TOKEN_PLACES = 'the token goes in the path or in "Authorization: Bearer TOKEN"';

/** The reason to refuse, or undefined when the request has no query string; `tokenPlaces`: where the route takes its token instead. */
export function queryStringRefusal(querystring: string, tokenPlaces = TOKEN_PLACES): string | undefined {
  if (querystring === '') return undefined;
  const [name] = new URLSearchParams(querystring).keys();
  const what = name === undefined ? 'query string' : `query parameter "${name.slice(0, 60)}"`;
  return `${what}: ingest routes take no query parameters (${tokenPlaces})`;
}
