// The collector's flow meter: ring records in, one flow per (5-tuple, observation point,
// path) out, the way an IPFIX metering process works. A flow is emitted when it has been
// idle for idleTimeoutMs, every activeTimeoutMs while it keeps going (its counters start
// again after each report), when it is evicted to make room, and on flush().
//
// A report is emitted only when its consumer has room for it (options.room), so a full
// export backlog loses no counts: an active flow's report waits and its counts go into the
// flow's next report; an ended flow's final report is carried until there is room or the
// same flow comes back (its counts then go into the new entry). Only a carried report
// shed because the carry is full loses counts, and those are counted in packets and bytes;
// if that flow comes back, its next report says by how much its meter is short.
//
// Records arrive at millions a second, so the table decodes fields straight from the ring
// batch and keeps its state in typed arrays: a record of a known flow allocates nothing.
// Only a new flow copies its path bytes. An SRv6 flow is keyed by its Segment Routing
// Header bytes even when the datapath names its segment list by id, and by its tenant and
// outer source, since tenants may reuse inner addresses. Entries sit on two intrusive lists: by last
// packet (idle expiry and eviction walk it from the front) and by start of the current
// report interval (active expiry walks it from the front), so expiry costs only the
// entries it emits.
//
// Boot-time nanoseconds are kept as doubles: exact for the first 104 days of uptime,
// within a few nanoseconds for years after, far finer than flows need.
import * as abi from '../bpf/abi';
import type { Direction } from '../bpf/abi';
import { ENUMS } from '../bpf/abi_layout.gen';
import { RecordError } from '../bpf/records';
import { sidText } from '../srv6/sid';

// Module-local copies: a module binding may be an accessor (tsx's CommonJS interop), too
// slow to read once per record.
const DIRECTIONS: Readonly<Record<number, Direction>> = { ...abi.DIRECTIONS };
const REC_F_HAS_INNER = abi.REC_F_HAS_INNER;
const REC_F_AUTHENTICATED = abi.REC_F_AUTHENTICATED;
const REC_F_PATH_TRUNCATED = abi.REC_F_PATH_TRUNCATED;
const REC_PACKET = abi.REC_PACKET;
const RECORD_VERSION = abi.RECORD_VERSION;
const LAYOUTS = abi.LAYOUTS;
const HDR = LAYOUTS.cil_record_hdr.fields;
const HDR_SIZE = LAYOUTS.cil_record_hdr.size;
const META = LAYOUTS.cil_packet_meta.fields;
const RECORD_SIZE = LAYOUTS.cil_packet_record.size;
const PATH_OFF = LAYOUTS.cil_packet_record.fields.path.offset;
const PATH_MAX = RECORD_SIZE - PATH_OFF;
const O_TYPE = HDR.type.offset;
const O_VERSION = HDR.version.offset;
const O_LEN = HDR.len.offset;
const O_IFINDEX = META.ifindex.offset;
const O_TS = META.ts_ns.offset;
const O_DIRECTION = META.direction.offset;
const O_VERDICT = META.verdict.offset;
const O_DROP = META.drop_reason.offset;
const O_IDENTITY = META.identity.offset;
const O_SRC_IA = META.src_ia.offset;
const O_DST_IA = META.dst_ia.offset;
const O_PROTO = META.inner_proto.offset;
const O_IPVER = META.ip_version.offset;
const O_PATH_TYPE = META.path_type.offset;
const O_TCP_FLAGS = META.tcp_flags.offset;
const O_SRC_PORT = META.src_port.offset;
const O_DST_PORT = META.dst_port.offset;
const O_SRC_ADDR = META.src_addr.offset;
const O_DST_ADDR = META.dst_addr.offset;
const O_PATH_ID = META.path_id.offset;
const O_POLICY_ID = META.policy_id.offset;
const O_WIRE_LEN = META.wire_len.offset;
const O_POD_LEN = META.pod_len.offset;
const O_IN_IFID = META.ingress_ifid.offset;
const O_EG_IFID = META.egress_ifid.offset;
const O_PATH_LEN = META.path_len.offset;
const O_FLAGS = META.flags.offset;
const O_PATH_KIND = META.path_kind.offset;
const O_TENANT = META.tenant_id.offset;
const O_OUTER_SRC = META.outer_src.offset;
const PATH_KINDS: Readonly<Record<number, abi.PathKind>> = { ...abi.PATH_KINDS };
const PATH_SRV6 = ENUMS.cil_path_kind.CIL_PATH_SRV6;

