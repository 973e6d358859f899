/**
 * Writes events from many queue jobs in one transaction (group commit): per tenant one identity pass, bulk lookups
 * of companies, domains, assets and projects, multi-row activity inserts, and insertId as the guard against
 * storing an event twice. This is the worker's orchestration: identity/ decides, store/ runs the statements.
 */
import type { Knex } from 'knex';
import type { Db } from '../store/db';
import type { ActivityEvent } from '../normalize/activityEvent';
import { KnownEndUser, KnownEndUsers } from '../identity/endUserRules';
import { businessDomain } from '../identity/freeMailDomains';
import { decideCompany, domainClaimantAfterLearning } from '../identity/companyRules';
import { readSettings, ReadSettings } from '../tenants/settings';
import { lockKeys, takeWriteLock } from '../store/locks';
import { assignPrimaryCompany, loadEndUsers } from '../store/endUsers';
import { addCompanyDomain, companiesByDomain, findOrCreateCompanies } from '../store/companies';
import { findOrCreateOwned } from '../store/ownedRecords';
import { insertActivities, storedInsertIds } from '../store/activities';
import { countFilteredActions } from '../store/filteredActions';
import { storedSettings } from '../store/tenants';
import { compareText } from '../compareText';
import { resolveEndUser } from './resolveEndUser';
import { applyPropertyUpdates, PropertyUpdate } from './applyProperties';
import { appliedInsertIds, rememberApplied } from '../store/properties';
import { Arrival, arrivalOf } from './arrivalStamp';
import { activityCutoff } from './retention';
import { clearFailedOutcomes, EventOutcomeRow, insertDeliveryRecords, recordEventOutcomes } from '../store/deliveryWrites';
import type { JobDelivery } from '../deliveries/deliveryRecord';

export interface BatchEntry {
  tenantId: number;
  receivedAt: number;
  events: ActivityEvent[];
  delivery?: JobDelivery;
  /** The job ran before: outcomes it left (failed) may need clearing. */
  retried?: boolean;
}

export interface WriteOptions {
  /** ACTIVITY_RETENTION_DAYS (0: kept for ever). */
  activityRetentionDays?: number;
}

/**
 * stored: a new activity; duplicate: its insertId was stored (or, for an identify, applied) before; filtered: dropped
 * by the tenant's action filter, dated before ACTIVITY_RETENTION_DAYS, or a group identify of no company; identified: an identify event applied to the end
 * user, or a group identify to the company.
 */
export type EventOutcome = 'stored' | 'duplicate' | 'filtered' | 'identified';

interface PendingEvent {
  entryIndex: number;
  eventIndex: number;
  receivedAt: number;
  event: ActivityEvent;
  delivery?: { id: string; index: number };
  /** The request it came in and its stamp, which sorts in the order the receivers took the events in. */
  arrival: Arrival;
  /** What the delivery log says of the event beside its outcome: a property update refused or partly skipped. */
  notes: string[];
}

export async function writeBatch(db: Db, entries: BatchEntry[], options: WriteOptions = {}): Promise<EventOutcome[][]> {
  const outcomes: EventOutcome[][] = entries.map((entry) => new Array(entry.events.length));
  const byTenant = new Map<number, PendingEvent[]>();
  const notes: string[][][] = entries.map((entry) => entry.events.map(() => []));
  entries.forEach((entry, entryIndex) => {
    const pending = byTenant.get(entry.tenantId) ?? [];
    entry.events.forEach((event, eventIndex) => {
      const delivery = entry.delivery && { id: entry.delivery.id, index: entry.delivery.indexes[eventIndex] };
      pending.push({ entryIndex, eventIndex, receivedAt: entry.receivedAt, event, delivery, arrival: arrivalOf(entry.receivedAt, delivery, eventIndex), notes: notes[entryIndex][eventIndex] });
    });
    byTenant.set(entry.tenantId, pending);
  });
  // Jobs reach the group committer in the order their processing got there, not the order they were queued: the
  // batch is written in arrival order, by request, then in each job's order.
  for (const pending of byTenant.values()) pending.sort((a, b) => compareText(a.arrival.request, b.arrival.request) || a.entryIndex - b.entryIndex || a.eventIndex - b.eventIndex);
  await db.transaction(async (trx) => {
    await takeWriteLock(trx);
    for (const tenantId of [...byTenant.keys()].sort((a, b) => a - b)) {
      await writeTenantEvents(trx, tenantId, byTenant.get(tenantId) as PendingEvent[], outcomes, options);
    }
    await recordDeliveries(trx, entries, outcomes, notes);
  });
  return outcomes;
}

