import assert from 'node:assert/strict';
import { ScionError } from '../../../../scion/errors';
import { parseIA } from '../../../../scion/isdas';
import { pathFingerprint } from '../../../../scion/path/fingerprint';

describe('path fingerprint', () => {
  // Expected digests computed outside this code base:
  //   printf '<hex>' | xxd -r -p | sha256sum
  // over the big-endian 64-bit ISD-AS then 64-bit interface ID of each interface.
  it('hashes one interface as SHA-256 of 8-byte IA || 8-byte interface ID', () => {
    // 0001ff0000000110 0000000000000001
    assert.equal(
      pathFingerprint([{ ia: parseIA('1-ff00:0:110'), ifid: 1 }]),
      '78b4653c480d4b4bd0b023362d005964bab8016e6db19475f97c3f3476cd60a9',
    );
  });

  it('hashes the interface sequence in order', () => {
    // 0001ff0000000110 0000000000000001 0001ff0000000111 0000000000000029 0002ff0000000222 0000000000000010
    const interfaces = [
      { ia: parseIA('1-ff00:0:110'), ifid: 1 },
      { ia: parseIA('1-ff00:0:111'), ifid: 41 },
      { ia: parseIA('2-ff00:0:222'), ifid: 16 },
    ];
    const fp = pathFingerprint(interfaces);
    assert.equal(fp, 'fe75ec687a286ede88c1fe16ba300caff8fbbe918a9733f6099a97e87091091e');
    assert.match(fp, /^[0-9a-f]{64}$/);
    assert.notEqual(pathFingerprint([...interfaces].reverse()), fp);
  });

  it('is empty for a path without interface metadata, as snet returns', () => {
    assert.equal(pathFingerprint([]), '');
  });

  it('rejects values that do not fit 64 bits', () => {
    const bad = (e: unknown): boolean => e instanceof ScionError && e.code === 'BAD_ARGUMENT';
    assert.throws(() => pathFingerprint([{ ia: 1n << 64n, ifid: 1 }]), bad);
    assert.throws(() => pathFingerprint([{ ia: -1n, ifid: 1 }]), bad);
    assert.throws(() => pathFingerprint([{ ia: 1n, ifid: -1 }]), bad);
    assert.throws(() => pathFingerprint([{ ia: 1n, ifid: 1.5 }]), bad);
  });
});