const VERDICT_FORWARDED = abi.VERDICT_FORWARDED;
const VERDICT_DROPPED = abi.VERDICT_DROPPED;
const TWO32 = 4294967296;

// Key words per entry: src addr, dst addr, ports, proto|direction|path type|has inner|SRv6,
// ifindex, path id, path hash (0 when the path id names the path), identity, src IA (2), dst IA (2),
// tenant, outer IPv6 source (4).
const KW = 17;
const K_HAS_INNER = 0x1000000;
const K_SRV6 = 0x2000000;

export type FlowEnd = 'idle' | 'active' | 'evicted' | 'flush';

/** One flow as the meter reports it: the key, then what the report interval saw. */
export interface MeteredFlow {
  ifindex: number;
  direction: Direction;
  /** The inner 5-tuple; null for records without an inner IPv4 packet (routers). */
  inner: { proto: number; srcAddr: string; dstAddr: string; srcPort: number; dstPort: number } | null;
  identity: number;
  srcIA: bigint;
  dstIA: bigint;
  pathType: number;
  pathId: number;
  /** Which kind of WAN path `path` holds; absent: 'scion'. */
  pathKind?: abi.PathKind;
  /** The raw SCION path, or the SRv6 Segment Routing Header, of the flow's first packet (a copy). */
  path: Uint8Array;
  /** SRv6: the tenant (VRF id) of the segment list or decapsulating SID; absent: 0. */
  tenantId?: number;
  /** SRv6: the outer IPv6 source, the node that encapsulated the packet (RFC 5952 text); absent: ''. */
  outerSrc?: string;
  pathTruncated: boolean;
  /** Every packet of the interval that was not dropped carried a SPAO the edge sealed or verified; absent: false. */
  authenticated?: boolean;
  ingressIfid: number;
  egressIfid: number;
  /** CLOCK_BOOTTIME ns of the interval's first and last packet. */
  firstNs: number;
  lastNs: number;
  packets: number;
  /** Pod bytes where there is a pod packet (the same figure at both edges), else wire bytes. */
  bytes: number;
  /** The pod's IPv4 packets plus 14 bytes of Ethernet each; 0 without an inner packet. */
  podBytes: number;
  /** The SCION frames on the underlay. */
  wireBytes: number;
  /** Earlier reports of this flow that found no room and whose counts are in this one. */
  foldedReports: number;
  /** Packets and bytes of this flow known lost: a report of it shed with the carry full. */
  lostPackets: number;
  lostBytes: number;
  /** Packets of the interval that the datapath dropped. */
  dropped: number;
  /** OR of the TCP flags of the interval's packets. */
  tcpFlags: number;
  /** TCP flags of the flow's very first packet: tells the opener (SYN) from the answer (SYN+ACK). */
  firstTcpFlags: number;
  /** Bit n set: some packet was dropped with reason n (reasons below 32). */
  dropReasons: number;
  /** Drop reason of the interval's last dropped packet, 0 if none. */
  lastDropReason: number;
  /** The CillionNetworkPolicy id the last dropped packet carried (policy drops), 0 if none. */
  lastDropPolicyId: number;
  /** The interval's first report of this flow (false for later active-timeout reports). */
  start: boolean;
  end: FlowEnd;
}

export interface FlowTableOptions {
  /** Entries kept at most; the least recently seen is evicted (and reported) to make room. */
  maxEntries: number;
  idleTimeoutMs: number;
  activeTimeoutMs: number;
  /**
   * Reports the consumer can take now, read before each batch, expiry round and flush;
   * default unlimited. A report beyond it is kept back, never dropped.
   */
  room?: () => number;
  /** Final reports carried at most while there is no room; default maxEntries. */
  maxCarried?: number;
}

export interface FlowTableStats {
  entries: number;
  /** Entries kept at most (maxEntries): at this size a new flow evicts the least recently seen. */
  capacity: number;
  records: number;
  decodeErrors: number;
  /** Flows reported before their time to make room for a new one (not a loss). */
  evictions: number;
  emitted: number;
  /** Active reports that found no room; their counts went into the flow's next report. */
  deferred: number;
  /** Final reports that found no room and were carried (not a loss unless later shed). */
  carried: number;
  /** Final reports carried now. */
  carriedNow: number;
  /** Carried reports shed because the carry was full: these counts are lost. */
  lostReports: number;
  lostPackets: number;
  lostBytes: number;
}

