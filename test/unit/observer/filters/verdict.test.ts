import assert from 'node:assert/strict';
import { Verdict } from '../../../../proto/gen/flow/flow';
import { matches } from './helpers';

describe('observer/filters: verdict', () => {
  it('matches any listed verdict', () => {
    assert.equal(matches({ verdict: [Verdict.DROPPED] }, { verdict: Verdict.DROPPED }), true);
    assert.equal(matches({ verdict: [Verdict.FORWARDED, Verdict.AUDIT] }, { verdict: Verdict.DROPPED }), false);
    assert.equal(matches({ verdict: [Verdict.FORWARDED, Verdict.DROPPED] }, { verdict: Verdict.DROPPED }), true);
  });
});
