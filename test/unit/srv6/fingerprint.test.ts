import assert from 'node:assert/strict';
import { segmentsFingerprint, srhFingerprint } from '../../../srv6/fingerprint';
import { parseSid } from '../../../srv6/sid';

describe('srv6/fingerprint', () => {
  const travel = ['fc00:0:1::1', 'fc00:0:4::1', 'fc00:0:201::100'].map(parseSid);

  it('is SHA-256 hex over the segments in travel order (reference: Python hashlib)', () => {
    assert.equal(segmentsFingerprint(travel), 'a7f92b5b476f6511e3353b8b78d36e36238f6e79cf2a439722cea9a9264698de');
  });

  it('reads an SRH in reverse, so SRH order and travel order give the same fingerprint', () => {
    assert.equal(srhFingerprint({ segments: [...travel].reverse() }), segmentsFingerprint(travel));
    assert.notEqual(srhFingerprint({ segments: travel }), segmentsFingerprint(travel));
  });

  it('refuses a segment that is not 16 bytes', () => {
    assert.throws(() => segmentsFingerprint([new Uint8Array(15)]), { code: 'BAD_SID' });
  });
});
