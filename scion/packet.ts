// The decoded shape of one SCION packet (doc/protocols/scion-header.rst, extension-header.rst,
// scmp.rst, authenticator-option.rst) and the entry points that turn bytes into it and back.
//
// Fields marked "derived" are recorded by decodePacket as they were on the wire but are
// recomputed by encodePacket from the rest of the packet, so a caller building a packet
// may put anything there.
import { checkU64, checkUint, Reader, Writer } from './bytes';
import { ScionError } from './errors';
import { checkExtension, decodeExtension, writeExtension } from './ext/extension';
import { decodeHostAddr, hostAddrBytes, hostAddrLength, hostAddrTypeLen, writeHostAddr } from './header/address';
import { COMMON_HDR_LEN, decodeCommonHeader, MAX_HDR_LEN, MAX_PAYLOAD_LEN, writeCommonHeader } from './header/common';
import type { IA } from './isdas';
import { addWords, finishChecksum, pseudoHeaderSum } from './l4/checksum';
import { checkL4, checksumOffset, decodeL4, l4Protocol, writeL4 } from './l4/codec';
import { checkPath, decodePath, PATH_TYPE_NUMBER, writePath } from './path/codec';
import type { Path, PathTypeName } from './path/model';
import { PROTO_E2E, PROTO_HBH } from './protocols';

export type { Path, PathTypeName } from './path/model';
export { PROTO_E2E, PROTO_HBH, PROTO_SCMP, PROTO_TCP, PROTO_UDP } from './protocols';

export interface CommonHeader {
  /** Always 0: the only version SCION defines; other versions fail decoding with BAD_VERSION. */
  version: number;
  /** 8-bit traffic class (DSCP + ECN). */
  trafficClass: number;
  /** 20-bit flow label. */
  flowId: number;
  /** Derived: protocol number of the first header after the SCION header (extension or L4). */
  nextHdr: number;
  /** Derived: length of common + address + path header in bytes (the wire field counts 4-byte units). */
  hdrLen: number;
  /** Derived: bytes after the SCION header (extensions, L4 header, payload). */
  payloadLen: number;
  /** Derived: the path's type. */
  pathType: PathTypeName;
}

export { optionData } from './ext/options';
export { SVC_CS, SVC_DS, SVC_MULTICAST, SVC_NONE, SVC_WILDCARD, svcName } from './header/address';

export type HostAddr =
  | { kind: 'IPv4'; bytes: Uint8Array } // 4 bytes, address type 0 / length 0
  | { kind: 'IPv6'; bytes: Uint8Array } // 16 bytes, address type 0 / length 3
  | { kind: 'SVC'; svc: number } // 16-bit service address, address type 1 / length 0; svcName() prints it
  /** Any other type/length combination, kept as is: addrType is the 2-bit type, bytes 4/8/12/16 long. */
  | { kind: 'Raw'; addrType: number; bytes: Uint8Array };

/** Option type 0: a single byte of padding. */
export interface Pad1Option {
  kind: 'Pad1';
  type: 0;
}

/** Option type 1: padding with a length; the data bytes are kept so re-encoding is exact. */
export interface PadNOption {
  kind: 'PadN';
  type: 1;
  data: Uint8Array;
}

/** Option type 2: SCION Packet Authenticator Option (spao.rst). */
export interface SpaoOption {
  kind: 'SPAO';
  type: 2;
  /** Security Parameter Index (uint32); values below 2^21 are reserved for DRKey. */
  spi: number;
  /** Algorithm (uint8): 0 AES-CMAC, 1 SHA1-AES-CBC, 253-255 experimental. */
  algorithm: number;
  /** 48-bit timestamp (DRKey SPIs) or sequence number. */
  timestampSeq: number;
  authenticator: Uint8Array;
}

/** Any option type this codec does not interpret, kept byte for byte. */
export interface RawOption {
  kind: 'Raw';
  type: number;
  data: Uint8Array;
}

export type ExtOption = Pad1Option | PadNOption | SpaoOption | RawOption;

