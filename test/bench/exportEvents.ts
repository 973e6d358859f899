/** The bench's Amplitude export records: the load driver posts them, statementTimes.ts writes them straight to the store. */
import { amplitudeExportEvent } from '../fixtures/amplitudeExport';

export const UUID_SLOT = '00000000-0000-0000-0000-000000000000';

/**
 * An export record of Amplitude's schema with the properties a product sends (about 2 KB as JSON). Amplitude's
 * `uuid` is the event's identity when no insert id is set: each request gets its own (send() fills UUID_SLOT).
 */
export function exportEvent(action: string, n: number, users: number) {
  const user = n % users;
  const company = `bench-co-${user % 20}`;
  return amplitudeExportEvent({
    event_type: action,
    user_id: `bench-user-${user}`,
    uuid: UUID_SLOT,
    event_id: n,
    session_id: 1793610843102 + user,
    user_properties: {
      email: `user${user}@bench${user % 20}.example`, name: `Bench User ${user}`, plan: 'Enterprise', role: user % 7 === 0 ? 'admin' : 'member',
      signup_source: 'partner-referral', seats: 25 + (user % 40), locale: 'fr-FR', timezone: 'Europe/Paris', last_login_days: user % 30,
      feature_flags: ['new-editor', 'beta-reports', 'bulk-export'], '$set_once': { initial_referrer: 'https://www.example.com/pricing', initial_utm_source: 'newsletter' },
    },
    group_properties: { company: { name: `Bench Company ${user % 20}`, industry: 'Software', employees: 250, tier: 'Enterprise', region: 'EMEA' } },
    groups: { company },
    event_properties: {
      report_id: `rep-${n}`, format: 'pdf', pages: 12, filters: { period: 'last-30-days', segments: ['enterprise', 'emea'], compare: true },
      duration_ms: 1840, source_page: '/reports/usage/overview', button: 'export-top-right', row_count: 1250, columns: ['date', 'account', 'seats', 'usage', 'plan'],
    },
  });
}
