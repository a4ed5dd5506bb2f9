// Ring batches as the datapath writes them: struct cil_packet_record at the offsets of
// bpf/abi_layout.gen.ts, which make generates from bpf/include/cillion_abi.h (and the drift
// check keeps equal to it), field by field by C name rather than through the decoders'
// own tables. Used by the collector tests and bench.
import { DEFINES, ENUMS, STRUCTS } from '../../../bpf/abi_layout.gen';

export const RECORD_BYTES = STRUCTS.cil_packet_record.size;
const PATH_AT = STRUCTS.cil_packet_record.fields.path.offset;
const H = STRUCTS.cil_record_hdr.fields;
const M = STRUCTS.cil_packet_meta.fields;

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
  /** An SRv6 record (path kind CIL_PATH_SRV6): `path` is then its Segment Routing Header. */
  srv6?: { tenantId: number; outerSrc: Uint8Array; outerDst?: Uint8Array };
  /** Overrides cil_packet_meta.path_kind (malformed-record tests). */
  pathKind?: number;
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
  buf[r + H.type.offset] = s.type ?? ENUMS.cil_record_type.CIL_REC_PACKET;
  buf[r + H.version.offset] = s.version ?? DEFINES.CIL_RECORD_VERSION;
  buf.writeUInt16LE(s.declaredLen ?? RECORD_BYTES, r + H.len.offset);
  buf.writeUInt32LE(s.ifindex ?? 0, r + M.ifindex.offset);
  buf.writeBigUInt64LE(s.tsNs, r + M.ts_ns.offset);
  buf[r + M.direction.offset] = s.direction;
  buf[r + M.verdict.offset] = s.verdict ?? ENUMS.cil_verdict.CIL_VERDICT_FORWARDED;
  buf.writeUInt16LE(s.dropReason ?? 0, r + M.drop_reason.offset);
  buf.writeUInt32LE(s.identity ?? 0, r + M.identity.offset);
  buf.writeBigUInt64LE(s.srcIA ?? 0n, r + M.src_ia.offset);
  buf.writeBigUInt64LE(s.dstIA ?? 0n, r + M.dst_ia.offset);
  buf[r + M.path_type.offset] = s.pathType ?? 1;
  let flags = 0;
  if (s.inner) {
    flags |= DEFINES.CIL_REC_F_HAS_INNER;
    buf[r + M.inner_proto.offset] = s.inner.proto;
    buf[r + M.ip_version.offset] = 4;
    buf[r + M.tcp_flags.offset] = s.inner.tcpFlags ?? 0;
    buf.writeUInt16LE(s.inner.sport, r + M.src_port.offset);
    buf.writeUInt16LE(s.inner.dport, r + M.dst_port.offset);
    Buffer.from(s.inner.src.split('.').map(Number)).copy(buf, r + M.src_addr.offset);
    Buffer.from(s.inner.dst.split('.').map(Number)).copy(buf, r + M.dst_addr.offset);
  }
  buf.writeUInt32LE(s.pathId ?? 0, r + M.path_id.offset);
  buf.writeUInt32LE(s.policyId ?? 0, r + M.policy_id.offset);
  const pod = s.inner ? (s.podLen ?? 100) : 0;
  buf.writeUInt32LE(s.wireLen ?? pod + 100, r + M.wire_len.offset);
  buf.writeUInt32LE(pod, r + M.pod_len.offset);
  buf.writeUInt16LE(s.ingressIfid ?? 0, r + M.ingress_ifid.offset);
  buf.writeUInt16LE(s.egressIfid ?? 0, r + M.egress_ifid.offset);
  const path = s.path ?? new Uint8Array(0);
  buf.writeUInt16LE(path.length, r + M.path_len.offset);
  if (s.truncated) flags |= DEFINES.CIL_REC_F_PATH_TRUNCATED;
  if (s.authenticated) flags |= DEFINES.CIL_REC_F_AUTHENTICATED;
  buf[r + M.flags.offset] = flags;
  Buffer.from(path).copy(buf, r + PATH_AT);
  if (s.srv6) {
    buf[r + M.path_kind.offset] = ENUMS.cil_path_kind.CIL_PATH_SRV6;
    buf.writeUInt32LE(s.srv6.tenantId, r + M.tenant_id.offset);
    Buffer.from(s.srv6.outerSrc).copy(buf, r + M.outer_src.offset);
    if (s.srv6.outerDst) Buffer.from(s.srv6.outerDst).copy(buf, r + M.outer_dst.offset);
  }
  if (s.pathKind !== undefined) buf[r + M.path_kind.offset] = s.pathKind;
  return 4 + ((RECORD_BYTES + 7) & ~7);
}

/** A ring batch holding `specs` in order. */
export function batchOf(specs: readonly RecordSpec[]): Buffer {
  const buf = Buffer.alloc(specs.length * (4 + RECORD_BYTES));
  let off = 0;
  for (const s of specs) off += writeRecord(buf, off, s);
  return buf.subarray(0, off);
}
