/** Real HTTP against a running receiver. */
export interface Reply {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export async function request(url: string, init: { method?: string; body?: unknown; raw?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Reply> {
  const response = await fetch(url, {
    method: init.method ?? (init.body !== undefined || init.raw !== undefined ? 'POST' : 'GET'),
    headers: { 'content-type': 'application/json', ...init.headers },
    body: init.raw ?? (init.body !== undefined ? JSON.stringify(init.body) : undefined),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body, text };
}

export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return request(url, { body, headers });
}
