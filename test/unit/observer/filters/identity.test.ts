import assert from 'node:assert/strict';
import { matches } from './helpers';

describe('observer/filters: identity', () => {
  const flow = { source: { identity: 20481 }, destination: { identity: 2 } };
  it('matches numeric identities per side', () => {
    assert.equal(matches({ sourceIdentity: [1, 20481] }, flow), true);
    assert.equal(matches({ destinationIdentity: [20481] }, flow), false);
    assert.equal(matches({ destinationIdentity: [2] }, flow), true);
    assert.equal(matches({ sourceIdentity: [20481] }, {}), false);
  });
});
