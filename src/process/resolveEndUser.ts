/** Finds or creates an event's end user: the identity rules decide, the store writes, and the batch's view of known users follows. */
import type { Knex } from 'knex';
import { decideEndUser, identifyChanges, KnownEndUser, KnownEndUsers, PersonRef } from '../identity/endUserRules';
import { insertEndUser, updateEndUser } from '../store/endUsers';

/** An identify event (`overwrite`) replaces the name and email it gives; an activity only fills in what the user lacked. */
export async function resolveEndUser(
  trx: Knex.Transaction,
  tenantId: number,
  known: KnownEndUsers,
  person: PersonRef,
  options: { overwrite: boolean; now: number },
): Promise<KnownEndUser> {
  const decision = decideEndUser(known, person);
  if (decision.kind === 'new') {
    const user = await insertEndUser(trx, tenantId, decision.fields, options.now);
    known.remember(user);
    return user;
  }
  const { user } = decision;
  const changes = options.overwrite ? identifyChanges(user, person, decision.changes) : decision.changes;
  if (Object.keys(changes).length > 0) {
    Object.assign(user, await updateEndUser(trx, user.id, changes, options));
    known.remember(user);
  }
  return user;
}
