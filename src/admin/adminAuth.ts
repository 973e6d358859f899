/** The admin API's credential: "Authorization: Bearer TOKEN" with the admin token (see ./adminCredential). */
import { errorResult, HttpResult } from '../http/result';
import { bearerToken } from '../http/bearerToken';
import { AdminCredential, NO_ADMIN_TOKEN } from './adminCredential';

/** undefined when allowed; otherwise the 401 to send and the reason to log. */
export async function checkAdmin(credential: AdminCredential, authorization: string | undefined): Promise<{ result: HttpResult; reason: string } | undefined> {
  const challenge = { 'WWW-Authenticate': 'Bearer realm="activityd admin"' };
  const given = bearerToken(authorization);
  if (!given) return { result: errorResult(401, 'missing "Authorization: Bearer ADMIN_TOKEN" (the admin token)', challenge), reason: 'no bearer token' };
  const verdict = await credential.check(given);
  if (verdict === 'none') return { result: errorResult(401, `the admin API is off: ${NO_ADMIN_TOKEN}`, challenge), reason: NO_ADMIN_TOKEN };
  if (verdict === 'wrong') return { result: errorResult(401, 'wrong admin token', challenge), reason: 'wrong admin token' };
  return undefined;
}