/** Hop-by-hop (NextHdr 200) or end-to-end (NextHdr 201) options header. */
export interface Extension {
  kind: 'HBH' | 'E2E';
  options: ExtOption[];
}

export interface UdpDatagram {
  kind: 'UDP';
  srcPort: number;
  dstPort: number;
  /** Derived: UDP header plus payload in bytes. */
  length: number;
  /** As on the wire; null asks encodePacket to compute it over the SCION pseudo-header. */
  checksum: number | null;
  payload: Uint8Array;
}

/** Type-specific SCMP fields (scmp.rst); the quoted packet or echo data goes to ScmpMessage.payload. */
export type ScmpBody =
  | { kind: 'DestinationUnreachable' } // type 1; 4 unused bytes
  | { kind: 'PacketTooBig'; mtu: number } // type 2
  | { kind: 'ParameterProblem'; pointer: number } // type 4
  | { kind: 'ExternalInterfaceDown'; ia: IA; interfaceId: bigint } // type 5
  | { kind: 'InternalConnectivityDown'; ia: IA; ingressId: bigint; egressId: bigint } // type 6
  | { kind: 'EchoRequest' | 'EchoReply'; identifier: number; sequence: number } // 128, 129
  | {
      kind: 'TracerouteRequest' | 'TracerouteReply'; // 130, 131
      identifier: number;
      sequence: number;
      ia: IA;
      interfaceId: bigint;
    }
  /** Types this codec does not interpret: everything after the 4-byte SCMP header is payload. */
  | { kind: 'Unknown' };

export interface ScmpMessage {
  kind: 'SCMP';
  /** Must agree with body.kind (any type for 'Unknown' that has no body of its own). */
  type: number;
  code: number;
  /** As on the wire; null asks encodePacket to compute it over the SCION pseudo-header. */
  checksum: number | null;
  body: ScmpBody;
  payload: Uint8Array;
}

/** Any other upper layer (TCP, BFD, experiments...): its protocol number and the bytes. */
export interface RawL4 {
  kind: 'Raw';
  nextHdr: number;
  payload: Uint8Array;
}

export type L4 = UdpDatagram | ScmpMessage | RawL4;

export interface ScionPacket {
  common: CommonHeader;
  dstIA: IA;
  srcIA: IA;
  dst: HostAddr;
  src: HostAddr;
  path: Path;
  /** In wire order: at most one HBH, which comes first, then at most one E2E. */
  extensions: Extension[];
  l4: L4;
}

export interface DecodeOptions {
  /**
   * Return byte fields (addresses, MACs, options, payload) as views into the input instead of
   * copies: no allocation per field, but the packet changes if the caller reuses the buffer.
   */
  share?: boolean;
}

export interface EncodeOptions {
  /** Compute UDP/SCMP checksums even where the packet carries one (default: only where it is null). */
  computeChecksums?: boolean;
}

/**
 * Decodes one SCION packet that fills `bytes` exactly. Throws ScionError (never anything
 * else) when the bytes are short, or disagree with the lengths and indices they declare.
 * Byte fields of the result are copies unless opts.share is set. Reserved bits are ignored,
 * as the spec asks of receivers, and encodePacket writes them as zero.
 */
