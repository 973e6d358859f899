/** The admin API's credential: "Authorization: Bearer ADMIN_TOKEN", compared in constant time. */
import { secretsEqual } from '../tenants/tokens';
import { errorResult, HttpResult } from '../http/result';
import { bearerToken } from '../http/bearerToken';

/** undefined when allowed; otherwise the 401 to send and the reason to log. */
export function checkAdmin(adminToken: string, authorization: string | undefined): { result: HttpResult; reason: string } | undefined {
  const challenge = { 'WWW-Authenticate': 'Bearer realm="activityd admin"' };
  if (!adminToken) {
    return { result: errorResult(401, 'the admin API is off: ADMIN_TOKEN is not set', challenge), reason: 'ADMIN_TOKEN is not set, so every admin request is refused' };
  }
  const given = bearerToken(authorization);
  if (!given) return { result: errorResult(401, 'missing "Authorization: Bearer ADMIN_TOKEN"', challenge), reason: 'no bearer token' };
  if (!secretsEqual(given, adminToken)) return { result: errorResult(401, 'wrong admin token', challenge), reason: 'wrong admin token' };
  return undefined;
}
