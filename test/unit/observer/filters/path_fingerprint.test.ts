import assert from 'node:assert/strict';
import { matches, rejects } from './helpers';

describe('observer/filters: path_fingerprint', () => {
  const flow = { scionPath: { fingerprint: 'a3f1c0de'.repeat(8) } };
  it('matches hex prefixes, any case', () => {
    assert.equal(matches({ pathFingerprint: ['a3f1'] }, flow), true);
    assert.equal(matches({ pathFingerprint: ['A3F1C0DE'] }, flow), true);
    assert.equal(matches({ pathFingerprint: ['a3f2'] }, flow), false);
    assert.equal(matches({ pathFingerprint: ['a'] }, { scionPath: { fingerprint: '' } }), false);
  });
  it('refuses non-hex prefixes', () => {
    rejects({ pathFingerprint: ['xyz'] }, /path_fingerprint: "xyz"/);
    rejects({ pathFingerprint: ['a'.repeat(65)] }, /path_fingerprint/);
  });
});
