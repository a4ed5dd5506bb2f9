// Decodes the ring records the datapath emits (struct cil_packet_record in
// bpf/include/cillion_abi.h) from the batches RingReader hands over.
import { formatIA } from '../scion/isdas';
import {
  DIRECTIONS,
  LAYOUTS,
  PATH_KINDS,
  REC_F_AUTHENTICATED,
  REC_F_HAS_INNER,
  REC_F_PATH_TRUNCATED,
  REC_PACKET,
  RECORD_VERSION,
  VERDICTS,
  counterName,
  type Direction,
  type PathKind,
  type Verdict,
} from './abi';
import { ipv6String } from './maps';

export class RecordError extends Error {
  constructor(
    readonly code: 'SHORT_RECORD' | 'UNKNOWN_TYPE' | 'UNKNOWN_VERSION' | 'BAD_LENGTH' | 'BAD_FIELD',
    message: string,
  ) {
    super(message);
    this.name = 'RecordError';
  }
}

export interface PacketRecord {
  ifindex: number;
  /** CLOCK_BOOTTIME nanoseconds. */
  tsNs: bigint;
  direction: Direction;
  verdict: Verdict;
  /** Named drop reason, null when forwarded. */
  dropReason: string | null;
  identity: number;
  srcIA: bigint;
  dstIA: bigint;
  /** What `path` holds: a SCION path, or an SRv6 Segment Routing Header (RFC 8754). */
  pathKind: PathKind;
  /** SCION PathType; 4 (the Routing Type) for an SRH. */
  pathType: number;
  /** SRv6: the tenant (VRF id) of the segment list or decapsulating SID; 0 otherwise. */
  tenantId: number;
  /** SRv6: outer IPv6 source and destination (the active SID) as the packet left (encap) or arrived; '' otherwise. */
  outerSrc: string;
  outerDst: string;
  /** The pod's packet (IPv4, or IPv6 after End.DT6); null when there was none (SCION routers, early drops). */
  inner: {
    proto: number;
    srcAddr: string;
    dstAddr: string;
    srcPort: number;
    dstPort: number;
    tcpFlags: number;
  } | null;
  pathId: number;
  /** Edge ingress: the CillionNetworkPolicy id that allowed or (with POLICY_DENIED) refused it; 0 when none applied. */
  policyId: number;
  /** Wire bytes: the SCION frame as it left or arrived (the pod's frame when dropped before encapsulation). */
  wireLen: number;
  /** Pod bytes: the pod's IPv4 packet plus 14 bytes of Ethernet; 0 without an inner packet. */
  podLen: number;
  ingressIfid: number;
  egressIfid: number;
  /** The raw SCION path bytes (decode with scion/path/raw) or the SRH; may be cut short, see pathTruncated. */
  path: Uint8Array;
  pathTruncated: boolean;
  /** A SPAO sealed (egress) or verified (ingress) this packet. */
  authenticated: boolean;
}

const HDR = LAYOUTS.cil_record_hdr.fields;
const META = LAYOUTS.cil_packet_meta.fields;
const RECORD_SIZE = LAYOUTS.cil_packet_record.size;
const PATH_OFF = LAYOUTS.cil_packet_record.fields.path.offset;
// Field offsets resolved once: the decoder runs for every packet record.
const O = Object.fromEntries(Object.entries(META).map(([k, f]) => [k, f.offset])) as Record<keyof typeof META, number>;

