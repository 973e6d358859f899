/**
 * A random small race: two or three concurrent requests of one to three events over a tiny pool of people,
 * emails, companies, one business domain, an asset, a project and a few insert ids, so that nearly every event
 * touches another (identify events moving emails, adoption, names, domain learning, repeated insert ids, filtered
 * actions). Its allowed outcomes are the model's results over every interleaving, so its result may depend on order.
 */
import { Random } from './seededRandom';

type Json = Record<string, unknown>;

export function smallRace(random: Random, tag: string): Json[][] {
  const externalIds = [`x1-${tag}`, `x2-${tag}`];
  const emails = [`a.${tag}@gmail.com`, `b@${tag}.example`, `c@${tag}.example`];
  const companies = [`c1-${tag}`, `c2-${tag}`];
  const insertIds = [`i1-${tag}`, `i2-${tag}`, `i3-${tag}`, `i4-${tag}`, `i5-${tag}`];
  const maybe = <T>(p: number, value: () => T): T | undefined => (random.chance(p) ? value() : undefined);

  const event = (): Json => {
    const byId = random.chance(0.7);
    const externalId = byId ? random.pick(externalIds) : undefined;
    const email = !byId || random.chance(0.6) ? random.pick(emails) : undefined;
    const company = maybe(0.5, () => random.pick(companies));
    const companyName = company === undefined ? undefined : maybe(0.5, () => `Name ${random.int(3)}`);
    const name = maybe(0.4, () => random.pick(['Ann', 'Bob']));
    if (random.chance(0.2)) {
      // Amplitude's $identify, or a user payload (no event_type) carrying the same.
      const set = { ...(email !== undefined && { email }), ...(name !== undefined && { name }) };
      const payload = random.chance(0.5);
      return {
        ...(!payload && { event_type: '$identify' }),
        ...(externalId !== undefined && { user_id: externalId }),
        user_properties: payload ? set : { $set: set },
        ...(company !== undefined && { groups: { company } }),
        ...(companyName !== undefined && { group_properties: { company: { name: companyName } } }),
      };
    }
    const asset = maybe(0.3, () => `as-${tag}`);
    const project = maybe(0.2, () => `pr-${tag}`);
    // The scenario's tenant drops "Hidden": a filtered event changes nothing, whatever it names.
    const action = random.chance(0.15) ? 'Hidden' : 'Used';
    if (companyName !== undefined || random.chance(0.4)) {
      return {
        event_type: action,
        ...(externalId !== undefined && { user_id: externalId }),
        user_properties: { ...(email !== undefined && { email }), ...(name !== undefined && { name }) },
        ...(company !== undefined && { groups: { company } }),
        ...(companyName !== undefined && { group_properties: { company: { name: companyName } } }),
        ...(asset !== undefined && { assetExternalId: asset }),
        ...(project !== undefined && { projectExternalId: project }),
        insert_id: random.pick(insertIds),
      };
    }
    return {
      ...(externalId !== undefined && { externalId }),
      ...(email !== undefined && { email }),
      ...(name !== undefined && { name }),
      ...(company !== undefined && { companyExternalId: company }),
      ...(asset !== undefined && { assetExternalId: asset }),
      ...(project !== undefined && { projectExternalId: project }),
      action,
      insertId: random.pick(insertIds),
    };
  };

  return Array.from({ length: 2 + (random.chance(0.25) ? 1 : 0) }, () => Array.from({ length: 1 + random.int(3) }, event));
}
