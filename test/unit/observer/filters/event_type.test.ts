import assert from 'node:assert/strict';
import { matches } from './helpers';

describe('observer/filters: event_type', () => {
  // Cilium monitor types: 1 = drop, 4 = trace; trace sub-type 0 = to-endpoint.
  const trace = { eventType: { type: 4, subType: 0 } };

  it('matches the type, and the sub-type only when asked', () => {
    assert.equal(matches({ eventType: [{ type: 4 }] }, trace), true);
    assert.equal(matches({ eventType: [{ type: 1 }] }, trace), false);
    assert.equal(matches({ eventType: [{ type: 4, matchSubType: true, subType: 0 }] }, trace), true);
    assert.equal(matches({ eventType: [{ type: 4, matchSubType: true, subType: 5 }] }, trace), false);
    assert.equal(matches({ eventType: [{ type: 4, subType: 5 }] }, trace), true);
    assert.equal(matches({ eventType: [{ type: 1 }, { type: 4 }] }, trace), true);
    assert.equal(matches({ eventType: [{ type: 0 }] }, {}), false);
  });
});