function ipv4(b: Buffer, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/**
 * One record of `len` bytes at `off`. Throws RecordError when it is not one we know. The
 * record's path is a view into `buf`: pass a buffer nobody overwrites (decodeBatch does).
 */
export function decodeRecord(buf: Buffer, off: number, len: number): PacketRecord {
  if (len < LAYOUTS.cil_record_hdr.size || off + len > buf.length) throw new RecordError('SHORT_RECORD', `record of ${len} bytes at ${off}`);
  const type = buf[off + HDR.type.offset];
  const version = buf[off + HDR.version.offset];
  if (type !== REC_PACKET) throw new RecordError('UNKNOWN_TYPE', `record type ${type}`);
  if (version !== RECORD_VERSION) throw new RecordError('UNKNOWN_VERSION', `record version ${version}`);
  const declared = buf.readUInt16LE(off + HDR.len.offset);
  if (declared !== RECORD_SIZE || len < RECORD_SIZE) {
    throw new RecordError('BAD_LENGTH', `packet record says ${declared} bytes, ring gave ${len}, expected ${RECORD_SIZE}`);
  }
  const direction = DIRECTIONS[buf[off + O.direction]];
  const verdict = VERDICTS[buf[off + O.verdict]];
  if (!direction || !verdict) {
    throw new RecordError('BAD_FIELD', `direction ${buf[off + O.direction]} / verdict ${buf[off + O.verdict]}`);
  }
  const flags = buf[off + O.flags];
  const pathLen = Math.min(buf.readUInt16LE(off + O.path_len), RECORD_SIZE - PATH_OFF);
  const ipVersion = buf[off + O.ip_version];
  const hasInner = (flags & REC_F_HAS_INNER) !== 0 && (ipVersion === 4 || ipVersion === 6);
  const pathKind = PATH_KINDS[buf[off + O.path_kind]];
  if (!pathKind) throw new RecordError('BAD_FIELD', `path kind ${buf[off + O.path_kind]}`);
  return {
    ifindex: buf.readUInt32LE(off + O.ifindex),
    tsNs: buf.readBigUInt64LE(off + O.ts_ns),
    direction,
    verdict,
    dropReason: verdict === 'DROPPED' ? counterName(buf.readUInt16LE(off + O.drop_reason)) : null,
    identity: buf.readUInt32LE(off + O.identity),
    srcIA: buf.readBigUInt64LE(off + O.src_ia),
    dstIA: buf.readBigUInt64LE(off + O.dst_ia),
    pathKind,
    pathType: buf[off + O.path_type],
    tenantId: buf.readUInt32LE(off + O.tenant_id),
    outerSrc: ipv6String(buf, off + O.outer_src),
    outerDst: ipv6String(buf, off + O.outer_dst),
    inner: hasInner
      ? {
          proto: buf[off + O.inner_proto],
          srcAddr: ipVersion === 4 ? ipv4(buf, off + O.src_addr) : ipv6String(buf, off + O.src_addr),
          dstAddr: ipVersion === 4 ? ipv4(buf, off + O.dst_addr) : ipv6String(buf, off + O.dst_addr),
          srcPort: buf.readUInt16LE(off + O.src_port),
          dstPort: buf.readUInt16LE(off + O.dst_port),
          tcpFlags: buf[off + O.tcp_flags],
        }
      : null,
    pathId: buf.readUInt32LE(off + O.path_id),
    policyId: buf.readUInt32LE(off + O.policy_id),
    wireLen: buf.readUInt32LE(off + O.wire_len),
    podLen: buf.readUInt32LE(off + O.pod_len),
    ingressIfid: buf.readUInt16LE(off + O.ingress_ifid),
    egressIfid: buf.readUInt16LE(off + O.egress_ifid),
    path: buf.subarray(off + PATH_OFF, off + PATH_OFF + pathLen),
    pathTruncated: (flags & REC_F_PATH_TRUNCATED) !== 0,
    authenticated: (flags & REC_F_AUTHENTICATED) !== 0,
  };
}

/**
 * The records of one RingReader batch: each is a little-endian u32 length, the record,
 * and zero padding to a multiple of 8. A record that fails to decode is reported to
 * `onError` and skipped, so one bad record never hides the rest of the batch. The batch
 * is copied once, so the reader may reuse `buf` while the records live on.
 */
export function decodeBatch(
  buf: Buffer,
  bytes: number,
  onError: (err: RecordError) => void = () => undefined,
): PacketRecord[] {
  const out: PacketRecord[] = [];
  const own = Buffer.from(buf.subarray(0, bytes));
  let off = 0;
  while (off + 4 <= bytes) {
    const len = own.readUInt32LE(off);
    if (off + 4 + len > bytes) {
      onError(new RecordError('SHORT_RECORD', `batch ends inside a ${len}-byte record at ${off}`));
      break;
    }
    try {
      out.push(decodeRecord(own, off + 4, len));
    } catch (err) {
      if (!(err instanceof RecordError)) throw err;
      onError(err);
    }
    off += 4 + ((len + 7) & ~7);
  }
  return out;
}

/** The record's 5-tuple and path in one line, for logs and test failures. */
export function describeRecord(r: PacketRecord): string {
  const inner = r.inner ? `${r.inner.srcAddr}:${r.inner.srcPort} -> ${r.inner.dstAddr}:${r.inner.dstPort} proto ${r.inner.proto}` : 'no inner';
  const verdict = r.verdict === 'DROPPED' ? `DROPPED ${r.dropReason}` : 'FORWARDED';
  const path = r.pathKind === 'srv6' ? `srv6 ${r.outerSrc} -> ${r.outerDst} tenant ${r.tenantId}` : `${formatIA(r.srcIA)} -> ${formatIA(r.dstIA)}`;
  return `${r.direction} ${verdict} ${path} ${inner} id ${r.identity}`;
}