/** Counts the next report of a flow takes over from an earlier one. */
/** A held report, with its flow's key and the key's hash (hashKey of the key words). */
type Carried = MeteredFlow & { key: string; hash: number };
type Short = { packets: number; bytes: number; hash: number };

export class FlowTable {
  private readonly max: number;
  private readonly idleNs: number;
  private readonly activeNs: number;
  private readonly mask: number;
  /** Hash slots holding entry index + 1; 0 is empty. Linear probing, backward-shift delete. */
  private readonly slots: Int32Array;
  private readonly keys: Uint32Array;
  private readonly hashes: Uint32Array;
  private readonly paths: (Buffer | null)[];
  private readonly packets: Float64Array;
  private readonly podBytes: Float64Array;
  private readonly wireBytes: Float64Array;
  private readonly folded: Float64Array;
  private readonly lostP: Float64Array;
  private readonly lostB: Float64Array;
  /** When the entry's active timer started. */
  private readonly due: Float64Array;
  private readonly dropped: Float64Array;
  /** Packets of the interval a SPAO sealed or verified. */
  private readonly authed: Float64Array;
  private readonly first: Float64Array;
  private readonly last: Float64Array;
  private readonly flagsOr: Uint8Array;
  private readonly flagsFirst: Uint8Array;
  private readonly dropMask: Uint32Array;
  private readonly lastDrop: Uint16Array;
  private readonly lastDropPolicy: Uint32Array;
  private readonly ifids: Uint32Array;
  private readonly truncated: Uint8Array;
  private readonly reported: Uint8Array;
  // Two doubly linked lists over entry indexes (-1 = none).
  private readonly lruPrev: Int32Array;
  private readonly lruNext: Int32Array;
  private lruHead = -1;
  private lruTail = -1;
  private readonly repPrev: Int32Array;
  private readonly repNext: Int32Array;
  private repHead = -1;
  private repTail = -1;
  private readonly free: Int32Array;
  private freeTop: number;
  private count = 0;
  private readonly stat = { records: 0, decodeErrors: 0, evictions: 0, emitted: 0, deferred: 0, carried: 0, lostReports: 0, lostPackets: 0, lostBytes: 0 };
  private readonly maxCarried: number;
  private readonly room: (() => number) | undefined;
  /** Final reports waiting for room, oldest first, by flow key. */
  private readonly carry = new Map<string, Carried>();
  /** Flows whose shed report lost counts, by flow key: their next report says so. */
  private readonly short = new Map<string, Short>();
  /**
   * How many keys of carry and short have each hash: a new flow whose hash is not here has
   * nothing to take back, so its key text is never built (the hot path, once anything was held).
   */
  private readonly backHashes = new Map<number, number>();
  /** Reports that may still be emitted in the current call. */
  private budget = Infinity;
  // Scratch key of the record being metered.
  private readonly k = new Uint32Array(KW);

  constructor(
    opts: FlowTableOptions,
    private readonly emit: (f: MeteredFlow) => void,
  ) {
    if (!Number.isInteger(opts.maxEntries) || opts.maxEntries < 1) throw new RangeError(`maxEntries ${opts.maxEntries}`);
    if (!(opts.idleTimeoutMs > 0) || !(opts.activeTimeoutMs > 0)) throw new RangeError('timeouts must be positive');
    this.max = opts.maxEntries;
    this.room = opts.room;
    this.maxCarried = opts.maxCarried ?? opts.maxEntries;
    if (!Number.isInteger(this.maxCarried) || this.maxCarried < 0) throw new RangeError(`maxCarried ${opts.maxCarried}`);
    this.idleNs = opts.idleTimeoutMs * 1e6;
    this.activeNs = opts.activeTimeoutMs * 1e6;
    let cap = 16;
    while (cap < this.max * 2) cap *= 2;
    this.mask = cap - 1;
    this.slots = new Int32Array(cap);
    const n = this.max;
    this.keys = new Uint32Array(n * KW);
    this.hashes = new Uint32Array(n);
    this.paths = new Array<Buffer | null>(n).fill(null);
    this.packets = new Float64Array(n);
    this.podBytes = new Float64Array(n);
    this.wireBytes = new Float64Array(n);
    this.folded = new Float64Array(n);
    this.lostP = new Float64Array(n);
    this.lostB = new Float64Array(n);
    this.due = new Float64Array(n);
    this.dropped = new Float64Array(n);
    this.authed = new Float64Array(n);
    this.first = new Float64Array(n);
    this.last = new Float64Array(n);
    this.flagsOr = new Uint8Array(n);
    this.flagsFirst = new Uint8Array(n);
    this.dropMask = new Uint32Array(n);
    this.lastDrop = new Uint16Array(n);
    this.lastDropPolicy = new Uint32Array(n);
    this.ifids = new Uint32Array(n);
    this.truncated = new Uint8Array(n);
    this.reported = new Uint8Array(n);
    this.lruPrev = new Int32Array(n);
    this.lruNext = new Int32Array(n);
    this.repPrev = new Int32Array(n);
    this.repNext = new Int32Array(n);
    this.free = new Int32Array(n);
    for (let i = 0; i < n; i++) this.free[i] = n - 1 - i;
    this.freeTop = n;
  }

