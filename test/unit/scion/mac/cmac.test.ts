import assert from 'node:assert/strict';
import { aesCmac, Cmac, cmacSubkeys } from '../../../../scion/mac/cmac';
import { ScionError } from '../../../../scion/errors';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// RFC 4493 section 4, "Test Vectors".
const K = hex('2b7e1516 28aed2a6 abf71588 09cf4f3c');
const M64 = hex(
  '6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51' +
    '30c81c46 a35ce411 e5fbc119 1a0a52ef f69f2445 df4f9b17 ad2b417b e66c3710',
);

describe('AES-CMAC (RFC 4493)', () => {
  it('derives the subkeys K1 and K2 of the RFC', () => {
    const { k1, k2 } = cmacSubkeys(K);
    assert.equal(toHex(k1), 'fbeed618357133667c85e08f7236a8de');
    assert.equal(toHex(k2), 'f7ddac306ae266ccf90bc11ee46d513b');
  });

  const vectors: [number, string][] = [
    [0, 'bb1d6929e95937287fa37d129b756746'],
    [16, '070a16b46b4d4144f79bdd9dd04a287c'],
    [40, 'dfa66747de9ae63030ca32611497c827'],
    [64, '51f0bebf7e3b9d92fc49741779363cfe'],
  ];
  for (const [len, tag] of vectors) {
    it(`matches example with a ${len}-byte message`, () => {
      assert.equal(toHex(aesCmac(K, M64.subarray(0, len))), tag);
    });
  }

  it('gives the same tags when one keyed instance is reused across messages', () => {
    const mac = new Cmac(K);
    const tags = vectors.map(([len]) => toHex(mac.compute(M64.subarray(0, len))));
    assert.deepEqual(tags, vectors.map(([, t]) => t));
    assert.equal(toHex(mac.compute(M64.subarray(0, 40))), vectors[2][1]);
  });

  it('does not alter the message it is given', () => {
    const msg = M64.slice(0, 40);
    aesCmac(K, msg);
    assert.deepEqual(msg, M64.subarray(0, 40));
  });

  it('rejects keys that are not AES key sizes', () => {
    assert.throws(() => aesCmac(new Uint8Array(15), new Uint8Array()), (e: unknown) => e instanceof ScionError && e.code === 'BAD_ARGUMENT');
    assert.throws(() => cmacSubkeys(new Uint8Array(0)), ScionError);
  });
});
