// Decodes the ring records the datapath emits (struct cil_packet_record in
// bpf/include/cillion_abi.h) from the batches RingReader hands over.
import { formatIA } from '../scion/isdas';
import {
  DIRECTIONS,
  LAYOUTS,
  REC_F_HAS_INNER,
  REC_F_PATH_TRUNCATED,
  REC_PACKET,
  RECORD_VERSION,
  VERDICTS,
  counterName,
  type Direction,
  type Verdict,
} from './abi';

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
  pathType: number;
  /** The pod's packet; null when the payload was no IPv4 packet (routers only). */
  inner: {
    proto: number;
    srcAddr: string;
    dstAddr: string;
    srcPort: number;
    dstPort: number;
    tcpFlags: number;
  } | null;
  pathId: number;
  pktLen: number;
  ingressIfid: number;
  egressIfid: number;
  /** The raw SCION path bytes (decode with scion/path/raw); may be cut short, see pathTruncated. */
  path: Uint8Array;
  pathTruncated: boolean;
}

const META = LAYOUTS.cil_packet_meta.fields;
const RECORD_SIZE = LAYOUTS.cil_packet_record.size;
const PATH_OFF = LAYOUTS.cil_packet_record.fields.path.offset;

function ipv4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** One record of `len` bytes at `off`. Throws RecordError when it is not one we know. */
export function decodeRecord(buf: Uint8Array, off: number, len: number): PacketRecord {
  if (len < 4 || off + len > buf.length) throw new RecordError('SHORT_RECORD', `record of ${len} bytes at ${off}`);
  const v = new DataView(buf.buffer, buf.byteOffset + off, len);
  const type = v.getUint8(0);
  const version = v.getUint8(1);
  if (type !== REC_PACKET) throw new RecordError('UNKNOWN_TYPE', `record type ${type}`);
  if (version !== RECORD_VERSION) throw new RecordError('UNKNOWN_VERSION', `record version ${version}`);
  if (v.getUint16(2, true) !== RECORD_SIZE || len < RECORD_SIZE) {
    throw new RecordError('BAD_LENGTH', `packet record says ${v.getUint16(2, true)} bytes, ring gave ${len}, expected ${RECORD_SIZE}`);
  }
  const u8 = (f: string): number => v.getUint8(META[f].offset);
  const u16 = (f: string): number => v.getUint16(META[f].offset, true);
  const u32 = (f: string): number => v.getUint32(META[f].offset, true);
  const u64 = (f: string): bigint => v.getBigUint64(META[f].offset, true);
  const direction = DIRECTIONS[u8('direction')];
  const verdict = VERDICTS[u8('verdict')];
  if (!direction || !verdict) {
    throw new RecordError('BAD_FIELD', `direction ${u8('direction')} / verdict ${u8('verdict')}`);
  }
  const flags = u8('flags');
  const pathLen = Math.min(u16('path_len'), RECORD_SIZE - PATH_OFF);
  const hasInner = (flags & REC_F_HAS_INNER) !== 0 && u8('ip_version') === 4;
  const abs = off;
  return {
    ifindex: u32('ifindex'),
    tsNs: u64('ts_ns'),
    direction,
    verdict,
    dropReason: verdict === 'DROPPED' ? counterName(u16('drop_reason')) : null,
    identity: u32('identity'),
    srcIA: u64('src_ia'),
    dstIA: u64('dst_ia'),
    pathType: u8('path_type'),
    inner: hasInner
      ? {
          proto: u8('inner_proto'),
          srcAddr: ipv4(buf, abs + META.src_addr.offset),
          dstAddr: ipv4(buf, abs + META.dst_addr.offset),
          srcPort: u16('src_port'),
          dstPort: u16('dst_port'),
          tcpFlags: u8('tcp_flags'),
        }
      : null,
    pathId: u32('path_id'),
    pktLen: u32('pkt_len'),
    ingressIfid: u16('ingress_ifid'),
    egressIfid: u16('egress_ifid'),
    path: buf.slice(abs + PATH_OFF, abs + PATH_OFF + pathLen),
    pathTruncated: (flags & REC_F_PATH_TRUNCATED) !== 0,
  };
}

/**
 * The records of one RingReader batch: each is a little-endian u32 length, the record,
 * and zero padding to a multiple of 8. A record that fails to decode is reported to
 * `onError` and skipped, so one bad record never hides the rest of the batch.
 */
export function decodeBatch(
  buf: Uint8Array,
  bytes: number,
  onError: (err: RecordError) => void = () => undefined,
): PacketRecord[] {
  const out: PacketRecord[] = [];
  const v = new DataView(buf.buffer, buf.byteOffset, bytes);
  let off = 0;
  while (off + 4 <= bytes) {
    const len = v.getUint32(off, true);
    if (off + 4 + len > bytes) {
      onError(new RecordError('SHORT_RECORD', `batch ends inside a ${len}-byte record at ${off}`));
      break;
    }
    try {
      out.push(decodeRecord(buf, off + 4, len));
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
  return `${r.direction} ${verdict} ${formatIA(r.srcIA)} -> ${formatIA(r.dstIA)} ${inner} id ${r.identity}`;
}
