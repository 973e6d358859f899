/**
 * The wording of a request body refused by its schema: the field as a path and the reason in words, as every other
 * refusal of the API, never the validator's own phrasing ("Expected union value", "/settings/0").
 */
import assert from 'node:assert/strict';
import { schemaFailure } from '../src/admin/schemaCheck';
import { CompanyItem, NewTenant, TenantPatch } from '../src/admin/schemas';

describe('openapi bodies: a body that does not fit its schema is refused naming the field and the reason', () => {
  it('names a missing field, an unknown one (with the fields it takes) and the body itself', () => {
    assert.equal(schemaFailure(NewTenant, {}), 'name: missing');
    assert.equal(schemaFailure(NewTenant, { name: 'a', enabled: true }), 'enabled: not a field of a new tenant (it takes name)');
    assert.equal(schemaFailure(NewTenant, [1]), 'body: must be a new tenant (an object), got an array');
    assert.equal(schemaFailure(NewTenant, { name: 'a' }), undefined);
  });

  it('says what a field takes and what it got, down nested objects and arrays', () => {
    assert.equal(schemaFailure(TenantPatch, { enabled: 'yes' }), 'enabled: must be true or false, got a string');
    assert.equal(schemaFailure(TenantPatch, { settings: 'x' }), 'settings: must be an object, got a string');
    assert.equal(schemaFailure(TenantPatch, { settings: { includeActions: 3 } }), 'settings.includeActions: must be a string, true or false, an array of strings or null, got a number');
    assert.equal(schemaFailure(TenantPatch, { settings: { includeActions: ['a', 'b'], email: null } }), undefined);
    assert.equal(schemaFailure(CompanyItem, { externalId: 'c', domains: ['a.example', 2] }, 'item'), 'domains[1]: must be a string, got a number');
    assert.equal(schemaFailure(CompanyItem, 'c', 'item'), 'item: must be a company (an object), got a string');
    assert.equal(schemaFailure(CompanyItem, { externalId: true }, 'item'), 'externalId: must be a string or a number, got a boolean');
  });
});
