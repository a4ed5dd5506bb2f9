import assert from 'node:assert/strict';
import { decodeShim, encodeShim, SHIM_INNER_IPV4 } from '../../../scion/shim';

describe('scion/shim', () => {
  it('lays out version 1, inner protocol, two reserved bytes and the identity big-endian, then the packet', () => {
    const b = encodeShim({ innerProto: SHIM_INNER_IPV4, identity: 0x01020304 }, Uint8Array.of(0x45, 9));
    assert.deepEqual(Array.from(b), [0x10, 4, 0, 0, 1, 2, 3, 4, 0x45, 9]);
    assert.deepEqual(decodeShim(b), { shim: { innerProto: 4, identity: 0x01020304 }, inner: Uint8Array.of(0x45, 9) });
    assert.equal(decodeShim(encodeShim({ innerProto: 4, identity: 0xffffffff }, new Uint8Array(0))).shim.identity, 0xffffffff);
  });

  it('refuses another version, reserved bits set, a short payload and identities that are no uint32', () => {
    const ok = encodeShim({ innerProto: 4, identity: 1 }, new Uint8Array(0));
    for (const [at, v, code] of [[0, 0x20, 'BAD_L4'], [0, 0x11, 'BAD_L4'], [2, 1, 'BAD_L4'], [3, 1, 'BAD_L4']] as const) {
      const b = new Uint8Array(ok);
      b[at] = v;
      assert.throws(() => decodeShim(b), { code });
    }
    assert.throws(() => decodeShim(ok.subarray(0, 7)), { code: 'TRUNCATED' });
    for (const identity of [-1, 2 ** 32, 1.5]) assert.throws(() => encodeShim({ innerProto: 4, identity }, new Uint8Array(0)), { code: 'BAD_ARGUMENT' });
    assert.throws(() => encodeShim({ innerProto: 256, identity: 1 }, new Uint8Array(0)), { code: 'BAD_ARGUMENT' });
  });
});
