// Hop-field MAC key derivation. A SCION AS holds a master key (keys/master0.key); its
// routers and control service both derive the 16-byte AES key that MACs hop fields with
// PBKDF2-HMAC-SHA256, the fixed salt "Derive OF Key" and 1000 iterations
// (pkg/scrypto HFMacFactory, router/control DeriveHFMacKey). Both sides must agree byte
// for byte, or every hop field the AS issued fails verification at its own routers.
import { pbkdf2Sync } from 'node:crypto';
import { ScionError } from '../errors';

export const HF_KEY_SALT = 'Derive OF Key';
export const HF_KEY_ITERATIONS = 1000;
export const HF_KEY_LEN = 16;

/** The AES-128 hop-field MAC key of an AS, derived from its raw (not base64) master key. */
export function deriveHopFieldKey(masterKey: Uint8Array): Uint8Array {
  // SCION's router refuses an empty master key; an empty key would still "work" here and
  // silently give every such AS the same forwarding key.
  if (masterKey.length === 0) throw new ScionError('BAD_ARGUMENT', 'empty AS master key');
  return new Uint8Array(pbkdf2Sync(masterKey, HF_KEY_SALT, HF_KEY_ITERATIONS, HF_KEY_LEN, 'sha256'));
}
