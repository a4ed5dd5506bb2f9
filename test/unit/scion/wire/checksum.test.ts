import assert from 'node:assert/strict';
import { addWords, finishChecksum } from '../../../../scion/l4/checksum';
import { computeL4Checksum, decodePacket, l4ChecksumValid } from '../../../../scion/packet';
import { VECTORS } from './vectors';

/** The Internet checksum written out plainly: 16-bit big-endian words, end-around carry, complement. */
function onesComplement(bytes: number[]): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i]! << 8) + (i + 1 < bytes.length ? bytes[i + 1]! : 0);
    if (sum > 0xffff) sum = (sum & 0xffff) + 1;
  }
  return ~sum & 0xffff;
}

/**
 * Checksum of a packet's upper layer computed straight from its bytes and the pseudo-header
 * layout: both ISD-ASes and host addresses as they sit in the address header, the 32-bit
 * upper-layer length, three zero bytes and the protocol number.
 */
function independentChecksum(bytes: Uint8Array, hostBytes: number, l4At: number, proto: number, csAt: number): number {
  const l4 = [...bytes.subarray(l4At)];
  l4[csAt] = 0;
  l4[csAt + 1] = 0;
  const len = l4.length;
  const pseudo = [
    ...bytes.subarray(12, 12 + 16 + hostBytes), // DstISD|DstAS|SrcISD|SrcAS|DstHostAddr|SrcHostAddr
    (len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff, // Upper-Layer Packet Length
    0, 0, 0, proto, // zero | Next Header
  ];
  return onesComplement([...pseudo, ...l4]);
}

describe('scion/l4 checksum', () => {
  it('matches the RFC 1071 worked example', () => {
    // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2, whose complement is 220d.
    const b = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    assert.equal(finishChecksum(addWords(b, 0, b.length, 0)), 0x220d);
    assert.equal(onesComplement([...b]), 0x220d);
  });

  // [vector index, bytes of both host addresses, offset of the upper layer, protocol, checksum offset in it]
  const cases: [number, number, number, number, number][] = [
    [0, 4 + 16, 116 + 8 + 32, 17, 6], // UDP after HBH and E2E headers
    [1, 4 + 4, 36, 202, 2], // SCMP echo request, SVC destination
    [2, 4 + 4, 68, 202, 2], // SCMP external interface down
  ];
  for (const [i, hostBytes, l4At, proto, csAt] of cases) {
    const v = VECTORS[i]!;
    it(`agrees with an independent sum: ${v.name}`, () => {
      const want = independentChecksum(v.bytes, hostBytes, l4At, proto, csAt);
      assert.equal((v.bytes[l4At + csAt]! << 8) | v.bytes[l4At + csAt + 1]!, want, 'checksum written in the vector');
      const p = decodePacket(v.bytes);
      assert.equal(computeL4Checksum(p), want);
      assert.equal(l4ChecksumValid(p), true);
    });

    it(`notices a flipped payload bit: ${v.name}`, () => {
      const bytes = v.bytes.slice();
      bytes[bytes.length - 1]! ^= 0x01;
      const p = decodePacket(bytes);
      assert.equal(l4ChecksumValid(p), false);
      assert.equal(computeL4Checksum(p), independentChecksum(bytes, hostBytes, l4At, proto, csAt));
    });
  }

  it('reports no checksum for an upper layer it does not interpret', () => {
    assert.equal(l4ChecksumValid(decodePacket(VECTORS[3]!.bytes)), null);
  });
});