  /**
   * Meters every record of one RingReader batch (u32 length, record, padding to 8 bytes),
   * reading fields in place; the batch buffer may be reused once this returns. A record
   * that does not decode is counted and reported to `onError`, and the rest still count.
   */
  ingestBatch(buf: Buffer, bytes: number, onError?: (err: RecordError) => void): void {
    this.refill();
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let off = 0;
    while (off + 4 <= bytes) {
      const len = dv.getUint32(off, true);
      if (off + 4 + len > bytes) {
        this.stat.decodeErrors++;
        onError?.(new RecordError('SHORT_RECORD', `batch ends inside a ${len}-byte record at ${off}`));
        return;
      }
      const problem = this.meterAt(buf, dv, off + 4, len);
      if (problem !== null) {
        this.stat.decodeErrors++;
        onError?.(problem);
      }
      off += 4 + ((len + 7) & ~7);
    }
  }

  /** Reports and forgets idle flows, reports flows past their active timeout. `nowNs` is CLOCK_BOOTTIME. */
  expire(nowNs: number): void {
    this.refill();
    this.emitCarried();
    const idleBefore = nowNs - this.idleNs;
    while (this.lruHead >= 0 && this.last[this.lruHead] <= idleBefore) this.remove(this.lruHead, 'idle');
    const activeBefore = nowNs - this.activeNs;
    while (this.repHead >= 0 && this.due[this.repHead] <= activeBefore) {
      const e = this.repHead;
      // A report that found no room keeps its counts in the entry for the next one.
      if (this.packets[e] === 0 || this.report(e, 'active')) this.resetInterval(e, nowNs);
      this.due[e] = nowNs;
      this.repUnlink(e);
      this.repAppend(e);
    }
  }

  /** Reports and forgets every flow (shutdown); what still finds no room is shed and counted. */
  flush(): void {
    this.refill();
    this.emitCarried();
    while (this.lruHead >= 0) this.remove(this.lruHead, 'flush');
    while (this.carry.size > 0) this.shedOldest();
  }

  stats(): FlowTableStats {
    return { entries: this.count, capacity: this.max, carriedNow: this.carry.size, ...this.stat };
  }

  private refill(): void {
    this.budget = this.room ? Math.max(0, this.room()) : Infinity;
  }

  /** Emits carried final reports, oldest first, while there is room. */
  private emitCarried(): void {
    for (const c of this.carry.values()) {
      if (this.budget <= 0) return;
      this.budget--;
      this.carry.delete(c.key);
      this.unholdHash(c.hash);
      this.stat.emitted++;
      const { key: _key, hash: _hash, ...f } = c;
      this.emit(f);
    }
  }

  private shedOldest(): void {
    const c = this.carry.values().next().value as Carried;
    this.carry.delete(c.key);
    this.unholdHash(c.hash);
    this.stat.lostReports++;
    this.stat.lostPackets += c.packets;
    this.stat.lostBytes += c.bytes;
    if (this.maxCarried === 0) return;
    const s = this.short.get(c.key);
    if (!s && this.short.size >= this.maxCarried) {
      const [oldKey, old] = this.short.entries().next().value as [string, Short];
      this.short.delete(oldKey);
      this.unholdHash(old.hash);
    }
    if (!s) this.holdHash(c.hash);
    this.short.set(c.key, { packets: (s?.packets ?? 0) + c.packets + c.lostPackets, bytes: (s?.bytes ?? 0) + c.bytes + c.lostBytes, hash: c.hash });
  }

