/**
 * The reference model: a plain interpreter of the README's rules (who an event belongs to, which company, identify
 * events, action filters, insert ids, assets and projects) plus the lead's decisions for issue 14 (serial
 * semantics, first name wins for companies, a domain claimed twice matches neither). It processes one tenant's
 * accepted events one at a time, in the order given, and knows nothing of src/.
 */
import { CanonicalState, userKey } from './canonicalState';
import { ModelEvent } from './modelEvent';

export interface ModelSettings {
  autoCreateCompanies: boolean;
  includeActions: string[];
  excludeActions: string[];
}

export const DEFAULT_SETTINGS: ModelSettings = { autoCreateCompanies: true, includeActions: [], excludeActions: [] };

/** Companies the admin API gave before the events: externalId, name, domains. */
export interface AdminCompany {
  externalId: string;
  name?: string;
  domains: string[];
}

/** The free-mail domains the README names; the streams use no others. */
export const FREE_MAIL_DOMAINS = new Set(['gmail.com', 'outlook.com', 'hotmail.com', 'yahoo.com', 'icloud.com', 'gmx.de']);

interface User {
  externalId: string | null;
  email: string | null;
  name: string | null;
  company: string | null;
}

interface Company {
  name: string | null;
  domains: Set<string>;
}

function matchesPattern(action: string, pattern: string): boolean {
  const escaped = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`).test(action);
}

/** Whether the tenant's action filters drop this event (identify events are never filtered). */
export function isFiltered(event: ModelEvent, settings: ModelSettings): boolean {
  if (event.identify) return false;
  if (settings.includeActions.length > 0 && !settings.includeActions.some((pattern) => matchesPattern(event.action, pattern))) return true;
  return settings.excludeActions.some((pattern) => matchesPattern(event.action, pattern));
}

function businessDomain(email: string | null | undefined): string | undefined {
  const domain = email?.split('@')[1];
  return domain && !FREE_MAIL_DOMAINS.has(domain) ? domain : undefined;
}

/** The insert ids that must end up stored once each: those of accepted, unfiltered, non-identify events, whatever the order. */
export function storedInsertIds(events: ModelEvent[], settings: ModelSettings): Set<string> {
  return new Set(events.filter((event) => !event.identify && !isFiltered(event, settings)).map((event) => event.insertId as string));
}

/** Runs the events one at a time, in order, after the admin's companies; returns the tenant's final state. */
export function runModel(events: ModelEvent[], settings: ModelSettings, adminCompanies: AdminCompany[] = []): CanonicalState {
  const users: User[] = []; // in creation order: "the end user with that email" is the oldest one
  const companies = new Map<string, Company>();
  const activities = new Map<string, { user: User; company: string | null; asset: string | null; project: string | null }>();
  const assets = new Map<string, string | null>();
  const projects = new Map<string, string | null>();

  for (const given of adminCompanies) {
    const company = companies.get(given.externalId) ?? { name: null, domains: new Set<string>() };
    if (given.name !== undefined) company.name = given.name;
    given.domains.forEach((domain) => company.domains.add(domain));
    companies.set(given.externalId, company);
  }

  const findUser = (event: ModelEvent): User | undefined => {
    if (event.externalId !== undefined) {
      const byId = users.find((user) => user.externalId === event.externalId);
      if (byId) return byId;
      const adopted = event.email === undefined ? undefined : users.find((user) => user.externalId === null && user.email === event.email);
      if (adopted) adopted.externalId = event.externalId;
      return adopted;
    }
    return users.find((user) => user.email === event.email);
  };

  const companyOf = (event: ModelEvent, user: User): { company: string | null; found: boolean } => {
    const personEmail = event.email ?? user.email;
    if (event.company) {
      let company = companies.get(event.company.externalId);
      if (!company) {
        if (!settings.autoCreateCompanies) return { company: null, found: false };
        company = { name: null, domains: new Set() };
        companies.set(event.company.externalId, company);
      }
      if (company.name === null && event.company.name !== undefined) company.name = event.company.name;
      const learned = businessDomain(personEmail);
      if (learned) company.domains.add(learned);
      return { company: event.company.externalId, found: true };
    }
    const domain = businessDomain(personEmail);
    const claimants = domain === undefined ? [] : [...companies].filter(([, company]) => company.domains.has(domain));
    if (claimants.length === 1) return { company: claimants[0][0], found: true };
    return { company: user.company, found: false };
  };

  for (const event of events) {
    if (isFiltered(event, settings)) continue;
    if (!event.identify && activities.has(event.insertId as string)) continue;
    let user = findUser(event);
    if (!user) {
      user = { externalId: event.externalId ?? null, email: event.email ?? null, name: event.name ?? null, company: null };
      users.push(user);
    } else if (event.identify) {
      if (event.email !== undefined) user.email = event.email;
      if (event.name !== undefined) user.name = event.name;
    } else {
      user.email ??= event.email ?? null;
      user.name ??= event.name ?? null;
    }
    const { company, found } = companyOf(event, user);
    if (found && user.company === null) user.company = company;
    if (event.identify) continue;
    if (event.asset !== undefined && !assets.has(event.asset)) assets.set(event.asset, company);
    if (event.project !== undefined && !projects.has(event.project)) projects.set(event.project, company);
    activities.set(event.insertId as string, { user, company, asset: event.asset ?? null, project: event.project ?? null });
  }

  return {
    users: Object.fromEntries(users.map((user) => [userKey(user), { ...user }])),
    companies: Object.fromEntries([...companies].map(([externalId, company]) => [externalId, { name: company.name ?? externalId, domains: [...company.domains].sort() }])),
    activities: Object.fromEntries([...activities].map(([insertId, activity]) => [insertId, { ...activity, user: userKey(activity.user) }])),
    assets: Object.fromEntries(assets),
    projects: Object.fromEntries(projects),
  };
}
