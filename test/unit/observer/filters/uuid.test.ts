import assert from 'node:assert/strict';
import { matches } from './helpers';

describe('observer/filters: uuid', () => {
  it('matches exact flow identifiers', () => {
    const id = '0f4c7c4e-3b8e-4c55-9a57-5b1f0d6a8c01';
    assert.equal(matches({ uuid: [id] }, { uuid: id }), true);
    assert.equal(matches({ uuid: [id.slice(0, 8)] }, { uuid: id }), false);
  });
});