  /** Meters the record at `off`; returns what is wrong with it instead of throwing (hot path). */
  private meterAt(buf: Buffer, dv: DataView, off: number, len: number): RecordError | null {
    if (len < HDR_SIZE) return new RecordError('SHORT_RECORD', `record of ${len} bytes at ${off}`);
    if (buf[off + O_TYPE] !== REC_PACKET) return new RecordError('UNKNOWN_TYPE', `record type ${buf[off + O_TYPE]}`);
    if (buf[off + O_VERSION] !== RECORD_VERSION) return new RecordError('UNKNOWN_VERSION', `record version ${buf[off + O_VERSION]}`);
    const declared = dv.getUint16(off + O_LEN, true);
    if (declared !== RECORD_SIZE || len < RECORD_SIZE) {
      return new RecordError('BAD_LENGTH', `packet record says ${declared} bytes, ring gave ${len}, expected ${RECORD_SIZE}`);
    }
    const direction = buf[off + O_DIRECTION];
    const verdict = buf[off + O_VERDICT];
    if (DIRECTIONS[direction] === undefined || (verdict !== VERDICT_FORWARDED && verdict !== VERDICT_DROPPED)) {
      return new RecordError('BAD_FIELD', `direction ${direction} / verdict ${verdict}`);
    }
    const kind = buf[off + O_PATH_KIND];
    if (PATH_KINDS[kind] === undefined) return new RecordError('BAD_FIELD', `path kind ${kind}`);
    this.stat.records++;
    const flags = buf[off + O_FLAGS];
    const hasInner = (flags & REC_F_HAS_INNER) !== 0 && buf[off + O_IPVER] === 4;
    const k = this.k;
    const pathId = dv.getUint32(off + O_PATH_ID, true);
    let pathLen = dv.getUint16(off + O_PATH_LEN, true);
    if (pathLen > PATH_MAX) pathLen = PATH_MAX;
    const pathAt = off + PATH_OFF;
    if (hasInner) {
      k[0] = dv.getUint32(off + O_SRC_ADDR);
      k[1] = dv.getUint32(off + O_DST_ADDR);
      k[2] = (dv.getUint16(off + O_SRC_PORT, true) << 16) | dv.getUint16(off + O_DST_PORT, true);
      k[3] = buf[off + O_PROTO] | (direction << 8) | (buf[off + O_PATH_TYPE] << 16) | K_HAS_INNER;
    } else {
      k[0] = 0;
      k[1] = 0;
      k[2] = 0;
      k[3] = (direction << 8) | (buf[off + O_PATH_TYPE] << 16);
    }
    const srv6 = kind === PATH_SRV6;
    if (srv6) k[3] |= K_SRV6;
    k[4] = dv.getUint32(off + O_IFINDEX, true);
    k[5] = pathId;
    // Without a path id (and always for SRv6) the path bytes are part of the key: hash them
    // here, compare them on a hit.
    k[6] = pathId === 0 || srv6 ? hashBytes(dv, pathAt, pathLen) : 0;
    k[7] = dv.getUint32(off + O_IDENTITY, true);
    k[8] = dv.getUint32(off + O_SRC_IA, true);
    k[9] = dv.getUint32(off + O_SRC_IA + 4, true);
    k[10] = dv.getUint32(off + O_DST_IA, true);
    k[11] = dv.getUint32(off + O_DST_IA + 4, true);
    if (srv6) {
      k[12] = dv.getUint32(off + O_TENANT, true);
      k[13] = dv.getUint32(off + O_OUTER_SRC);
      k[14] = dv.getUint32(off + O_OUTER_SRC + 4);
      k[15] = dv.getUint32(off + O_OUTER_SRC + 8);
      k[16] = dv.getUint32(off + O_OUTER_SRC + 12);
    } else {
      k[12] = 0;
      k[13] = 0;
      k[14] = 0;
      k[15] = 0;
      k[16] = 0;
    }
    const h = hashKey(k);

    const ts = dv.getUint32(off + O_TS, true) + dv.getUint32(off + O_TS + 4, true) * TWO32;
    const tcpFlags = hasInner ? buf[off + O_TCP_FLAGS] : 0;
    let e = this.find(h, buf, pathAt, pathLen);
    if (e < 0) {
      // Taken before the eviction below, which may carry (and so shed) another report.
      const back = this.backHashes.has(h) ? this.takeBack(this.scratchKey(buf, pathAt, pathLen)) : null;
      if (this.count >= this.max) {
        this.stat.evictions++;
        this.remove(this.lruHead, 'evicted');
      }
      e = this.insert(h, buf, pathAt, pathLen, (flags & REC_F_PATH_TRUNCATED) !== 0, ts, tcpFlags);
      if (back) this.takeOver(e, back);
    } else if (e !== this.lruTail) {
      this.lruUnlink(e);
      this.lruAppend(e);
    }
    this.packets[e]++;
    this.podBytes[e] += dv.getUint32(off + O_POD_LEN, true);
    this.wireBytes[e] += dv.getUint32(off + O_WIRE_LEN, true);
    if (ts > this.last[e]) this.last[e] = ts;
    if (ts < this.first[e]) this.first[e] = ts;
    this.flagsOr[e] |= tcpFlags;
    if (flags & REC_F_AUTHENTICATED) this.authed[e]++;
    this.ifids[e] = (dv.getUint16(off + O_IN_IFID, true) << 16) | dv.getUint16(off + O_EG_IFID, true);
    if (verdict === VERDICT_DROPPED) {
      const reason = dv.getUint16(off + O_DROP, true);
      this.dropped[e]++;
      if (reason < 32) this.dropMask[e] |= 1 << reason;
      this.lastDrop[e] = reason;
      this.lastDropPolicy[e] = dv.getUint32(off + O_POLICY_ID, true);
    }
    return null;
  }

