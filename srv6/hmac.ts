// The SRH HMAC (RFC 8754 §2.1.2.1), HMAC-SHA256 over, in order: the outer IPv6 source
// (16), Last Entry (1), Flags (1), HMAC Key ID (4, network order) and every segment in SRH
// order. It binds the segment list to the node that encapsulated it; it says nothing about
// which nodes actually forwarded the packet.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { Srv6Error } from './errors';
import { SID_LEN } from './sid';
import { HMAC_MAX, type Srh } from './srh';

export { hmacTlv } from './srh';

export interface HmacInput {
  /** Outer IPv6 source address, 16 bytes. */
  source: Uint8Array;
  lastEntry: number;
  flags: number;
  keyId: number;
  /** Segments in SRH order (segments[0] is the last segment of the path). */
  segments: readonly Uint8Array[];
}

/** Names match proto Srv6HmacStatus without its SRV6_HMAC_ prefix. */
export type Srv6HmacStatus = 'ABSENT' | 'VERIFIED' | 'MISMATCH' | 'NO_KEY' | 'MALFORMED';

/** HMAC-SHA256 over the RFC 8754 text; 32 bytes. */
export function srhHmac(key: Uint8Array, input: HmacInput): Uint8Array {
  if (key.length === 0) throw new Srv6Error('BAD_ARGUMENT', 'empty HMAC key');
  if (input.source.length !== SID_LEN) throw new Srv6Error('BAD_ARGUMENT', `source is ${SID_LEN} bytes, got ${input.source.length}`);
  for (const [v, max, what] of [[input.lastEntry, 0xff, 'Last Entry'], [input.flags, 0xff, 'Flags'], [input.keyId, 0xffffffff, 'key id']] as const) {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new Srv6Error('BAD_ARGUMENT', `${what} ${v} outside 0..${max}`);
  }
  const fixed = new Uint8Array(6);
  fixed[0] = input.lastEntry;
  fixed[1] = input.flags;
  new DataView(fixed.buffer).setUint32(2, input.keyId);
  const h = createHmac('sha256', key).update(input.source).update(fixed);
  for (const s of input.segments) {
    if (s.length !== SID_LEN) throw new Srv6Error('BAD_ARGUMENT', `a segment is ${SID_LEN} bytes, got ${s.length}`);
    h.update(s);
  }
  return new Uint8Array(h.digest());
}

/**
 * Checks a decoded SRH's HMAC TLV against the key for its key id. Only the full 32-byte
 * HMAC-SHA256 field is checked; a truncated field is MALFORMED here because no key in the
 * catalogue is declared with a shorter output.
 */
export function checkHmac(srh: Srh, source: Uint8Array, keys: ReadonlyMap<number, Uint8Array>): Srv6HmacStatus {
  const tlv = srh.hmac;
  if (!tlv) return 'ABSENT';
  if (tlv.mac.length !== HMAC_MAX || source.length !== SID_LEN) return 'MALFORMED';
  const key = keys.get(tlv.keyId);
  if (!key) return 'NO_KEY';
  const want = srhHmac(key, { source, lastEntry: srh.lastEntry, flags: srh.flags, keyId: tlv.keyId, segments: srh.segments });
  return timingSafeEqual(want, tlv.mac) ? 'VERIFIED' : 'MISMATCH';
}