export function decodePacket(bytes: Uint8Array, opts: DecodeOptions = {}): ScionPacket {
  if (!(bytes instanceof Uint8Array)) throw new ScionError('BAD_ARGUMENT', 'decodePacket needs a Uint8Array');
  const r = new Reader(bytes, opts.share === true);
  const c = decodeCommonHeader(r);
  const dstLen = hostAddrLength(c.dstAddrType);
  const addrEnd = COMMON_HDR_LEN + 2 * IA_LEN + dstLen + hostAddrLength(c.srcAddrType);
  if (r.length < addrEnd) {
    throw new ScionError('TRUNCATED', `address header ends at byte ${addrEnd}, packet has ${r.length}`, r.length);
  }
  if (c.hdrLen < addrEnd) {
    throw new ScionError('BAD_HDR_LEN', `HdrLen ${c.hdrLen} bytes is shorter than common and address header (${addrEnd})`, HDR_LEN_OFFSET);
  }
  if (r.length < c.hdrLen) {
    throw new ScionError('TRUNCATED', `HdrLen says ${c.hdrLen} bytes of header, packet has ${r.length}`, r.length);
  }
  const hostAt = COMMON_HDR_LEN + 2 * IA_LEN;
  const dst = decodeHostAddr(r, hostAt, c.dstAddrType);
  const src = decodeHostAddr(r, hostAt + dstLen, c.srcAddrType);
  const path = decodePath(r, c.pathType, addrEnd, c.hdrLen - addrEnd, PATH_TYPE_OFFSET);

  const end = c.hdrLen + c.payloadLen;
  if (r.length < end) {
    throw new ScionError('TRUNCATED', `PayloadLen says the packet ends at byte ${end}, it has ${r.length}`, r.length);
  }
  if (r.length > end) {
    throw new ScionError('BAD_PAYLOAD_LEN', `PayloadLen says the packet ends at byte ${end}, it has ${r.length}`, PAYLOAD_LEN_OFFSET);
  }

  const extensions: Extension[] = [];
  let next = c.nextHdr;
  let at = c.hdrLen;
  let nextAt = NEXT_HDR_OFFSET;
  for (const kind of ['HBH', 'E2E'] as const) {
    if (next !== (kind === 'HBH' ? PROTO_HBH : PROTO_E2E)) continue;
    const e = decodeExtension(r, at, end, kind);
    extensions.push(e.ext);
    nextAt = at;
    next = e.nextHdr;
    at += e.length;
  }
  if (next === PROTO_HBH || next === PROTO_E2E) {
    throw new ScionError('BAD_EXTENSION', `options header ${next} repeated or after the end-to-end header`, nextAt);
  }

  return {
    common: {
      version: c.version,
      trafficClass: c.trafficClass,
      flowId: c.flowId,
      nextHdr: c.nextHdr,
      hdrLen: c.hdrLen,
      payloadLen: c.payloadLen,
      pathType: path.type,
    },
    dstIA: r.u64(COMMON_HDR_LEN),
    srcIA: r.u64(COMMON_HDR_LEN + IA_LEN),
    dst,
    src,
    path,
    extensions,
    l4: decodeL4(r, next, at, end),
  };
}

/**
 * Encodes a packet, recomputing every derived field (HdrLen, PayloadLen, NextHdr, PathType,
 * address types, ExtLen, UDP length). Throws ScionError BAD_ARGUMENT or BAD_ADDR for values
 * the wire format cannot carry or that would not decode back to the same packet.
 */
export function encodePacket(p: ScionPacket, opts: EncodeOptions = {}): Uint8Array {
  const layout = measure(p);
  const w = new Writer(layout.hdrLen + layout.payloadLen);
  const path = p.path;
  const firstNext = p.extensions.length > 0 ? (p.extensions[0]!.kind === 'HBH' ? PROTO_HBH : PROTO_E2E) : layout.l4Proto;
  writeCommonHeader(w, {
    version: 0,
    trafficClass: p.common.trafficClass,
    flowId: p.common.flowId,
    nextHdr: firstNext,
    hdrLen: layout.hdrLen,
    payloadLen: layout.payloadLen,
    pathType: PATH_TYPE_NUMBER[path.type],
    dstAddrType: layout.dstTypeLen,
    srcAddrType: layout.srcTypeLen,
  });
  w.u64(p.dstIA);
  w.u64(p.srcIA);
  writeHostAddr(w, p.dst);
  writeHostAddr(w, p.src);
  writePath(w, path);
  p.extensions.forEach((e, i) => {
    const next = i + 1 < p.extensions.length ? PROTO_E2E : layout.l4Proto;
    writeExtension(w, e, next, layout.extLens[i]!);
  });
  const l4At = w.pos;
  writeL4(w, p.l4, 0);
  const csAt = checksumOffset(p.l4);
  if (csAt >= 0) {
    const given = (p.l4 as UdpDatagram | ScmpMessage).checksum;
    const value = opts.computeChecksums || given === null ? l4Checksum(p, w.bytes, l4At, layout.l4Proto) : given;
    w.view.setUint16(l4At + csAt, value);
  }
  return w.bytes;
}