  private find(h: number, buf: Buffer, pathAt: number, pathLen: number): number {
    const k = this.k;
    for (let s = h & this.mask; ; s = (s + 1) & this.mask) {
      const v = this.slots[s];
      if (v === 0) return -1;
      const e = v - 1;
      if (this.hashes[e] !== h) continue;
      const base = e * KW;
      const keys = this.keys;
      if (
        keys[base] === k[0] && keys[base + 1] === k[1] && keys[base + 2] === k[2] && keys[base + 3] === k[3] &&
        keys[base + 4] === k[4] && keys[base + 5] === k[5] && keys[base + 6] === k[6] && keys[base + 7] === k[7] &&
        keys[base + 8] === k[8] && keys[base + 9] === k[9] && keys[base + 10] === k[10] && keys[base + 11] === k[11] &&
        keys[base + 12] === k[12] && keys[base + 13] === k[13] && keys[base + 14] === k[14] && keys[base + 15] === k[15] &&
        keys[base + 16] === k[16] &&
        (k[6] === 0 || (this.paths[e] as Buffer).compare(buf, pathAt, pathAt + pathLen) === 0)
      ) {
        return e;
      }
    }
  }

  private insert(h: number, buf: Buffer, pathAt: number, pathLen: number, truncated: boolean, ts: number, tcpFlags: number): number {
    const e = this.free[--this.freeTop];
    this.count++;
    this.keys.set(this.k, e * KW);
    this.hashes[e] = h;
    this.paths[e] = Buffer.from(buf.subarray(pathAt, pathAt + pathLen));
    this.truncated[e] = truncated ? 1 : 0;
    this.flagsFirst[e] = tcpFlags;
    this.reported[e] = 0;
    this.resetInterval(e, ts);
    this.due[e] = ts;
    this.last[e] = ts;
    let s = h & this.mask;
    while (this.slots[s] !== 0) s = (s + 1) & this.mask;
    this.slots[s] = e + 1;
    this.lruAppend(e);
    this.repAppend(e);
    return e;
  }

  private holdHash(h: number): void {
    this.backHashes.set(h, (this.backHashes.get(h) ?? 0) + 1);
  }

  private unholdHash(h: number): void {
    const n = (this.backHashes.get(h) ?? 0) - 1;
    if (n > 0) this.backHashes.set(h, n);
    else this.backHashes.delete(h);
  }

  /** What a returning flow gets back: its carried report, what its shed reports lost. */
  private takeBack(key: string): { carried?: Carried; lost?: { packets: number; bytes: number } } | null {
    const carried = this.carry.get(key);
    const lost = this.short.get(key);
    if (!carried && !lost) return null;
    if (carried) {
      this.carry.delete(key);
      this.unholdHash(carried.hash);
    }
    if (lost) {
      this.short.delete(key);
      this.unholdHash(lost.hash);
    }
    return { carried, lost };
  }

