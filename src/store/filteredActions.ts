/** The per-action counters of events the tenants' action filters dropped. */
import type { Knex } from 'knex';
import { compareText } from '../compareText';

/** One statement, rows in action order: two batches counting the same actions lock their rows in one order. */
export async function countFilteredActions(trx: Knex.Transaction, tenantId: number, filtered: Map<string, number>, now: number): Promise<void> {
  if (filtered.size === 0) return;
  const rows = [...filtered].sort(([a], [b]) => compareText(a, b)).map(([action, count]) => ({ tenant_id: tenantId, action, count, last_seen_at: now }));
  await trx('filtered_actions')
    .insert(rows)
    .onConflict(['tenant_id', 'action'])
    .merge({ count: trx.raw('filtered_actions.count + excluded.count'), last_seen_at: now });
}