/**
 * The UDP or SCMP checksum the packet should carry, computed over the SCION pseudo-header
 * and the upper layer with its checksum field zeroed; null for other upper layers.
 */
export function computeL4Checksum(p: ScionPacket): number | null {
  if (checksumOffset(p.l4) < 0) return null;
  const length = checkL4(p.l4);
  hostAddrTypeLen(p.dst, 'dst');
  hostAddrTypeLen(p.src, 'src');
  checkU64(p.dstIA, 'dstIA');
  checkU64(p.srcIA, 'srcIA');
  const w = new Writer(length);
  writeL4(w, p.l4, 0);
  return l4Checksum(p, w.bytes, 0, l4Protocol(p.l4));
}

/** Whether the packet's UDP or SCMP checksum is right; null when the upper layer has none. */
export function l4ChecksumValid(p: ScionPacket): boolean | null {
  const want = computeL4Checksum(p);
  if (want === null) return null;
  return (p.l4 as UdpDatagram | ScmpMessage).checksum === want;
}

function l4Checksum(p: ScionPacket, bytes: Uint8Array, at: number, proto: number): number {
  const length = bytes.length - at;
  const sum = pseudoHeaderSum(p.dstIA, p.srcIA, hostAddrBytes(p.dst), hostAddrBytes(p.src), length, proto);
  return finishChecksum(addWords(bytes, at, bytes.length, sum));
}

const IA_LEN = 8;
const NEXT_HDR_OFFSET = 4;
const HDR_LEN_OFFSET = 5;
const PAYLOAD_LEN_OFFSET = 6;
const PATH_TYPE_OFFSET = 8;

interface Layout {
  hdrLen: number;
  payloadLen: number;
  dstTypeLen: number;
  srcTypeLen: number;
  extLens: number[];
  l4Proto: number;
}

/** Validates everything the encoder writes and computes the derived lengths. */
function measure(p: ScionPacket): Layout {
  if (typeof p !== 'object' || p === null || typeof p.common !== 'object' || p.common === null) {
    throw new ScionError('BAD_ARGUMENT', 'packet must be an object with a common header');
  }
  checkUint(p.common.version, 0, 'common.version');
  checkUint(p.common.trafficClass, 0xff, 'common.trafficClass');
  checkUint(p.common.flowId, 0xfffff, 'common.flowId');
  checkU64(p.dstIA, 'dstIA');
  checkU64(p.srcIA, 'srcIA');
  const dstTypeLen = hostAddrTypeLen(p.dst, 'dst');
  const srcTypeLen = hostAddrTypeLen(p.src, 'src');
  const hdrLen =
    COMMON_HDR_LEN + 2 * IA_LEN + hostAddrLength(dstTypeLen) + hostAddrLength(srcTypeLen) + checkPath(p.path);
  if (hdrLen > MAX_HDR_LEN) throw new ScionError('BAD_ARGUMENT', `SCION header of ${hdrLen} bytes exceeds ${MAX_HDR_LEN}`);

  if (!Array.isArray(p.extensions)) throw new ScionError('BAD_ARGUMENT', 'extensions must be an array');
  const kinds = p.extensions.map((e) => String((e as Extension | null)?.kind)).join(',');
  if (!['', 'HBH', 'E2E', 'HBH,E2E'].includes(kinds)) {
    throw new ScionError('BAD_ARGUMENT', `extensions [${kinds}]: at most one HBH, then at most one E2E`);
  }
  const extLens = p.extensions.map((e, i) => checkExtension(e, `extensions[${i}]`));
  const payloadLen = extLens.reduce((a, b) => a + b, 0) + checkL4(p.l4);
  if (payloadLen > MAX_PAYLOAD_LEN) {
    throw new ScionError('BAD_ARGUMENT', `payload of ${payloadLen} bytes exceeds ${MAX_PAYLOAD_LEN}`);
  }
  return { hdrLen, payloadLen, dstTypeLen, srcTypeLen, extLens, l4Proto: l4Protocol(p.l4) };
}
