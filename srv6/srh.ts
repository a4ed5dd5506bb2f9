// The IPv6 Segment Routing Header (RFC 8754 §2): decode with every field check the RFC
// gives a receiver, and encode. Layout, in octets:
//   0 Next Header | 1 Hdr Ext Len (8-octet units after the first 8) | 2 Routing Type (4)
//   3 Segments Left | 4 Last Entry | 5 Flags | 6-7 Tag | 8.. Segment List[0..Last Entry]
//   (16 each, the LAST segment of the path first) | TLVs up to (Hdr Ext Len + 1) * 8.

import { Srv6Error } from './errors';
import { SID_LEN } from './sid';

export const ROUTING_TYPE_SRH = 4;
export const TLV_PAD1 = 0;
export const TLV_PADN = 4;
export const TLV_HMAC = 5;
/** PadN carries 0..5 octets of padding (RFC 8754 §2.1.1.2). */
export const PADN_MAX = 5;
/** HMAC TLV data before the HMAC itself: D bit + 15 reserved bits, 32-bit key id. */
export const HMAC_TLV_FIXED = 6;
/** The HMAC field is 8..32 octets in multiples of 8 (RFC 8754 §2.1.2). */
export const HMAC_MAX = 32;
/** Hdr Ext Len is one octet, so an SRH is at most (255 + 1) * 8 octets. */
export const SRH_MAX_BYTES = 2048;

export interface Tlv {
  type: number;
  /** Variable-length data; empty for Pad1, which has no length octet. */
  value: Uint8Array;
}

export interface SrhHmac {
  keyId: number;
  /** D bit: destination-address verification disabled (reduced segment list). */
  dBit: boolean;
  mac: Uint8Array;
}

export interface Srh {
  nextHeader: number;
  segmentsLeft: number;
  lastEntry: number;
  flags: number;
  tag: number;
  /** In SRH order: segments[0] is the LAST segment of the path. */
  segments: Uint8Array[];
  /** Every TLV in header order, padding and the HMAC TLV included. */
  tlvs: Tlv[];
  /** The HMAC TLV's fields when the header carries one. */
  hmac?: SrhHmac;
}

export type SrhErrorCode =
  | 'SRH_TRUNCATED'       // fewer bytes than 8, or than Hdr Ext Len declares
  | 'SRH_BAD_TYPE'        // Routing Type is not 4
  | 'SRH_BAD_HDR_LEN'     // Hdr Ext Len too short to hold one segment
  | 'SRH_BAD_LAST_ENTRY'  // Last Entry's segments do not fit Hdr Ext Len
  | 'SRH_BAD_SEGLEFT'     // Segments Left > Last Entry + 1
  | 'SRH_BAD_TLV'         // a TLV overruns the header, or PadN longer than 5
  | 'SRH_BAD_HMAC_TLV';   // HMAC TLV length not 6 + 8..32 in multiples of 8, or a second one

export type SrhDecodeResult =
  | { ok: true; srh: Srh; /** Octets the header occupies: (Hdr Ext Len + 1) * 8. */ length: number }
  | { ok: false; code: SrhErrorCode; message: string };

/** The datapath's drop reason (enum cil_drop_reason name) for each decode failure. */
export const SRH_DROP_REASON: Readonly<Record<SrhErrorCode, string>> = {
  SRH_TRUNCATED: 'CIL_DROP_SRH_MALFORMED',
  SRH_BAD_TYPE: 'CIL_DROP_SRV6_NO_SRH',
  SRH_BAD_HDR_LEN: 'CIL_DROP_SRH_MALFORMED',
  SRH_BAD_LAST_ENTRY: 'CIL_DROP_SRH_BAD_LAST_ENTRY',
  SRH_BAD_SEGLEFT: 'CIL_DROP_SRH_BAD_SEGLEFT',
  SRH_BAD_TLV: 'CIL_DROP_SRH_BAD_TLV',
  SRH_BAD_HMAC_TLV: 'CIL_DROP_SRH_BAD_TLV',
};

function fail(code: SrhErrorCode, message: string): SrhDecodeResult {
  return { ok: false, code, message };
}

/**
 * Decodes the SRH at the start of `bytes` (bytes after it are ignored; `length` says where
 * it ends). Checks are applied in header order and the first failing one is reported.
 * Segments Left may be Last Entry + 1 (RFC 8754 §4.3.1.1 allows it for a reduced SRH whose
 * first segment is only in the destination address).
 */
