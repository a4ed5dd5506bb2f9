// Hop-field MAC (doc/protocols/scion-header.rst, "Hop Field MAC Computation"): AES-CMAC
// over a 16-byte block built from the info field and the first 8 bytes of the hop field
// with flags and reserved bits zeroed, truncated to 6 bytes in the hop field.
//
//   0..1  zero          2..3   SegID (the chaining value beta)   4..7  Timestamp
//   8     zero          9      ExpTime      10..11 ConsIngress   12..13 ConsEgress   14..15 zero
import { timingSafeEqual } from 'node:crypto';
import { ScionError } from '../errors';
import type { HopField, InfoField } from '../path/model';
import { Cmac } from './cmac';

export const MAC_LEN = 6;
export const MAC_INPUT_LEN = 16;

/** A raw 16-byte key, or a Cmac already keyed with it (cheaper when MACing many fields). */
export type MacKey = Uint8Array | Cmac;

export type MacInfo = Pick<InfoField, 'segId' | 'timestamp'>;
export type MacHop = Pick<HopField, 'expTime' | 'consIngress' | 'consEgress'>;

function checkUint(name: string, v: number, bits: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) {
    throw new ScionError('BAD_ARGUMENT', `${name} ${v} is not a ${bits}-bit unsigned integer`);
  }
}

/** The 16-byte MAC input block for `hop` under the info field's SegID and timestamp. */
export function hopFieldMacInput(info: MacInfo, hop: MacHop): Uint8Array {
  checkUint('SegID', info.segId, 16);
  checkUint('timestamp', info.timestamp, 32);
  checkUint('ExpTime', hop.expTime, 8);
  checkUint('ConsIngress', hop.consIngress, 16);
  checkUint('ConsEgress', hop.consEgress, 16);
  const buf = new Uint8Array(MAC_INPUT_LEN);
  const view = new DataView(buf.buffer);
  view.setUint16(2, info.segId);
  view.setUint32(4, info.timestamp);
  buf[9] = hop.expTime;
  view.setUint16(10, hop.consIngress);
  view.setUint16(12, hop.consEgress);
  return buf;
}

function cmacFor(key: MacKey): Cmac {
  return key instanceof Cmac ? key : new Cmac(key);
}

/** The untruncated 16-byte CMAC (EPIC and similar extensions build on the full value). */
export function fullHopFieldMac(key: MacKey, info: MacInfo, hop: MacHop): Uint8Array {
  return cmacFor(key).compute(hopFieldMacInput(info, hop));
}

/** The 6-byte MAC as it is carried in the hop field. */
export function hopFieldMac(key: MacKey, info: MacInfo, hop: MacHop): Uint8Array {
  return fullHopFieldMac(key, info, hop).slice(0, MAC_LEN);
}

/**
 * True when `hop.mac` is the MAC of `hop` under `info`. The comparison takes the same time
 * wherever the bytes differ, as the router's does, so timing does not leak a MAC prefix.
 */
export function verifyHopFieldMac(key: MacKey, info: MacInfo, hop: MacHop & Pick<HopField, 'mac'>): boolean {
  const expected = hopFieldMac(key, info, hop);
  if (hop.mac.length !== MAC_LEN) return false;
  return timingSafeEqual(expected, hop.mac);
}
