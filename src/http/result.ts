/** What a framework-free handler returns; the Koa layer only copies it onto the response. */
export interface HttpResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export function errorResult(status: number, error: string, headers?: Record<string, string>): HttpResult {
  return { status, body: { error }, headers };
}