export function decodeSrh(bytes: Uint8Array): SrhDecodeResult {
  if (bytes.length < 8) return fail('SRH_TRUNCATED', `${bytes.length} bytes, the fixed part is 8`);
  const [nextHeader, hdrExtLen, routingType, segmentsLeft, lastEntry, flags] = bytes;
  const tag = (bytes[6] << 8) | bytes[7];
  if (routingType !== ROUTING_TYPE_SRH) return fail('SRH_BAD_TYPE', `routing type ${routingType}, an SRH is type 4`);
  const length = (hdrExtLen + 1) * 8;
  if (bytes.length < length) return fail('SRH_TRUNCATED', `Hdr Ext Len ${hdrExtLen} declares ${length} bytes, ${bytes.length} present`);
  if (hdrExtLen < 2) return fail('SRH_BAD_HDR_LEN', `Hdr Ext Len ${hdrExtLen} leaves no room for one segment`);
  const segEnd = 8 + (lastEntry + 1) * SID_LEN;
  if (segEnd > length) {
    return fail('SRH_BAD_LAST_ENTRY', `Last Entry ${lastEntry} needs ${segEnd} bytes, Hdr Ext Len ${hdrExtLen} gives ${length}`);
  }
  if (segmentsLeft > lastEntry + 1) {
    return fail('SRH_BAD_SEGLEFT', `Segments Left ${segmentsLeft} exceeds Last Entry ${lastEntry} + 1`);
  }
  const segments: Uint8Array[] = [];
  for (let off = 8; off < segEnd; off += SID_LEN) segments.push(bytes.slice(off, off + SID_LEN));

  const tlvs: Tlv[] = [];
  let hmac: SrhHmac | undefined;
  for (let off = segEnd; off < length;) {
    const type = bytes[off];
    if (type === TLV_PAD1) {
      tlvs.push({ type, value: new Uint8Array(0) });
      off += 1;
      continue;
    }
    if (off + 2 > length) return fail('SRH_BAD_TLV', `TLV type ${type} at offset ${off} has no length octet inside the header`);
    const len = bytes[off + 1];
    if (off + 2 + len > length) return fail('SRH_BAD_TLV', `TLV type ${type} at offset ${off} (length ${len}) overruns the header's ${length} bytes`);
    const value = bytes.slice(off + 2, off + 2 + len);
    if (type === TLV_PADN && len > PADN_MAX) return fail('SRH_BAD_TLV', `PadN at offset ${off} has length ${len}, at most ${PADN_MAX}`);
    if (type === TLV_HMAC) {
      if (hmac) return fail('SRH_BAD_HMAC_TLV', `second HMAC TLV at offset ${off}`);
      const macLen = len - HMAC_TLV_FIXED;
      if (macLen < 8 || macLen > HMAC_MAX || macLen % 8 !== 0) {
        return fail('SRH_BAD_HMAC_TLV', `HMAC TLV at offset ${off} has length ${len}; the HMAC must be 8..32 octets in multiples of 8`);
      }
      hmac = hmacFields(value);
    }
    tlvs.push({ type, value });
    off += 2 + len;
  }
  const srh: Srh = { nextHeader, segmentsLeft, lastEntry, flags, tag, segments, tlvs };
  if (hmac) srh.hmac = hmac;
  return { ok: true, srh, length };
}

function hmacFields(value: Uint8Array): SrhHmac {
  return {
    dBit: (value[0] & 0x80) !== 0,
    keyId: ((value[2] << 24) | (value[3] << 16) | (value[4] << 8) | value[5]) >>> 0,
    mac: value.slice(HMAC_TLV_FIXED),
  };
}

/** The HMAC TLV (type 5) for a key id and MAC. */
export function hmacTlv(keyId: number, mac: Uint8Array, dBit = false): Tlv {
  checkUint(keyId, 0xffffffff, 'HMAC key id');
  if (mac.length < 8 || mac.length > HMAC_MAX || mac.length % 8 !== 0) {
    throw new Srv6Error('BAD_ARGUMENT', `an HMAC field is 8..32 octets in multiples of 8, got ${mac.length}`);
  }
  const value = new Uint8Array(HMAC_TLV_FIXED + mac.length);
  value[0] = dBit ? 0x80 : 0;
  value[2] = keyId >>> 24;
  value[3] = (keyId >>> 16) & 0xff;
  value[4] = (keyId >>> 8) & 0xff;
  value[5] = keyId & 0xff;
  value.set(mac, HMAC_TLV_FIXED);
  return { type: TLV_HMAC, value };
}

