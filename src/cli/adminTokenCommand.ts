/** `activityd admin-token rotate`: a new admin token for the board and the admin API (when ADMIN_TOKEN is not set). */
import { printJson, withCurrentDatabase } from './runtime';
import type { Verb } from './verb';

export const adminTokenVerbs: Verb[] = [
  {
    words: ['admin-token', 'rotate'],
    summary: 'print a new admin token (board and admin API); the old one stops',
    details:
      'Prints {"token"}: the only time it is shown; the database keeps its hash. Every running receiver accepts it at once and refuses the old one within 5 seconds (TENANT_REFRESH_MS). Use it as the board\'s Basic password (any user name) or as "Authorization: Bearer TOKEN". Where ADMIN_TOKEN is set, that wins and the stored token is not accepted: this command says so on stderr.',
    run: (config) =>
      withCurrentDatabase(config, async (db) => {
        const { rotateAdminToken } = await import('../admin/adminCredential.js');
        printJson({ token: await rotateAdminToken(db) });
        if (config.ADMIN_TOKEN) process.stderr.write('activityd: ADMIN_TOKEN is set here: processes started with it accept only it, not this token\n');
        return 0;
      }),
  },
];
