// The 12-byte SCION common header (scion-header.rst, "Common Header").
import { Reader, Writer } from '../bytes';
import { ScionError } from '../errors';
import type { CommonHeader } from '../packet';

export const COMMON_HDR_LEN = 12;
/** HdrLen is 8 bits counting 4-byte units. */
export const MAX_HDR_LEN = 255 * 4;
export const MAX_PAYLOAD_LEN = 0xffff;

/** The common header as it is on the wire, before the address and path are known. */
export interface RawCommonHeader extends Omit<CommonHeader, 'pathType'> {
  pathType: number;
  /** 4-bit DT|DL and ST|SL: address type in the high two bits, (length / 4 - 1) in the low two. */
  dstAddrType: number;
  srcAddrType: number;
}

export function decodeCommonHeader(r: Reader): RawCommonHeader {
  if (r.length < COMMON_HDR_LEN) {
    throw new ScionError('TRUNCATED', `common header needs ${COMMON_HDR_LEN} bytes, have ${r.length}`, r.length);
  }
  const first = r.u32(0);
  const version = first >>> 28;
  if (version !== 0) throw new ScionError('BAD_VERSION', `SCION version ${version}, only 0 exists`, 0);
  const addrTypes = r.u8(9);
  return {
    version,
    trafficClass: (first >>> 20) & 0xff,
    flowId: first & 0xfffff,
    nextHdr: r.u8(4),
    hdrLen: r.u8(5) * 4,
    payloadLen: r.u16(6),
    pathType: r.u8(8),
    dstAddrType: addrTypes >>> 4,
    srcAddrType: addrTypes & 0x0f,
  };
}

/** Writes the header; the caller has range-checked every field (RSV is written as zero). */
export function writeCommonHeader(w: Writer, h: RawCommonHeader): void {
  w.u32(((h.version << 28) | (h.trafficClass << 20) | h.flowId) >>> 0);
  w.u8(h.nextHdr);
  w.u8(h.hdrLen / 4);
  w.u16(h.payloadLen);
  w.u8(h.pathType);
  w.u8((h.dstAddrType << 4) | h.srcAddrType);
  w.u16(0);
}
