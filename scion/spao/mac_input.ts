// The bytes the SPAO authenticator is computed over (authenticator-option.rst,
// "Authenticated Data"), up to but not including the upper-layer payload:
//   1. option metadata: HdrLen, upper-layer protocol, upper-layer length, Algorithm, RSV, Timestamp
//   2. the common header without its second row (NextHdr, HdrLen, PayloadLen change with extensions)
//   3. the address header, minus the parts a DRKey SPI already binds through the key
//   4. the path with every field a router may change set to zero
// Extension headers are not covered.
import { Writer } from '../bytes';
import { hostAddrLength, hostAddrTypeLen, writeHostAddr } from '../header/address';
import type { IA } from '../isdas';
import type { HostAddr, ScionPacket } from '../packet';
import { checkPath, PATH_TYPE_NUMBER, writePath } from '../path/codec';
import type { Path, ScionPath } from '../path/model';
import { ScionError } from '../errors';
import { SpaoError } from './errors';
import { parseDrkeySpi } from './spi';
import { MAX_TIMESTAMP } from './timestamp';

const COMMON_HDR_LEN = 12;
const MAX_HDR_LEN = 1020;
export const SPAO_METADATA_LEN = 12;

/** The header fields the MAC covers (the rest of a ScionPacket is not needed). */
export interface AuthenticatedHeader {
  trafficClass: number;
  flowId: number;
  dstIA: IA;
  srcIA: IA;
  dst: HostAddr;
  src: HostAddr;
  path: Path;
}

export function authenticatedHeaderOf(p: ScionPacket): AuthenticatedHeader {
  return { trafficClass: p.common.trafficClass, flowId: p.common.flowId, dstIA: p.dstIA, srcIA: p.srcIA, dst: p.dst, src: p.src, path: p.path };
}

/** The option fields the MAC covers; the SPI only decides which addresses are included. */
export interface SpaoMeta {
  spi: number;
  algorithm: number;
  timestampSeq: number;
}

/**
 * Serialises items 1-4 of the MAC input. `upperLayer` is the protocol after the extension
 * headers and `upperLayerLength` its length in bytes (the payload the MAC covers next).
 */
export function macInputPrefix(h: AuthenticatedHeader, meta: SpaoMeta, upperLayer: number, upperLayerLength: number): Uint8Array {
  if (!Number.isInteger(upperLayer) || upperLayer < 0 || upperLayer > 0xff) {
    throw new SpaoError('BAD_HEADER', `upper-layer protocol must be a byte, got ${String(upperLayer)}`);
  }
  if (!Number.isInteger(upperLayerLength) || upperLayerLength < 0 || upperLayerLength > 0xffff) {
    throw new SpaoError('BAD_HEADER', `upper-layer length must be in 0..65535, got ${String(upperLayerLength)}`);
  }
  if (!Number.isInteger(meta.spi) || meta.spi < 0 || meta.spi > 0xffff_ffff) {
    throw new SpaoError('BAD_HEADER', `SPI must be a uint32, got ${String(meta.spi)}`);
  }
  if (!Number.isInteger(meta.algorithm) || meta.algorithm < 0 || meta.algorithm > 0xff) {
    throw new SpaoError('BAD_HEADER', `algorithm must be a byte, got ${String(meta.algorithm)}`);
  }
  if (!Number.isInteger(meta.timestampSeq) || meta.timestampSeq < 0 || meta.timestampSeq > MAX_TIMESTAMP) {
    throw new SpaoError('BAD_HEADER', `timestamp must be a 48-bit value, got ${String(meta.timestampSeq)}`);
  }
  const path = immutablePath(h.path);
  const { dstTL, srcTL, pathLen } = checkHeader(h, path);
  const hdrLen = COMMON_HDR_LEN + 16 + hostAddrLength(dstTL) + hostAddrLength(srcTL) + pathLen;
  if (hdrLen > MAX_HDR_LEN || hdrLen % 4 !== 0) {
    throw new SpaoError('BAD_HEADER', `SCION header of ${hdrLen} bytes is not a multiple of 4 up to ${MAX_HDR_LEN}`);
  }

  const drkey = parseDrkeySpi(meta.spi);
  const withIAs = drkey === undefined;
  // An AS-host key binds the fetching side's host; the deriving side's host goes into the MAC.
  const withDst = drkey === undefined || (drkey.type === 'as-host' && drkey.direction === 'receiver');
  const withSrc = drkey === undefined || (drkey.type === 'as-host' && drkey.direction === 'sender');

  const size =
    SPAO_METADATA_LEN + 8 + (withIAs ? 16 : 0) + (withDst ? hostAddrLength(dstTL) : 0) + (withSrc ? hostAddrLength(srcTL) : 0) + pathLen;
  const w = new Writer(size);
  w.u8(hdrLen / 4);
  w.u8(upperLayer);
  w.u16(upperLayerLength);
  w.u8(meta.algorithm);
  w.u8(0);
  w.u48(meta.timestampSeq);
  // scionproto (pkg/spao/mac.go) keeps TrafficClass & 0x3f here: the two high DSCP bits are
  // cleared and the ECN bits kept, although the spec text says "ECN set to 0". Its test vectors
  // pin that (TrafficClass 0xff -> 0x3f), and a MAC has to match scionproto's to interoperate.
  w.u32((((h.trafficClass & 0x3f) << 20) | (h.flowId & 0xfffff)) >>> 0);
  w.u8(PATH_TYPE_NUMBER[path.type]);
  w.u8((dstTL << 4) | srcTL);
  w.u16(0);
  if (withIAs) {
    w.u64(h.dstIA);
    w.u64(h.srcIA);
  }
  if (withDst) writeHostAddr(w, h.dst);
  if (withSrc) writeHostAddr(w, h.src);
  writePath(w, path);
  return w.bytes;
}

