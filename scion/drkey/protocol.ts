// DRKey protocol identifiers and derivation types (doc/cryptography/drkey.rst,
// "PRF derivation specification" and "Assigned Protocol Identifiers").
import { DrkeyError } from './errors';

/** Level 1 keys for the generic-protocol hierarchy are requested with protocol 0. */
export const PROTOCOL_GENERIC = 0;
export const PROTOCOL_SCMP = 1;
/**
 * The niche protocol id a Cillion mesh derives its identity-authentication keys under
 * (generic derivation). It is not in SCION's registry: it only has to agree between the
 * clusters of one mesh, and the generic hierarchy exists for exactly such protocols.
 */
export const PROTOCOL_CILLION_IDENTITY = 0xc111;

/** The 1-byte derivation type that separates the key kinds in the PRF input. */
export const KeyType = {
  AS_AS: 0,
  AS_HOST: 1,
  HOST_AS: 2,
  HOST_HOST: 3,
} as const;
export type KeyType = (typeof KeyType)[keyof typeof KeyType];

export function checkProtocol(protocol: unknown, what = 'protocol'): number {
  if (typeof protocol !== 'number' || !Number.isInteger(protocol) || protocol < 0 || protocol > 0xffff) {
    throw new DrkeyError('BAD_PROTOCOL', `${what} must be an integer in 0..65535, got ${String(protocol)}`);
  }
  return protocol;
}