/** The delivery log's part of the batch, in the same transaction: request records, and every outcome but "stored" (a stored event is its activity) unless it has notes. */
async function recordDeliveries(trx: Knex.Transaction, entries: BatchEntry[], outcomes: EventOutcome[][], notes: string[][][]): Promise<void> {
  const now = Date.now();
  // In id order, as the outcomes below: a job run twice at once (its worker thought dead) locks its rows in one order.
  await insertDeliveryRecords(trx, entries.flatMap((entry) => entry.delivery?.record ?? []).sort((a, b) => compareText(a.id, b.id)));
  const rows: EventOutcomeRow[] = [];
  for (const [entryIndex, entry] of entries.entries()) {
    const { delivery } = entry;
    if (!delivery) continue;
    if (entry.retried) await clearFailedOutcomes(trx, delivery.id, delivery.indexes);
    entry.events.forEach((event, eventIndex) => {
      const outcome = outcomes[entryIndex][eventIndex];
      const note = noteText(notes[entryIndex][eventIndex]);
      if (outcome !== 'stored' || note !== '') rows.push({ deliveryId: delivery.id, index: delivery.indexes[eventIndex], insertId: event.insertId, outcome, ...(note !== '' && { error: note }) });
    });
  }
  await recordEventOutcomes(trx, rows.sort((a, b) => compareText(a.deliveryId, b.deliveryId) || a.index - b.index), now);
}

/** An event's notes as one text; an update may skip any number of operations, and the log keeps the first ten. */
function noteText(notes: string[]): string {
  const kept = notes.slice(0, 10).join('; ');
  return notes.length > 10 ? `${kept}; and ${notes.length - 10} more` : kept;
}

/**
 * One tenant's events, with the result of writing them one at a time in arrival order: its locks first (records,
 * then domains), then the insert ids already taken, people, companies and activities, and the filter's counters last.
 */
async function writeTenantEvents(trx: Knex.Transaction, tenantId: number, pending: PendingEvent[], outcomes: EventOutcome[][], options: WriteOptions): Promise<void> {
  const settings = await tenantSettings(trx, tenantId);
  const now = Date.now();
  const cutoff = activityCutoff(options.activityRetentionDays ?? 0, now);
  const kept: PendingEvent[] = [];
  const filtered = new Map<string, number>();
  for (const item of pending) {
    if (item.event.kind === undefined && cutoff !== undefined && item.event.date < cutoff) {
      // Its activity would go at the next retention pass, and its insert id with it: a redelivery after that would be
      // stored, and its operations applied, again. Not storing it at all keeps one rule for every delivery of it.
      outcomes[item.entryIndex][item.eventIndex] = 'filtered';
      item.notes.push(`dated ${new Date(item.event.date).toISOString()}, before ACTIVITY_RETENTION_DAYS (${options.activityRetentionDays}): not stored, its properties not applied`);
    } else if (item.event.kind === undefined && !settings.keepsAction(item.event.action)) {
      outcomes[item.entryIndex][item.eventIndex] = 'filtered';
      filtered.set(item.event.action, (filtered.get(item.event.action) ?? 0) + 1);
    } else {
      kept.push(item);
    }
  }
  await lockKeys(trx, tenantId, 'records', recordKeys(kept));
  const fresh = await withoutStoredInsertIds(trx, tenantId, kept, outcomes);
  if (fresh.length > 0) await writeFreshEvents(trx, tenantId, settings, fresh, outcomes, now);
  // Last, after this tenant's locks (tenants go in id order): this row lock is never held while waiting for a lock.
  await countFilteredActions(trx, tenantId, filtered, now);
}

/** The records an event may read or change, as lock keys: an event whose insert id is taken meanwhile must see it. */
function* recordKeys(items: PendingEvent[]): Generator<string> {
  for (const { event } of items) {
    if (event.externalId !== undefined) yield `externalId:${event.externalId}`;
    if (event.email !== undefined) yield `email:${event.email}`;
    yield `insertId:${event.insertId}`;
    if (event.companyExternalId !== undefined) yield `company:${event.companyExternalId}`;
    if (event.assetExternalId !== undefined) yield `asset:${event.assetExternalId}`;
    if (event.projectExternalId !== undefined) yield `project:${event.projectExternalId}`;
  }
}

