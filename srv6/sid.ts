// SIDs are 128-bit IPv6 addresses (RFC 8986 §3.1): parsing, RFC 5952 text, locator
// prefixes and membership. Pure functions over Uint8Array(16).

import ipaddr from 'ipaddr.js';
import { Srv6Error } from './errors';

export const SID_LEN = 16;

export interface Prefix {
  /** The prefix's network address, host bits zero. */
  addr: Uint8Array;
  /** Prefix length in bits, 0..128. */
  len: number;
}

/** Parses IPv6 text into 16 bytes. IPv4 text and zone ids ("%eth0") are no SIDs. */
export function parseSid(text: string): Uint8Array {
  if (typeof text !== 'string' || text.includes('%') || !ipaddr.IPv6.isValid(text)) {
    throw new Srv6Error('BAD_SID', `not an IPv6 address: ${JSON.stringify(text)}`);
  }
  return Uint8Array.from(ipaddr.IPv6.parse(text).toByteArray());
}

/** RFC 5952 text of a 16-byte SID. */
export function sidText(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array) || bytes.length !== SID_LEN) {
    throw new Srv6Error('BAD_SID', `a SID is ${SID_LEN} bytes, got ${bytes?.length}`);
  }
  return (ipaddr.fromByteArray(Array.from(bytes)) as ipaddr.IPv6).toRFC5952String();
}

export function sidEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Parses "fc00:0:1::/48". Host bits must be zero so one locator has one spelling. */
export function parsePrefix(text: string): Prefix {
  const m = typeof text === 'string' ? /^([^/]+)\/(\d{1,3})$/.exec(text) : null;
  if (!m) throw new Srv6Error('BAD_PREFIX', `not an IPv6 prefix "addr/len": ${JSON.stringify(text)}`);
  const len = Number(m[2]);
  if (len > 128) throw new Srv6Error('BAD_PREFIX', `prefix length ${len} exceeds 128`);
  let addr: Uint8Array;
  try {
    addr = parseSid(m[1]);
  } catch {
    throw new Srv6Error('BAD_PREFIX', `not an IPv6 prefix: ${JSON.stringify(text)}`);
  }
  if (!sidEqual(mask(addr, len), addr)) {
    throw new Srv6Error('BAD_PREFIX', `${text} has host bits set (network is ${sidText(mask(addr, len))}/${len})`);
  }
  return { addr, len };
}

export function prefixText(p: Prefix): string {
  return `${sidText(p.addr)}/${p.len}`;
}

/** Whether the SID lies inside the prefix. */
export function inPrefix(sid: Uint8Array, prefix: Prefix): boolean {
  return sid.length === SID_LEN && sidEqual(mask(sid, prefix.len), prefix.addr);
}

/** The address with every bit past `len` cleared. */
export function mask(addr: Uint8Array, len: number): Uint8Array {
  const out = new Uint8Array(SID_LEN);
  for (let i = 0; i < SID_LEN; i++) {
    const bits = Math.max(0, Math.min(8, len - i * 8));
    out[i] = addr[i] & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}
