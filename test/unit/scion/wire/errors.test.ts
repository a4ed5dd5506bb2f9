import assert from 'node:assert/strict';
import { ScionError, type ScionErrorCode } from '../../../../scion/errors';
import { decodePacket, encodePacket, type ScionPacket } from '../../../../scion/packet';
import { VECTORS } from './vectors';

const [scionUdp, emptyEcho, oneHop] = VECTORS.map((v) => v.bytes) as [Uint8Array, Uint8Array, Uint8Array];
// Offsets inside the SCION/UDP vector.
const PATH_AT = 48;
const HBH_AT = 116;
const E2E_AT = 124;
const UDP_AT = 156;

function edit(bytes: Uint8Array, changes: Record<number, number>): Uint8Array {
  const b = bytes.slice();
  for (const [at, value] of Object.entries(changes)) b[Number(at)] = value;
  return b;
}

function throwsScion(fn: () => unknown, code: ScionErrorCode, offset: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ScionError, `not a ScionError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.offset, offset, e.message);
    return true;
  });
}

describe('scion/packet: every error code, with its offset', () => {
  it('TRUNCATED: shorter than the common header, the address header, HdrLen or PayloadLen', () => {
    throwsScion(() => decodePacket(new Uint8Array(0)), 'TRUNCATED', 0);
    throwsScion(() => decodePacket(scionUdp.subarray(0, 11)), 'TRUNCATED', 11);
    throwsScion(() => decodePacket(scionUdp.subarray(0, 40)), 'TRUNCATED', 40);
    throwsScion(() => decodePacket(scionUdp.subarray(0, 100)), 'TRUNCATED', 100);
    throwsScion(() => decodePacket(scionUdp.subarray(0, scionUdp.length - 1)), 'TRUNCATED', scionUdp.length - 1);
  });

  it('BAD_VERSION: version nibble other than 0', () => {
    throwsScion(() => decodePacket(edit(scionUdp, { 0: 0x1b })), 'BAD_VERSION', 0);
  });

  it('BAD_HDR_LEN: HdrLen shorter than the address header or disagreeing with the path', () => {
    throwsScion(() => decodePacket(edit(scionUdp, { 5: 11 })), 'BAD_HDR_LEN', 5);
    // 4 bytes less than the SegLens need; the path starts right after the address header.
    throwsScion(() => decodePacket(edit(scionUdp, { 5: 28 })), 'BAD_HDR_LEN', PATH_AT);
    // An empty path with 4 bytes of room, and a one-hop path with 4 bytes missing.
    throwsScion(() => decodePacket(edit(emptyEcho, { 5: 10, 7: 8 })), 'BAD_HDR_LEN', 36);
    throwsScion(() => decodePacket(edit(oneHop, { 5: 16, 7: 28 })), 'BAD_HDR_LEN', 36);
  });

  it('BAD_PAYLOAD_LEN: bytes beyond PayloadLen', () => {
    const longer = new Uint8Array(scionUdp.length + 1);
    longer.set(scionUdp);
    throwsScion(() => decodePacket(longer), 'BAD_PAYLOAD_LEN', 6);
  });

  it('BAD_PATH_TYPE: COLIBRI and beyond', () => {
    throwsScion(() => decodePacket(edit(emptyEcho, { 8: 4 })), 'BAD_PATH_TYPE', 8);
  });

  it('BAD_PATH: CurrINF off the segment of CurrHF, CurrHF past the end, a skipped segment, too many hops', () => {
    throwsScion(() => decodePacket(edit(scionUdp, { [PATH_AT]: 0x02 })), 'BAD_PATH', PATH_AT);
    throwsScion(() => decodePacket(edit(scionUdp, { [PATH_AT]: 0x84 })), 'BAD_PATH', PATH_AT);
    // Seg0Len 0, Seg1Len 2, Seg2Len 2.
    throwsScion(() => decodePacket(edit(scionUdp, { [PATH_AT + 2]: 0x00, [PATH_AT + 3]: 0x82 })), 'BAD_PATH', PATH_AT);
    // Seg0Len 63, Seg1Len 2: 65 hops.
    throwsScion(() => decodePacket(edit(scionUdp, { [PATH_AT + 2]: 0x3f, [PATH_AT + 3]: 0x80 })), 'BAD_PATH', PATH_AT);
  });

  it('BAD_EXTENSION: ExtLen past the payload, an option past its header, a repeated header', () => {
    throwsScion(() => decodePacket(edit(scionUdp, { [HBH_AT + 1]: 40 })), 'BAD_EXTENSION', HBH_AT + 1);
    // The PadN at the end of the HBH header claims 5 data bytes.
    throwsScion(() => decodePacket(edit(scionUdp, { [HBH_AT + 7]: 5 })), 'BAD_EXTENSION', HBH_AT + 7);
    // The SPAO claims 10 data bytes, fewer than its fixed fields.
    throwsScion(() => decodePacket(edit(scionUdp, { [E2E_AT + 3]: 10 })), 'BAD_EXTENSION', E2E_AT + 3);
    // The E2E header names another HBH header after it.
    throwsScion(() => decodePacket(edit(scionUdp, { [E2E_AT]: 200 })), 'BAD_EXTENSION', E2E_AT);
  });

  it('BAD_L4: UDP length disagreeing with the payload, SCMP too short for its type', () => {
    throwsScion(() => decodePacket(edit(scionUdp, { [UDP_AT + 5]: 14 })), 'BAD_L4', UDP_AT + 4);
    // Echo Request with PayloadLen 2: not even the SCMP header.
    throwsScion(() => decodePacket(edit(emptyEcho, { 7: 2 }).subarray(0, 38)), 'BAD_L4', 36);
    // External Interface Down cut to 12 bytes of its 16-byte info block.
    throwsScion(() => decodePacket(edit(oneHop, { 7: 16 }).subarray(0, 68 + 16)), 'BAD_L4', 72);
  });

  it('BAD_ADDR: encoding an address with a length its type does not have', () => {
    const p = decodePacket(emptyEcho);
    throwsScion(() => encodePacket({ ...p, src: { kind: 'IPv4', bytes: new Uint8Array(3) } }), 'BAD_ADDR', -1);
    throwsScion(() => encodePacket({ ...p, src: { kind: 'Raw', addrType: 2, bytes: new Uint8Array(6) } }), 'BAD_ADDR', -1);
    // Type 0 with 4 bytes is IPv4; as a raw address it would not come back the same.
    throwsScion(() => encodePacket({ ...p, src: { kind: 'Raw', addrType: 0, bytes: new Uint8Array(4) } }), 'BAD_ADDR', -1);
  });

  it('BAD_ARGUMENT: values the encoder cannot represent, and non-bytes to decode', () => {
    const p = decodePacket(scionUdp);
    const bad: ((p: ScionPacket) => unknown)[] = [
      (q) => ({ ...q, common: { ...q.common, flowId: 1 << 20 } }),
      (q) => ({ ...q, common: { ...q.common, version: 1 } }),
      (q) => ({ ...q, dstIA: -1n }),
      (q) => ({ ...q, extensions: [...q.extensions].reverse() }),
      (q) => ({ ...q, extensions: [{ kind: 'HBH', options: [{ kind: 'Pad1', type: 0 }] }] }),
      (q) => ({ ...q, path: { ...q.path, meta: { currInf: 0, currHf: 2, segLens: [2, 2, 0] } } }),
      (q) => ({ ...q, path: { ...q.path, hopFields: [] } }),
      (q) => ({ ...q, l4: { kind: 'Raw', nextHdr: 17, payload: new Uint8Array(0) } }),
      (q) => ({ ...q, l4: { kind: 'SCMP', type: 1, code: 0, checksum: null, body: { kind: 'EchoReply', identifier: 0, sequence: 0 }, payload: new Uint8Array(0) } }),
      (q) => ({ ...q, l4: { ...q.l4, payload: new Uint8Array(70000) } }),
    ];
    for (const f of bad) throwsScion(() => encodePacket(f(structuredClone(p)) as ScionPacket), 'BAD_ARGUMENT', -1);
    throwsScion(() => decodePacket('not bytes' as unknown as Uint8Array), 'BAD_ARGUMENT', -1);
  });
});
