/**
 * Who an event belongs to, as pure rules over the users already known (per tenant; emails are compared
 * trimmed and lower-cased, which the normalizer already did):
 *  1. externalId given: the user with that externalId; else the user with that email and no externalId
 *     (it adopts the externalId); else a new user.
 *  2. only an email: the user with that email; else a new user.
 * A found user gains the fields it lacked (email, name).
 */
import type { EndUserRecord } from '../store/endUsers';

export type KnownEndUser = EndUserRecord;

export interface PersonRef {
  externalId?: string;
  email?: string;
  name?: string;
}

export type EndUserChanges = Partial<Pick<KnownEndUser, 'externalId' | 'email' | 'name'>>;

export type EndUserDecision =
  | { kind: 'existing'; user: KnownEndUser; changes: EndUserChanges }
  | { kind: 'new'; fields: { externalId: string | null; email: string | null; name: string | null } };

/** The users a batch may touch, indexed the two ways the rules look them up. */
export class KnownEndUsers {
  private readonly byExternalId = new Map<string, KnownEndUser>();
  private readonly byEmail = new Map<string, KnownEndUser[]>();
  /** The email each user is indexed under: the user object is changed in place, so its old email is gone by the time it is remembered again. */
  private readonly indexedEmail = new Map<number, string>();
  private readonly knownIds = new Set<number>();

  constructor(users: Iterable<KnownEndUser> = []) {
    for (const user of users) this.remember(user);
  }

  /** Indexes a new or changed user; an email it no longer has stops finding it, as it would in the table. */
  remember(user: KnownEndUser): void {
    this.knownIds.add(user.id);
    if (user.externalId !== null) this.byExternalId.set(user.externalId, user);
    const previous = this.indexedEmail.get(user.id);
    if (previous !== undefined && previous !== user.email) {
      const left = this.withEmail(previous).filter((other) => other.id !== user.id);
      if (left.length > 0) this.byEmail.set(previous, left);
      else this.byEmail.delete(previous);
      this.indexedEmail.delete(user.id);
    }
    if (user.email !== null) {
      const sameEmail = this.withEmail(user.email).filter((other) => other.id !== user.id);
      sameEmail.push(user);
      sameEmail.sort((a, b) => a.id - b.id);
      this.byEmail.set(user.email, sameEmail);
      this.indexedEmail.set(user.id, user.email);
    }
  }

  withExternalId(externalId: string): KnownEndUser | undefined {
    return this.byExternalId.get(externalId);
  }

  /** Ids of the known users. */
  ids(): number[] {
    return [...this.knownIds];
  }

  /** Every email a known user has. */
  emails(): string[] {
    return [...this.byEmail.keys()];
  }

  /** Users with that email, oldest first. */
  withEmail(email: string): KnownEndUser[] {
    return this.byEmail.get(email) ?? [];
  }
}

export function decideEndUser(known: KnownEndUsers, person: PersonRef): EndUserDecision {
  let user: KnownEndUser | undefined;
  const changes: EndUserChanges = {};
  if (person.externalId !== undefined) {
    user = known.withExternalId(person.externalId);
    if (!user && person.email !== undefined) {
      user = known.withEmail(person.email).find((candidate) => candidate.externalId === null);
      if (user) changes.externalId = person.externalId;
    }
  } else if (person.email !== undefined) {
    user = known.withEmail(person.email)[0];
  }
  if (!user) {
    return { kind: 'new', fields: { externalId: person.externalId ?? null, email: person.email ?? null, name: person.name ?? null } };
  }
  if (user.email === null && person.email !== undefined) changes.email = person.email;
  if (user.name === null && person.name !== undefined) changes.name = person.name;
  return { kind: 'existing', user, changes };
}

/**
 * What an identify event changes of a found user: what it lacked, and also the name and email the event gives. Only
 * a user with an externalId (or gaining one now) may change email: for the others the email is who they are.
 */
export function identifyChanges(user: KnownEndUser, person: PersonRef, lacking: EndUserChanges): EndUserChanges {
  const changes = { ...lacking };
  if (person.email !== undefined && person.email !== user.email && (user.externalId !== null || changes.externalId !== undefined)) changes.email = person.email;
  if (person.name !== undefined && person.name !== user.name) changes.name = person.name;
  return changes;
}
