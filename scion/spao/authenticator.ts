// The AES-CMAC authenticator (algorithm 0): a 16-byte RFC 4493 tag over the MAC input
// prefix followed by the upper-layer payload, computed with the CMAC scion/mac already has.
import { timingSafeEqual } from 'node:crypto';
import { aesCmac } from '../mac/cmac';
import { type AuthenticatedHeader, macInputPrefix, type SpaoMeta } from './mac_input';

export const ALGORITHM_AES_CMAC = 0;
export const CMAC_TAG_LEN = 16;

/** The AES-CMAC tag of a packet whose header is `h`, upper layer `upperLayer` and payload `payload`. */
export function computeSpaoCmac(
  key: Uint8Array,
  h: AuthenticatedHeader,
  meta: SpaoMeta,
  upperLayer: number,
  payload: Uint8Array,
): Uint8Array {
  const prefix = macInputPrefix(h, meta, upperLayer, payload.length);
  const input = new Uint8Array(prefix.length + payload.length);
  input.set(prefix);
  input.set(payload, prefix.length);
  return aesCmac(key, input);
}

/** Compares in time independent of where the tags differ. */
export function tagsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
