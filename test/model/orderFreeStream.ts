/**
 * Randomized streams whose final state does not depend on the order of their events, so the database must equal
 * the reference model's result exactly however requests and workers interleave. They still overlap: shared
 * emails and externalIds, adoption of email-only users, case and whitespace variants, free-mail, admin-given,
 * learned and doubly claimed domains, resends with the same insert id, identify events, filtered actions.
 *
 * What keeps them order-free: each person has one email, one name (or none) and one company (or none); an event
 * naming the person by externalId also carries the email (else an email-only event could make a second user);
 * a person whose events may omit the company is on a domain the admin gave to that company alone; a learned
 * domain's people always name their company; an asset or project is only named by events of one company; a resend
 * is an exact copy.
 */
import { AdminCompany } from './referenceModel';
import { Random } from './seededRandom';

type Json = Record<string, unknown>;

interface Person {
  externalId?: string;
  email?: string;
  name?: string;
  company?: string;
  /** Its events may leave the company out (the admin gave its domain to that company alone). */
  companyOptional: boolean;
}

export interface OrderFreeStream {
  adminCompanies: AdminCompany[];
  /** The requests, each an array of events, in the order they are generated. */
  requests: Json[][];
}

const ACTIONS = ['Clicked button', 'Clicked link', 'Opened report', 'Searched', 'Page Viewed', 'Debug trace', 'Debug click', 'Debug 3'];

/** A variant the receiver reads as the same id or email: surrounding whitespace, and for emails upper case (ids keep their case). */
function variant(random: Random, text: string, caseToo: boolean): string {
  const roll = random.int(6);
  if (roll === 0) return ` ${text}`;
  if (roll === 1) return `${text}  `;
  if (roll === 2 && caseToo) return text.toUpperCase();
  return text;
}

