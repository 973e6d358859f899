/**
 * The state a tenant ends in, keyed by natural keys only (no row ids, no times), so the reference model's result
 * and the database's can be compared as plain data.
 */
export interface UserState {
  externalId: string | null;
  email: string | null;
  name: string | null;
  /** The primary company's externalId. */
  company: string | null;
}

export interface ActivityState {
  /** The owner's key (userKey). */
  user: string;
  company: string | null;
  asset: string | null;
  project: string | null;
}

export interface CanonicalState {
  users: Record<string, UserState>;
  /** By externalId: the name (its externalId until one is given) and the sorted domains. */
  companies: Record<string, { name: string; domains: string[] }>;
  /** By insert id. */
  activities: Record<string, ActivityState>;
  /** By externalId: the owner company's externalId. */
  assets: Record<string, string | null>;
  projects: Record<string, string | null>;
}

const SECTIONS = ['users', 'companies', 'activities', 'assets', 'projects'] as const;

/** A user is known by its externalId, or, without one, by its email. */
export function userKey(user: { externalId: string | null; email: string | null }): string {
  return user.externalId !== null ? `id:${user.externalId}` : `email:${user.email}`;
}

/** JSON with object keys sorted, so equal states serialise equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner) =>
    inner && typeof inner === 'object' && !Array.isArray(inner) ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : inner,
  );
}

/** The part of a state whose keys (and, for users, whose key) pass `keep`: one scenario instance among many in one tenant. */
export function projectState(state: CanonicalState, keep: (key: string) => boolean): CanonicalState {
  const pick = <T>(record: Record<string, T>) => Object.fromEntries(Object.entries(record).filter(([key]) => keep(key)));
  return { users: pick(state.users), companies: pick(state.companies), activities: pick(state.activities), assets: pick(state.assets), projects: pick(state.projects) };
}

/** Each entry that differs between two states, as `section key: expected ... actual ...` lines (at most `limit`). */
export function diffStates(expected: CanonicalState, actual: CanonicalState, limit = 15): string[] {
  const lines: string[] = [];
  for (const section of SECTIONS) {
    const want = expected[section] as Record<string, unknown>;
    const got = actual[section] as Record<string, unknown>;
    for (const key of new Set([...Object.keys(want), ...Object.keys(got)])) {
      const a = key in want ? canonicalJson(want[key]) : '(none)';
      const b = key in got ? canonicalJson(got[key]) : '(none)';
      if (a !== b) lines.push(`${section} ${JSON.stringify(key)}: expected ${a}, got ${b}`);
    }
  }
  return lines.length > limit ? [...lines.slice(0, limit), `... and ${lines.length - limit} more`] : lines;
}
