// Ring batches written by hand from struct cil_packet_record in bpf/include/cillion_abi.h
// (offsets spelled out here, not taken from bpf/abi.ts, so the meter is checked against
// the C layout rather than against itself). Used by the collector tests and bench.
export const RECORD_BYTES = 424;
const PATH_AT = 104;

export interface RecordSpec {
  tsNs: bigint;
  /** 1 egress encap, 2 ingress decap, 3 router forward. */
  direction: 1 | 2 | 3;
  /** 1 forwarded, 2 dropped. */
  verdict?: 1 | 2;
  dropReason?: number;
  ifindex?: number;
  identity?: number;
  srcIA?: bigint;
  dstIA?: bigint;
  /** Inner IPv4 5-tuple; absent: no inner packet. */
  inner?: { proto: number; src: string; dst: string; sport: number; dport: number; tcpFlags?: number };
  pathType?: number;
  pathId?: number;
  /** The CillionNetworkPolicy id (cil_packet_meta.policy_id). */
  policyId?: number;
  /** Pod bytes (0 without an inner packet); default 100 with one. */
  podLen?: number;
  /** Wire bytes; default the pod bytes plus 100 (the outer headers). */
  wireLen?: number;
  ingressIfid?: number;
  egressIfid?: number;
  path?: Uint8Array;
  truncated?: boolean;
  /** CIL_REC_F_AUTHENTICATED: a SPAO sealed or verified the packet. */
  authenticated?: boolean;
  /** Overrides for malformed-record tests. */
  type?: number;
  version?: number;
  declaredLen?: number;
}

/** Writes one length-prefixed, 8-byte padded record at `off`; returns the bytes used. */
export function writeRecord(buf: Buffer, off: number, s: RecordSpec): number {
  buf.writeUInt32LE(RECORD_BYTES, off);
  const r = off + 4;
  buf.fill(0, r, r + RECORD_BYTES);
  buf[r] = s.type ?? 1;
  buf[r + 1] = s.version ?? 2;
  buf.writeUInt16LE(s.declaredLen ?? RECORD_BYTES, r + 2);
  buf.writeUInt32LE(s.ifindex ?? 0, r + 4);
  buf.writeBigUInt64LE(s.tsNs, r + 8);
  buf[r + 16] = s.direction;
  buf[r + 17] = s.verdict ?? 1;
  buf.writeUInt16LE(s.dropReason ?? 0, r + 18);
  buf.writeUInt32LE(s.identity ?? 0, r + 20);
  buf.writeBigUInt64LE(s.srcIA ?? 0n, r + 24);
  buf.writeBigUInt64LE(s.dstIA ?? 0n, r + 32);
  buf[r + 42] = s.pathType ?? 1;
  let flags = 0;
  if (s.inner) {
    flags |= 0x02;
    buf[r + 40] = s.inner.proto;
    buf[r + 41] = 4;
    buf[r + 43] = s.inner.tcpFlags ?? 0;
    buf.writeUInt16LE(s.inner.sport, r + 44);
    buf.writeUInt16LE(s.inner.dport, r + 46);
    Buffer.from(s.inner.src.split('.').map(Number)).copy(buf, r + 48);
    Buffer.from(s.inner.dst.split('.').map(Number)).copy(buf, r + 64);
  }
  buf.writeUInt32LE(s.pathId ?? 0, r + 80);
  buf.writeUInt32LE(s.policyId ?? 0, r + 100);
  const pod = s.inner ? (s.podLen ?? 100) : 0;
  buf.writeUInt32LE(s.wireLen ?? pod + 100, r + 84);
  buf.writeUInt32LE(pod, r + 88);
  buf.writeUInt16LE(s.ingressIfid ?? 0, r + 92);
  buf.writeUInt16LE(s.egressIfid ?? 0, r + 94);
  const path = s.path ?? new Uint8Array(0);
  buf.writeUInt16LE(path.length, r + 96);
  if (s.truncated) flags |= 0x01;
  if (s.authenticated) flags |= 0x04;
  buf[r + 98] = flags;
  Buffer.from(path).copy(buf, r + PATH_AT);
  return 4 + ((RECORD_BYTES + 7) & ~7);
}

/** A ring batch holding `specs` in order. */
export function batchOf(specs: readonly RecordSpec[]): Buffer {
  const buf = Buffer.alloc(specs.length * (4 + RECORD_BYTES));
  let off = 0;
  for (const s of specs) off += writeRecord(buf, off, s);
  return buf.subarray(0, off);
}