  /** A flow that came back takes over its carried counts and learns what it lost. */
  private takeOver(e: number, back: { carried?: Carried; lost?: { packets: number; bytes: number } }): void {
    const c = back.carried;
    if (c) {
      this.packets[e] += c.packets;
      this.podBytes[e] += c.podBytes;
      this.wireBytes[e] += c.wireBytes;
      this.dropped[e] += c.dropped;
      // The carried report's delivered packets were all authenticated, or it said not.
      if (c.authenticated) this.authed[e] += c.packets - c.dropped;
      this.flagsOr[e] |= c.tcpFlags;
      this.dropMask[e] |= c.dropReasons;
      if (c.dropped > 0) {
        this.lastDrop[e] = c.lastDropReason;
        this.lastDropPolicy[e] = c.lastDropPolicyId;
      }
      if (c.firstNs < this.first[e]) this.first[e] = c.firstNs;
      this.flagsFirst[e] = c.firstTcpFlags;
      this.reported[e] = c.start ? 0 : 1;
      this.folded[e] += c.foldedReports + 1;
      this.lostP[e] += c.lostPackets;
      this.lostB[e] += c.lostBytes;
    }
    if (back.lost) {
      this.lostP[e] += back.lost.packets;
      this.lostB[e] += back.lost.bytes;
    }
  }

  /** keyOf() for the record being metered, from the scratch key and the record's path. */
  private scratchKey(buf: Buffer, pathAt: number, pathLen: number): string {
    return keyText(this.k, 0, buf, pathAt, pathAt + pathLen);
  }

  /** The entry's key as text: key words, and the path bytes when no path id names the path. */
  private keyOf(e: number): string {
    const path = this.paths[e] as Buffer;
    return keyText(this.keys, e * KW, path, 0, path.length);
  }

  private resetInterval(e: number, startNs: number): void {
    this.packets[e] = 0;
    this.podBytes[e] = 0;
    this.wireBytes[e] = 0;
    this.folded[e] = 0;
    this.lostP[e] = 0;
    this.lostB[e] = 0;
    this.dropped[e] = 0;
    this.authed[e] = 0;
    this.flagsOr[e] = 0;
    this.dropMask[e] = 0;
    this.lastDrop[e] = 0;
    this.lastDropPolicy[e] = 0;
    this.first[e] = startNs;
  }

  private remove(e: number, end: FlowEnd): void {
    if (this.packets[e] > 0) this.report(e, end);
    this.lruUnlink(e);
    this.repUnlink(e);
    this.unslot(e);
    this.paths[e] = null;
    this.free[this.freeTop++] = e;
    this.count--;
  }

