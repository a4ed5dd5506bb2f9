import assert from 'node:assert/strict';
import { aes128RoundKeys, hopFieldKeyMaterial } from '../../../bpf/aes_keys';

describe('bpf/aes_keys', () => {
  it('expands the FIPS-197 appendix A.1 key to the published round-key words', () => {
    const key = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex');
    const w = aes128RoundKeys(key);
    assert.equal(w.length, 44);
    assert.equal(w[4].toString(16), 'a0fafe17');
    assert.equal(w[9].toString(16), '7a96b943');
    assert.equal(w[10].toString(16), '5935807a');
    assert.equal(w[43].toString(16), 'b6630ca6');
  });

  it('gives RFC 4493 K1 for the RFC key', () => {
    const { k1 } = hopFieldKeyMaterial(Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex'));
    assert.equal(Buffer.from(k1).toString('hex'), 'fbeed618357133667c85e08f7236a8de');
  });
});
