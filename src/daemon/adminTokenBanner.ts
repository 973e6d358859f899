/** On the first start without ADMIN_TOKEN, the one message that shows the admin token made for the board and the admin API. */
import type { Config } from '../../config';
import { publicBaseUrl } from '../../config';
import { BOARD_PATH } from '../admin/board';
import { ADMIN_PREFIX } from '../admin/adminRoutes';

/** The message, with the port the receiver really listens on (PORT=0 picks one). */
export function adminTokenMessage(token: string, config: Config, port: number): string {
  const base = publicBaseUrl(config, port);
  return [
    '',
    'activityd: made the admin token (ADMIN_TOKEN is not set). It is shown only this once; keep it secret.',
    `  admin token: ${token}`,
    `  board:       ${base}${BOARD_PATH} (HTTP Basic: any user name, the admin token as the password)`,
    `  admin API:   ${base}${ADMIN_PREFIX} (header "Authorization: Bearer ${token}")`,
    '  A new one:   activityd admin-token rotate (the old one stops within 5 seconds). ADMIN_TOKEN, when set, wins over it.',
    '',
  ].join('\n');
}
