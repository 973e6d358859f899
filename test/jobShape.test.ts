/** The worker's check of a queued job's events: the shapes the normalizer makes pass, jobs queued before a field existed too, anything else is refused by name. */
import assert from 'node:assert/strict';
import { eventsProblem } from '../src/process/jobShape';

const activity = { action: 'x', date: 1, count: 1, weight: 1, info: {}, insertId: 'i-1', externalId: 'u' };

describe('job shape: events with properties and group identifications', () => {
  it('takes activities and identifies with or without userProperties and companyProperties (old jobs have neither)', () => {
    assert.equal(eventsProblem([activity]), undefined);
    assert.equal(eventsProblem([{ ...activity, kind: 'identify', userProperties: { $add: { n: 1 } } }]), undefined);
    assert.equal(eventsProblem([{ ...activity, companyExternalId: 'c', companyProperties: { tier: 'gold' } }]), undefined);
  });

  it('takes a group identify that names no person, with or without a company', () => {
    const { externalId: _, ...noOne } = activity;
    assert.equal(eventsProblem([{ ...noOne, kind: 'groupidentify', companyExternalId: 'c', companyProperties: { $set: { tier: 'gold' } } }]), undefined);
    assert.equal(eventsProblem([{ ...noOne, kind: 'groupidentify' }]), undefined);
    assert.equal(eventsProblem([noOne]), 'events[0]: names no one (no externalId, no email)');
  });

  it('refuses an unknown kind and properties that are not objects, naming the field', () => {
    assert.equal(eventsProblem([{ ...activity, kind: 'merge' }]), 'events[0].kind: must be "identify", "groupidentify" or absent');
    assert.equal(eventsProblem([activity, { ...activity, userProperties: ['plan'] }]), 'events[1].userProperties: not an object');
    assert.equal(eventsProblem([{ ...activity, companyProperties: 'gold' }]), 'events[0].companyProperties: not an object');
  });
});