/**
 * Encodes an SRH. `lastEntry` must be segments.length - 1. When `hmac` is set and `tlvs`
 * hold no HMAC TLV, one is appended; TLVs are then padded to a multiple of 8 octets with
 * Pad1 or PadN as RFC 8754 §2.1.1 prescribes.
 */
export function encodeSrh(srh: Srh): Uint8Array {
  checkUint(srh.nextHeader, 0xff, 'Next Header');
  checkUint(srh.flags, 0xff, 'Flags');
  checkUint(srh.tag, 0xffff, 'Tag');
  if (srh.segments.length === 0) throw new Srv6Error('BAD_ARGUMENT', 'an SRH needs at least one segment');
  for (const s of srh.segments) {
    if (!(s instanceof Uint8Array) || s.length !== SID_LEN) throw new Srv6Error('BAD_ARGUMENT', `a segment is ${SID_LEN} bytes`);
  }
  if (srh.lastEntry !== srh.segments.length - 1) {
    throw new Srv6Error('BAD_ARGUMENT', `Last Entry ${srh.lastEntry} but ${srh.segments.length} segments`);
  }
  checkUint(srh.segmentsLeft, srh.lastEntry + 1, 'Segments Left');

  const tlvs = [...srh.tlvs];
  const present = tlvs.filter((t) => t.type === TLV_HMAC);
  if (present.length > 1) throw new Srv6Error('BAD_ARGUMENT', 'an SRH carries at most one HMAC TLV');
  if (srh.hmac) {
    if (present.length === 0) tlvs.push(hmacTlv(srh.hmac.keyId, srh.hmac.mac, srh.hmac.dBit));
    else {
      // Compared by field: reserved bits a received TLV carried are kept as they came.
      const have = hmacFields(present[0].value);
      if (have.keyId !== srh.hmac.keyId || have.dBit !== srh.hmac.dBit || !bytesEqual(have.mac, srh.hmac.mac)) {
        throw new Srv6Error('BAD_ARGUMENT', 'hmac disagrees with the HMAC TLV in tlvs');
      }
    }
  }
  let tlvLen = 0;
  for (const t of tlvs) {
    checkUint(t.type, 0xff, 'TLV type');
    if (t.type === TLV_PAD1) {
      if (t.value.length !== 0) throw new Srv6Error('BAD_ARGUMENT', 'Pad1 has no value');
      tlvLen += 1;
    } else {
      checkUint(t.value.length, t.type === TLV_PADN ? PADN_MAX : 0xff, `TLV ${t.type} length`);
      tlvLen += 2 + t.value.length;
    }
  }
  const pad = (8 - ((16 * srh.segments.length + tlvLen) % 8)) % 8;
  if (pad === 1) tlvs.push({ type: TLV_PAD1, value: new Uint8Array(0) });
  else if (pad > 1) tlvs.push({ type: TLV_PADN, value: new Uint8Array(pad - 2) });

  const length = 8 + 16 * srh.segments.length + tlvLen + pad;
  if (length > SRH_MAX_BYTES) throw new Srv6Error('BAD_ARGUMENT', `SRH of ${length} bytes exceeds ${SRH_MAX_BYTES}`);
  const out = new Uint8Array(length);
  out[0] = srh.nextHeader;
  out[1] = length / 8 - 1;
  out[2] = ROUTING_TYPE_SRH;
  out[3] = srh.segmentsLeft;
  out[4] = srh.lastEntry;
  out[5] = srh.flags;
  out[6] = srh.tag >>> 8;
  out[7] = srh.tag & 0xff;
  let off = 8;
  for (const s of srh.segments) {
    out.set(s, off);
    off += SID_LEN;
  }
  for (const t of tlvs) {
    out[off++] = t.type;
    if (t.type === TLV_PAD1) continue;
    out[off++] = t.value.length;
    out.set(t.value, off);
    off += t.value.length;
  }
  return out;
}

/** The segments in the order the packet visits them (the reverse of SRH order). */
export function travelOrder(srh: Pick<Srh, 'segments'>): Uint8Array[] {
  return [...srh.segments].reverse();
}

/** The SRH (SRH order) for a segment list given in travel order. */
export function srhOrder(travel: Uint8Array[]): Uint8Array[] {
  return [...travel].reverse();
}

/** The segment the packet is addressed to now, Segment List[Segments Left]; undefined for a reduced SRH's first hop. */
export function activeSegment(srh: Srh): Uint8Array | undefined {
  return srh.segments[srh.segmentsLeft];
}

function checkUint(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new Srv6Error('BAD_ARGUMENT', `${what} ${v} outside 0..${max}`);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
