import assert from 'node:assert/strict';
import { matches, rejects } from './helpers';

describe('observer/filters: pod', () => {
  const flow = {
    source: { namespace: 'billing', podName: 'api-7f9d' },
    destination: { namespace: 'default', podName: 'db-0' },
    destinationService: { namespace: 'default', name: 'db' },
  };

  it('"ns/" selects a whole namespace and "ns/prefix" a pod name prefix', () => {
    assert.equal(matches({ sourcePod: ['billing/'] }, flow), true);
    assert.equal(matches({ sourcePod: ['billing/api'] }, flow), true);
    assert.equal(matches({ sourcePod: ['billing/api-7f9d'] }, flow), true);
    assert.equal(matches({ sourcePod: ['billing/web'] }, flow), false);
    assert.equal(matches({ sourcePod: ['bill/'] }, flow), false);
  });

  it('without a namespace looks in "default"', () => {
    assert.equal(matches({ destinationPod: ['db'] }, flow), true);
    assert.equal(matches({ sourcePod: ['api'] }, flow), false);
  });

  it('applies the same rules to services', () => {
    assert.equal(matches({ destinationService: ['default/db'] }, flow), true);
    assert.equal(matches({ sourceService: ['default/'] }, flow), false);
  });

  it('refuses a value naming neither namespace nor pod', () => {
    rejects({ sourcePod: [''] }, /source_pod/);
    rejects({ sourcePod: ['/'] }, /source_pod/);
  });
});