  /** Deletes the entry's hash slot, shifting later probes back so no lookup chain breaks. */
  private unslot(e: number): void {
    const mask = this.mask;
    let s = this.hashes[e] & mask;
    while (this.slots[s] !== e + 1) s = (s + 1) & mask;
    let hole = s;
    for (let j = (hole + 1) & mask; this.slots[j] !== 0; j = (j + 1) & mask) {
      const home = this.hashes[this.slots[j] - 1] & mask;
      // Move j into the hole unless its home lies cyclically in (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        this.slots[hole] = this.slots[j];
        hole = j;
      }
    }
    this.slots[hole] = 0;
  }

  /** Emits the entry's report if there is room (true); otherwise keeps or carries its counts. */
  private report(e: number, end: FlowEnd): boolean {
    if (this.budget <= 0) {
      if (end === 'active') {
        this.folded[e]++;
        this.stat.deferred++;
      } else {
        this.stat.carried++;
        if (this.carry.size >= this.maxCarried && this.carry.size > 0) this.shedOldest();
        const c: Carried = { ...this.snapshot(e, end), key: this.keyOf(e), hash: this.hashes[e] };
        this.carry.set(c.key, c);
        this.holdHash(c.hash);
        if (this.maxCarried === 0) this.shedOldest();
      }
      return false;
    }
    this.budget--;
    this.stat.emitted++;
    const f = this.snapshot(e, end);
    this.reported[e] = 1;
    this.emit(f);
    return true;
  }

  private snapshot(e: number, end: FlowEnd): MeteredFlow {
    const base = e * KW;
    const keys = this.keys;
    const hasInner = (keys[base + 3] & K_HAS_INNER) !== 0;
    const srv6 = (keys[base + 3] & K_SRV6) !== 0;
    const ifids = this.ifids[e];
    return {
      ifindex: keys[base + 4],
      direction: DIRECTIONS[(keys[base + 3] >> 8) & 0xff],
      inner: hasInner
        ? {
            proto: keys[base + 3] & 0xff,
            srcAddr: ipv4(keys[base]),
            dstAddr: ipv4(keys[base + 1]),
            srcPort: keys[base + 2] >>> 16,
            dstPort: keys[base + 2] & 0xffff,
          }
        : null,
      identity: keys[base + 7],
      srcIA: (BigInt(keys[base + 9]) << 32n) | BigInt(keys[base + 8]),
      dstIA: (BigInt(keys[base + 11]) << 32n) | BigInt(keys[base + 10]),
      pathType: (keys[base + 3] >> 16) & 0xff,
      pathId: keys[base + 5],
      pathKind: srv6 ? 'srv6' : 'scion',
      path: this.paths[e] as Buffer,
      tenantId: keys[base + 12],
      outerSrc: srv6 ? ipv6(keys, base + 13) : '',
      pathTruncated: this.truncated[e] === 1,
      authenticated: this.authed[e] > 0 && this.authed[e] === this.packets[e] - this.dropped[e],
      ingressIfid: ifids >>> 16,
      egressIfid: ifids & 0xffff,
      firstNs: this.first[e],
      lastNs: this.last[e],
      packets: this.packets[e],
      bytes: hasInner ? this.podBytes[e] : this.wireBytes[e],
      podBytes: this.podBytes[e],
      wireBytes: this.wireBytes[e],
      foldedReports: this.folded[e],
      lostPackets: this.lostP[e],
      lostBytes: this.lostB[e],
      dropped: this.dropped[e],
      tcpFlags: this.flagsOr[e],
      firstTcpFlags: this.flagsFirst[e],
      dropReasons: this.dropMask[e],
      lastDropReason: this.lastDrop[e],
      lastDropPolicyId: this.lastDropPolicy[e],
      start: this.reported[e] === 0,
      end,
    };
  }

  private lruAppend(e: number): void {
    this.lruPrev[e] = this.lruTail;
    this.lruNext[e] = -1;
    if (this.lruTail >= 0) this.lruNext[this.lruTail] = e;
    else this.lruHead = e;
    this.lruTail = e;
  }

  private lruUnlink(e: number): void {
    const p = this.lruPrev[e];
    const n = this.lruNext[e];
    if (p >= 0) this.lruNext[p] = n;
    else this.lruHead = n;
    if (n >= 0) this.lruPrev[n] = p;
    else this.lruTail = p;
  }

  private repAppend(e: number): void {
    this.repPrev[e] = this.repTail;
    this.repNext[e] = -1;
    if (this.repTail >= 0) this.repNext[this.repTail] = e;
    else this.repHead = e;
    this.repTail = e;
  }

  private repUnlink(e: number): void {
    const p = this.repPrev[e];
    const n = this.repNext[e];
    if (p >= 0) this.repNext[p] = n;
    else this.repHead = n;
    if (n >= 0) this.repPrev[n] = p;
    else this.repTail = p;
  }
}

function ipv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** RFC 5952 text of the IPv6 address in four big-endian key words. */
function ipv6(words: Uint32Array, at: number): string {
  const b = Buffer.alloc(16);
  for (let i = 0; i < 4; i++) b.writeUInt32BE(words[at + i], 4 * i);
  return sidText(b);
}

/** FNV-1a style over 32-bit words of the path; never 0, so a hashed path differs from "named by path id". */
function hashBytes(dv: DataView, at: number, len: number): number {
  let h = 0x811c9dc5 ^ len;
  const words = at + (len & ~3);
  let i = at;
  for (; i < words; i += 4) h = Math.imul(h ^ dv.getUint32(i, true), 0x01000193);
  for (; i < at + len; i++) h = Math.imul(h ^ dv.getUint8(i), 0x01000193);
  h ^= h >>> 15;
  return (h >>> 0) | 1;
}

/** Murmur3-style mix of the key words. */
function hashKey(k: Uint32Array): number {
  let h = 0x9747b28c;
  for (let i = 0; i < KW; i++) {
    let w = Math.imul(k[i], 0xcc9e2d51);
    w = (w << 15) | (w >>> 17);
    h ^= Math.imul(w, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A flow key as text: its KW key words from `base`, then the path bytes when they are part of the key (word 6 set). */
function keyText(words: Uint32Array, base: number, path: Buffer, from: number, to: number): string {
  let key = '';
  for (let i = 0; i < KW; i++) key += `${words[base + i]},`;
  if (words[base + 6] !== 0) key += path.toString('hex', from, to);
  return key;
}
