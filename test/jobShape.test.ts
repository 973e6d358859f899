/** The worker's check of a queued job's events: the shapes the normalizer makes pass, jobs queued before a field existed too, anything else is refused by name. */
import assert from 'node:assert/strict';
import { envelopeProblem, eventsProblem } from '../src/process/jobShape';
import type { IngestJob } from '../src/queue/ingestQueue';

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

describe('job shape: the delivery link', () => {
  const job = (id: string) => ({ tenantId: 1, receivedAt: 1, events: [activity], delivery: { id, indexes: [0] } }) as IngestJob;

  it('takes a delivery id as the receiver makes them, and jobs without one (queued before the delivery log)', () => {
    assert.equal(envelopeProblem(job('019acd2e-7b10-7000-8a1b-2c3d4e5f6a7b')), undefined);
    assert.equal(envelopeProblem({ tenantId: 1, receivedAt: 1, events: [activity] } as IngestJob), undefined);
  });

  it('refuses a delivery id that is not a UUID: it orders property updates, and a forged one must not outrank every request', () => {
    assert.equal(envelopeProblem(job('zzzzzzzz')), 'delivery.id: not a delivery id (a UUID in lower case)');
    assert.equal(envelopeProblem(job('019ACD2E-7B10-7000-8A1B-2C3D4E5F6A7B')), 'delivery.id: not a delivery id (a UUID in lower case)');
  });
});
