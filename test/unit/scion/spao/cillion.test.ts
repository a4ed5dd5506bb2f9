import assert from 'node:assert/strict';
import { parseIA } from '../../../../scion/isdas';
import { encodePacket, type ScionPacket } from '../../../../scion/packet';
import { encodeShim, PROTO_CILLION_SHIM, SHIM_INNER_IPV4 } from '../../../../scion/shim';
import { CILLION_SPI, cillionSpaoOption, cillionTagValid, sealCillion } from '../../../../scion/spao/cillion';
import { SpaoError } from '../../../../scion/spao/errors';
import { locateSpao } from '../../../../scion/spao/locate';

const KEY = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const INNER = Uint8Array.from([0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 164, 0, 5, 10, 165, 0, 7]);

function packet(over: Partial<ScionPacket> = {}): ScionPacket {
  return {
    common: { version: 0, trafficClass: 0, flowId: 7, nextHdr: 0, hdrLen: 0, payloadLen: 0, pathType: 'SCION' },
    dstIA: parseIA('65-2:0:20'),
    srcIA: parseIA('64-2:0:20'),
    dst: { kind: 'IPv4', bytes: Uint8Array.from([10, 165, 0, 7]) },
    src: { kind: 'IPv4', bytes: Uint8Array.from([10, 164, 0, 5]) },
    path: {
      type: 'SCION',
      meta: { currInf: 0, currHf: 1, segLens: [2, 0, 0] },
      infoFields: [{ consDir: true, peer: false, segId: 0x1234, timestamp: 1_700_000_000 }],
      hopFields: [0, 1].map((i) => ({ ingressAlert: false, egressAlert: false, expTime: 63, consIngress: i, consEgress: i + 1, mac: new Uint8Array(6).fill(i) })),
    },
    extensions: [{ kind: 'E2E', options: [cillionSpaoOption(1_000_000_000n, 1_500_000_000n)] }],
    l4: { kind: 'Raw', nextHdr: PROTO_CILLION_SHIM, payload: encodeShim({ innerProto: SHIM_INNER_IPV4, identity: 0x10100 }, INNER) },
    ...over,
  };
}

const sealed = (p: ScionPacket): Uint8Array => sealCillion(encodePacket(p), KEY);

describe('scion/spao/cillion', () => {
  it('seals with SPI 0x00434c01, AES-CMAC and ns since the epoch began, and verifies', () => {
    const opt = cillionSpaoOption(1_000_000_000n, 1_500_000_000n);
    assert.deepEqual([opt.spi, opt.algorithm, opt.timestampSeq], [CILLION_SPI, 0, 500_000_000]);
    assert.equal(cillionTagValid(sealed(packet()), KEY), true);
    assert.equal(cillionTagValid(sealed(packet()), new Uint8Array(16)), false);
  });

  it('covers the identity in the shim, the inner packet and both hosts (a non-DRKey SPI binds no address)', () => {
    const b = sealed(packet());
    const payloadAt = b.length - 8 - INNER.length;
    for (const [what, at] of [['identity', payloadAt + 7], ['inner packet', b.length - 1], ['destination host', 28 + 3], ['source host', 32 + 3], ['source ISD-AS', 20 + 7]] as const) {
      const t = new Uint8Array(b);
      t[at] ^= 1;
      assert.equal(cillionTagValid(t, KEY), false, what);
    }
  });

  it('leaves out what routers change: CurrHF and SegID', () => {
    const b = sealed(packet());
    const p = packet();
    const path = p.path as Extract<ScionPacket['path'], { type: 'SCION' }>;
    const moved = encodePacket({ ...p, path: { ...path, meta: { ...path.meta, currHf: 0 }, infoFields: [{ ...path.infoFields[0], segId: 0x9999 }] } });
    assert.notDeepEqual(moved.subarray(0, 60), b.subarray(0, 60));
    const at = locateSpao(b)!.dataAt + 12;
    moved.set(b.subarray(at, at + 16), at);
    assert.equal(cillionTagValid(moved, KEY), true);
  });

  it("refuses a packet whose SPAO is not the mesh's or whose upper layer is not the shim", () => {
    const other = packet({ extensions: [{ kind: 'E2E', options: [{ ...cillionSpaoOption(0n, 1n), spi: 7 }] }] });
    assert.throws(() => cillionTagValid(sealCillion(encodePacket(other), KEY), KEY), SpaoError);
    assert.throws(() => cillionSpaoOption(10n, 5n), /epoch start/);
  });
});
