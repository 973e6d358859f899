/** The company rules, pure: which company an event belongs to, decided without a database. */
import assert from 'node:assert/strict';
import { decideCompany, domainClaimantAfterLearning } from '../src/identity/companyRules';

const lookups = { named: new Map([['acme', 1]]), byDomain: new Map<string, number | null>([['acme.com', 1], ['globex.com', 2], ['shared.com', null]]) };

describe('identity: company rules (no database)', () => {
  it('a named company wins, becomes the primary one and learns the business domain', () => {
    assert.deepEqual(decideCompany('acme', 'globex.com', 7, lookups), { companyId: 1, primary: 1, learns: 'globex.com' });
    assert.deepEqual(decideCompany('acme', undefined, null, lookups), { companyId: 1, primary: 1 });
  });

  it('a named company that does not exist (and is not created) gives no company, and changes nothing', () => {
    assert.deepEqual(decideCompany('initech', 'acme.com', 7, lookups), { companyId: null });
  });

  it('without a name, the one company claiming the domain, else the user\'s own company', () => {
    assert.deepEqual(decideCompany(undefined, 'globex.com', 7, lookups), { companyId: 2, primary: 2 });
    assert.deepEqual(decideCompany(undefined, 'shared.com', 7, lookups), { companyId: 7 }, 'a domain claimed by several matches none');
    assert.deepEqual(decideCompany(undefined, 'unknown.com', null, lookups), { companyId: null });
    assert.deepEqual(decideCompany(undefined, undefined, 7, lookups), { companyId: 7 });
  });

  it('a learned domain belongs to its company alone, or to nobody once two companies claim it', () => {
    assert.deepEqual([domainClaimantAfterLearning(undefined, 1), domainClaimantAfterLearning(1, 1), domainClaimantAfterLearning(2, 1), domainClaimantAfterLearning(null, 1)], [1, 1, null, null]);
  });
});