function checkHeader(h: AuthenticatedHeader, path: Path): { dstTL: number; srcTL: number; pathLen: number } {
  if (!Number.isInteger(h.trafficClass) || h.trafficClass < 0 || h.trafficClass > 0xff) {
    throw new SpaoError('BAD_HEADER', `traffic class must be a byte, got ${String(h.trafficClass)}`);
  }
  if (!Number.isInteger(h.flowId) || h.flowId < 0 || h.flowId > 0xfffff) {
    throw new SpaoError('BAD_HEADER', `flow id must be 20 bits, got ${String(h.flowId)}`);
  }
  for (const [name, ia] of [['dstIA', h.dstIA], ['srcIA', h.srcIA]] as const) {
    if (typeof ia !== 'bigint' || ia < 0n || ia >= 1n << 64n) throw new SpaoError('BAD_HEADER', `${name} must be a 64-bit value`);
  }
  try {
    return { dstTL: hostAddrTypeLen(h.dst, 'dst'), srcTL: hostAddrTypeLen(h.src, 'src'), pathLen: checkPath(path) };
  } catch (e) {
    if (e instanceof ScionError) throw new SpaoError('BAD_HEADER', e.message);
    throw e;
  }
}

/**
 * The path as the MAC sees it: every field routers update on the way set to zero. Working on
 * the decoded form means CurrINF/CurrHF never reach the encoder's consistency check, so a
 * packet is authenticated the same wherever on its path it is.
 */
function immutablePath(path: Path): Path {
  switch (path?.type) {
    case 'Empty':
      return path;
    case 'SCION':
      return immutableScionPath(path);
    case 'EPIC':
      // The packet ID and the hop validation fields stay; the SCION path after them is zeroed as usual.
      return { ...path, scion: immutableScionPath(path.scion) };
    case 'OneHop':
      // The info field's SegID (scionproto zeroes it as for SCION paths), the first hop's
      // alert flags, and the whole second hop, which the receiving AS fills in.
      return {
        ...path,
        info: { ...path.info, segId: 0 },
        firstHop: { ...path.firstHop, ingressAlert: false, egressAlert: false },
        secondHop: { ingressAlert: false, egressAlert: false, expTime: 0, consIngress: 0, consEgress: 0, mac: new Uint8Array(6) },
      };
    default:
      return path; // checkPath names what is wrong with it
  }
}

function immutableScionPath(p: ScionPath): ScionPath {
  if (p?.type !== 'SCION') return p;
  return {
    type: 'SCION',
    meta: { currInf: 0, currHf: 0, segLens: p.meta?.segLens },
    infoFields: Array.isArray(p.infoFields) ? p.infoFields.map((f) => ({ ...f, segId: 0 })) : p.infoFields,
    hopFields: Array.isArray(p.hopFields) ? p.hopFields.map((h) => ({ ...h, ingressAlert: false, egressAlert: false })) : p.hopFields,
  };
}