/** The second round's lock keys: the domains a batch may match or learn, and the people its keys found. */
function* foundKeys(domains: string[], userIds: number[]): Generator<string> {
  for (const domain of domains) yield `domain:${domain}`;
  for (const id of userIds) yield `user:${id}`;
}

/** Events to apply (their insert ids free), in arrival order: each sees what the ones before it did. */
async function writeFreshEvents(trx: Knex.Transaction, tenantId: number, settings: ReadSettings, fresh: PendingEvent[], outcomes: EventOutcome[][], now: number): Promise<void> {
  const externalIds = new Set<string>();
  const emails = new Set<string>();
  for (const { event } of fresh) {
    if (event.externalId !== undefined) externalIds.add(event.externalId);
    if (event.email !== undefined) emails.add(event.email);
  }
  let known = new KnownEndUsers(await loadEndUsers(trx, tenantId, [...externalIds], [...emails]));
  // Every domain an event may match or teach: of the batch's emails, and of the stored emails of its people.
  const domains = [...new Set([...emails, ...known.emails()].flatMap((email) => businessDomain(email) ?? []))];
  // Another batch may have reached one of these people by a key this one did not lock (an identify moving them away
  // from an email this batch names) and committed since the read: read them again, behind the lock on each person.
  if (await lockKeys(trx, tenantId, 'found', foundKeys(domains, known.ids()))) known = new KnownEndUsers(await loadEndUsers(trx, tenantId, [...externalIds], [...emails]));
  const namedCompanies = await findOrCreateCompanies(
    trx,
    tenantId,
    fresh.flatMap(({ event }) => (event.companyExternalId !== undefined ? [{ externalId: event.companyExternalId, name: event.companyName }] : [])),
    settings.autoCreateCompanies,
    now,
  );
  const domainCompanies = await companiesByDomain(trx, tenantId, domains);

  const activities: Array<{ item: PendingEvent; user: KnownEndUser; companyId: number | null }> = [];
  const updates: PropertyUpdate[] = [];
  const learned = new Set<string>();
  for (const item of fresh) {
    const { event } = item;
    const groupCompanyId = event.companyExternalId === undefined ? undefined : namedCompanies.get(event.companyExternalId);
    if (event.companyProperties !== undefined) {
      if (groupCompanyId !== undefined) updates.push({ table: 'companies', id: groupCompanyId, update: event.companyProperties, prefix: 'group_properties.', notes: item.notes, stamp: item.arrival.stamp });
      else item.notes.push(`group_properties: company ${event.companyExternalId} does not exist and the tenant does not create companies (autoCreateCompanies=false); its properties were not applied`);
    }
    if (event.kind === 'groupidentify') {
      if (event.companyExternalId === undefined) item.notes.push(`groups: names no group of the tenant's company group type "${settings.companyGroupType}"; nothing was applied`);
      else if (groupCompanyId === undefined && event.companyProperties === undefined) item.notes.push(`groups: company ${event.companyExternalId} does not exist and the tenant does not create companies (autoCreateCompanies=false); nothing was applied`);
      outcomes[item.entryIndex][item.eventIndex] = groupCompanyId === undefined ? 'filtered' : 'identified';
      continue;
    }
    const identify = event.kind === 'identify';
    const user = await resolveEndUser(trx, tenantId, known, event, { overwrite: identify, now });
    if (event.userProperties !== undefined) updates.push({ table: 'end_users', id: user.id, update: event.userProperties, prefix: 'user_properties.', notes: item.notes, stamp: item.arrival.stamp });
    const companyId = await companyOfEvent(trx, tenantId, event, user, { namedCompanies, domainCompanies, learned }, now);
    if (identify) outcomes[item.entryIndex][item.eventIndex] = 'identified';
    else activities.push({ item, user, companyId });
  }
  await applyPropertyUpdates(trx, updates);
  await rememberApplied(trx, tenantId, fresh.flatMap(({ event }) => (event.kind !== undefined ? [event.insertId] : [])), now);
  await storeActivities(trx, tenantId, activities, now);
}

async function tenantSettings(trx: Knex.Transaction, tenantId: number): Promise<ReadSettings> {
  const stored = await storedSettings(trx, tenantId);
  // A job for a tenant that does not exist cannot succeed on retry: a plain Error is a permanent failure.
  if (stored === undefined) throw new Error(`tenant ${tenantId} does not exist`);
  return readSettings(stored);
}

