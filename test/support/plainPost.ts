/**
 * One POST on a fresh connection (no keep-alive), as a load generator that must see every refusal: a connection
 * error rejects, and so does a request with no answer within `timeoutMs` (a hang is a refusal too, not a stall).
 */
import http from 'node:http';

export function postOnce(url: string, body: unknown, timeoutMs = 15000): Promise<number> {
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(JSON.stringify(body));
    const request = http.request(url, { method: 'POST', agent: false, timeout: timeoutMs, headers: { 'content-type': 'application/json', 'content-length': payload.length, connection: 'close' } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(payload);
  });
}
