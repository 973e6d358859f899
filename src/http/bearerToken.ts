/** The token of an "Authorization: Bearer TOKEN" header, as the ingest routes, the admin API and the board read it. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}
