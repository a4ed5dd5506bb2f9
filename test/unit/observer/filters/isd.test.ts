import assert from 'node:assert/strict';
import { matches, rejects } from './helpers';

describe('observer/filters: isd', () => {
  const flow = { scionPath: { hops: [{ isdAs: '1-ff00:0:110' }, { isdAs: '2-ff00:0:210' }] } };
  it('matches when some hop lies in a listed ISD', () => {
    assert.equal(matches({ throughIsd: [2] }, flow), true);
    assert.equal(matches({ throughIsd: [3, 4] }, flow), false);
    assert.equal(matches({ throughIsd: [1] }, {}), false);
  });
  it('refuses ISD 0 and values beyond 16 bits', () => {
    rejects({ throughIsd: [0] }, /through_isd: invalid ISD 0/);
    rejects({ throughIsd: [65536] }, /through_isd/);
  });
});