/**
 * Marks events whose insertId is already stored (or repeated within the batch) as duplicates; returns the rest.
 * Identify events store no activity: theirs are looked up among the identifications applied before, so a
 * redelivered one does not apply its operations ($add) twice.
 */
async function withoutStoredInsertIds(trx: Knex.Transaction, tenantId: number, kept: PendingEvent[], outcomes: EventOutcome[][]): Promise<PendingEvent[]> {
  const insertIdsOf = (updates: boolean) => [...new Set(kept.filter(({ event }) => (event.kind !== undefined) === updates).map(({ event }) => event.insertId))];
  const seenActivities = await storedInsertIds(trx, tenantId, insertIdsOf(false));
  const seenUpdates = await appliedInsertIds(trx, tenantId, insertIdsOf(true));
  const fresh: PendingEvent[] = [];
  for (const item of kept) {
    const seen = item.event.kind === undefined ? seenActivities : seenUpdates;
    const isRepeat = seen.has(item.event.insertId);
    if (isRepeat) outcomes[item.entryIndex][item.eventIndex] = 'duplicate';
    else if (item.event.kind === undefined) outcomes[item.entryIndex][item.eventIndex] = 'stored';
    if (!isRepeat) {
      fresh.push(item);
      seen.add(item.event.insertId);
    }
  }
  return fresh;
}

/**
 * The event's company (identity/companyRules decides it), applied: the user's primary company, and the domain a
 * named company learns, which later events of this batch then see as the database now has it.
 */
async function companyOfEvent(
  trx: Knex.Transaction,
  tenantId: number,
  event: ActivityEvent,
  user: KnownEndUser,
  batch: { namedCompanies: Map<string, number>; domainCompanies: Map<string, number | null>; learned: Set<string> },
  now: number,
): Promise<number | null> {
  const { namedCompanies, domainCompanies, learned } = batch;
  const decision = decideCompany(event.companyExternalId, businessDomain(event.email ?? user.email), user.companyId, { named: namedCompanies, byDomain: domainCompanies });
  const { companyId, learns: domain } = decision;
  if (domain !== undefined && companyId !== null) {
    // One statement per pair and batch, not per event: the pair is stored already when this company is the
    // domain's one claimant, or when an earlier event of this batch added it.
    const pair = `${companyId} ${domain}`;
    if (domainCompanies.get(domain) !== companyId && !learned.has(pair)) {
      await addCompanyDomain(trx, tenantId, companyId, domain, 'learned');
      learned.add(pair);
    }
    domainCompanies.set(domain, domainClaimantAfterLearning(domainCompanies.get(domain), companyId));
  }
  if (decision.primary !== undefined) await assignPrimaryCompany(trx, user, decision.primary, now);
  return companyId;
}

async function storeActivities(
  trx: Knex.Transaction,
  tenantId: number,
  activities: Array<{ item: PendingEvent; user: KnownEndUser; companyId: number | null }>,
  now: number,
): Promise<void> {
  if (activities.length === 0) return;
  const ownerOf = (key: 'assetExternalId' | 'projectExternalId') => {
    const wanted = new Map<string, number | null>();
    for (const { item, companyId } of activities) {
      const externalId = item.event[key];
      if (externalId !== undefined && !wanted.has(externalId)) wanted.set(externalId, companyId);
    }
    return wanted;
  };
  const assets = await findOrCreateOwned(trx, 'assets', tenantId, ownerOf('assetExternalId'), now);
  const projects = await findOrCreateOwned(trx, 'projects', tenantId, ownerOf('projectExternalId'), now);
  await insertActivities(
    trx,
    activities.map(({ item: { event, receivedAt, delivery }, user, companyId }) => ({
      tenantId,
      endUserId: user.id,
      companyId,
      assetId: event.assetExternalId !== undefined ? (assets.get(event.assetExternalId) as number) : null,
      projectId: event.projectExternalId !== undefined ? (projects.get(event.projectExternalId) as number) : null,
      action: event.action,
      date: event.date,
      count: event.count,
      weight: event.weight,
      info: event.info,
      insertId: event.insertId,
      receivedAt,
      storedAt: now,
      deliveryId: delivery?.id ?? null,
      deliveryIndex: delivery?.index ?? null,
    })),
  );
}
