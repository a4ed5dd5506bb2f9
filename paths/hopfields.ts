// A flow's path evidence: the raw SCION path header it carried, decoded to the hop fields
// that identify the path. Hop fields' MACs chain to the segments' SegIDs and timestamps
// and stay unchanged in transit (routers only advance CurrHF and update SegIDs), so the
// sequence of (ExpTime, interfaces, MAC) names one authorised path whatever the packet's
// position on it. Router alert flags may differ per packet and are left out.
import { ScionError } from '../scion/errors';
import type { HopField, ScionPath as WirePath } from '../scion/path/model';
import { PATH_TYPE_NUMBER } from '../scion/path/codec';
import { EPIC_PREFIX_LEN } from '../scion/path/epic';
import { decodeScionPathBytes } from '../scion/path/raw';

/** The hop-field sequence as a lookup key. */
export function hopKey(hops: readonly HopField[]): string {
  return hops.map((h) => `${h.expTime}.${h.consIngress}.${h.consEgress}.${Buffer.from(h.mac.buffer, h.mac.byteOffset, h.mac.byteLength).toString('hex')}`).join('/');
}

export type DecodedHops = { ok: true; wire: WirePath; key: string } | { ok: false; why: 'notScion' | 'malformed' };

/** The SCION path inside raw path bytes of a SCION or EPIC path; other types carry none to match. */
export function decodeHops(raw: Uint8Array, pathType: number): DecodedHops {
  if (pathType !== PATH_TYPE_NUMBER.SCION && pathType !== PATH_TYPE_NUMBER.EPIC) return { ok: false, why: 'notScion' };
  let wire: WirePath;
  try {
    wire = decodeScionPathBytes(pathType === PATH_TYPE_NUMBER.EPIC ? raw.subarray(EPIC_PREFIX_LEN) : raw);
  } catch (e) {
    if (e instanceof ScionError || e instanceof RangeError) return { ok: false, why: 'malformed' };
    throw e;
  }
  if (wire.hopFields.length === 0) return { ok: false, why: 'malformed' };
  return { ok: true, wire, key: hopKey(wire.hopFields) };
}