export function orderFreeStream(random: Random, eventCount: number): OrderFreeStream {
  const adminCompanies: AdminCompany[] = [
    { externalId: 'acme', name: 'Acme Inc', domains: ['acme.example'] },
    { externalId: 'Acme', name: 'Acme (other)', domains: ['acme-other.example'] },
    { externalId: 'globex', name: 'Globex', domains: ['shared.example'] },
    { externalId: 'initech', name: 'Initech', domains: ['shared.example', 'initech.example'] },
  ];
  const singleDomains: Array<[string, string]> = [['acme.example', 'acme'], ['acme-other.example', 'Acme'], ['initech.example', 'initech']];
  const learnedDomains = ['hooli.example', 'stark.example'];
  const created = ['c-hooli', 'c-stark', 'C-Hooli', 'c-umbrella', 'c-wayne'];
  const companyNames = new Map<string, string>([['c-hooli', 'Hooli'], ['C-Hooli', 'Hooli (caps)'], ['c-wayne', 'Wayne Enterprises'], ['globex', 'Globex']]);

  const people: Person[] = [];
  for (let i = 0; i < 70; i++) {
    const shape = random.int(10); // 0-5: externalId and email, 6-7: email only, 8-9: externalId only
    const externalId = shape <= 5 || shape >= 8 ? (i % 7 === 3 ? `USER-${i - 1}` : `user-${i}`) : undefined;
    const name = random.chance(0.7) ? `Person ${i}` : undefined;
    if (shape >= 8) {
      people.push({ externalId, name, company: random.chance(0.5) ? random.pick([...created, 'acme', 'globex']) : undefined, companyOptional: false });
      continue;
    }
    const place = random.int(6);
    const local = `p${i}.${random.pick(['ann', 'bob', 'cy'])}`;
    if (place === 0) {
      const [domain, company] = random.pick(singleDomains);
      people.push({ externalId, name, email: `${local}@${domain}`, company, companyOptional: true });
    } else if (place === 1) {
      people.push({ externalId, name, email: `${local}@${learnedDomains[i % 2]}`, company: random.pick(created.slice(0, 3)), companyOptional: false });
    } else if (place === 2) {
      people.push({ externalId, name, email: `${local}@shared.example`, company: random.chance(0.5) ? random.pick(created) : undefined, companyOptional: false });
    } else {
      const domain = random.pick(['gmail.com', 'outlook.com', 'yahoo.com']);
      people.push({ externalId, name, email: `${local}@${domain}`, company: random.chance(0.5) ? random.pick([...created, 'acme']) : undefined, companyOptional: false });
    }
  }

  const assetOf = (company: string | undefined) => `asset-${company ?? 'none'}-${random.int(3)}`;
  const projectOf = (company: string | undefined) => `project-${company ?? 'none'}-${random.int(2)}`;
  const usedInsertIds = new Set<string>();
  const freshInsertId = (n: number) => {
    // Insert ids that differ only by whitespace or case are different events.
    const base = `ev-${random.chance(0.15) && n > 0 ? random.int(n) : n}`;
    for (const candidate of [base, ` ${base}`, `${base} `, base.toUpperCase(), `${base}  `]) {
      if (!usedInsertIds.has(candidate)) {
        usedInsertIds.add(candidate);
        return candidate;
      }
    }
    usedInsertIds.add(`ev-${n}-x`);
    return `ev-${n}-x`;
  };

  const personFields = (person: Person, byEmailOnly: boolean) => ({
    externalId: byEmailOnly ? undefined : person.externalId && variant(random, person.externalId, false),
    email: person.email === undefined ? undefined : variant(random, person.email, true),
  });

  const makeEvent = (n: number): Json => {
    const person = random.pick(people);
    // Email-only events for people with both: they find the person, or make the email-only user it adopts later.
    const byEmailOnly = person.email !== undefined && person.externalId !== undefined && random.chance(0.25);
    const { externalId, email } = personFields(person, byEmailOnly);
    const company = person.company !== undefined && (!person.companyOptional || random.chance(0.5)) ? person.company : undefined;
    const name = person.name !== undefined && random.chance(0.6) ? person.name : undefined;
    const companyName = company !== undefined ? companyNames.get(company) : undefined;
    // By the person's company, named or not: all activities naming one asset or project have one company.
    const asset = random.chance(0.3) ? assetOf(person.company) : undefined;
    const project = random.chance(0.2) ? projectOf(person.company) : undefined;
    const form = random.int(10);
    if (form < 2) {
      // An identify event: no activity, applied every time; Amplitude's $identify or a user payload.
      const set = { ...(email !== undefined && { email }), ...(name !== undefined && { name }) };
      return {
        ...(form === 0 ? { event_type: '$identify' } : {}),
        ...(externalId !== undefined && { user_id: externalId }),
        user_properties: form === 0 ? { $set: set } : set,
        ...(company !== undefined && { groups: { company } }),
      };
    }
    const action = random.pick(ACTIONS);
    const insertId = freshInsertId(n);
    if (form < 6) {
      return {
        ...(externalId !== undefined && { externalId }),
        ...(email !== undefined && { email }),
        ...(name !== undefined && { name }),
        ...(company !== undefined && { companyExternalId: variant(random, company, false) }),
        ...(asset !== undefined && { assetExternalId: variant(random, asset, false) }),
        ...(project !== undefined && { projectExternalId: variant(random, project, false) }),
        action,
        insertId,
        info: { n },
      };
    }
    return {
      event_type: action,
      ...(externalId !== undefined && { user_id: externalId }),
      user_properties: { ...(email !== undefined && { email }), ...(name !== undefined && { name }), plan: 'pro' },
      ...(company !== undefined && { groups: random.chance(0.5) ? { company } : { company: [company, 'ignored-second'] } }),
      ...(companyName !== undefined && { group_properties: { company: random.chance(0.5) ? { name: companyName } : { [company as string]: { name: companyName } } } }),
      ...(asset !== undefined && { assetExternalId: variant(random, asset, false) }),
      ...(project !== undefined && { projectExternalId: variant(random, project, false) }),
      event_properties: { n },
      insert_id: insertId,
    };
  };

  const events: Json[] = [];
  for (let n = 0; n < eventCount; n++) {
    // A resend: the same event again (same insert id), later and usually in another request.
    events.push(events.length > 0 && random.chance(0.05) ? random.pick(events) : makeEvent(n));
  }
  const requests: Json[][] = [];
  for (let start = 0; start < events.length; ) {
    const size = 1 + random.int(random.chance(0.3) ? 60 : 12);
    requests.push(events.slice(start, start + size));
    start += size;
  }
  return { adminCompanies, requests };
}
