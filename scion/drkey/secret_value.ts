// Level 0: the secret value SV_A^protocol of one epoch, derived from the AS master secret
// with PBKDF2 as drkey.rst suggests and SCION's control service does (pkg/drkey DeriveSV):
// input len(master) as uint64 || master || protocol uint16 || begin uint32 || end uint32,
// salt "Derive DRKey Key", 1000 rounds of HMAC-SHA256, 16 bytes.
import { pbkdf2Sync } from 'node:crypto';
import { checkEpoch, type Epoch } from './epoch';
import { DrkeyError } from './errors';
import { checkProtocol } from './protocol';

export const SV_SALT = 'Derive DRKey Key';
export const SV_ITERATIONS = 1000;

export interface SecretValue {
  protocol: number;
  epoch: Epoch;
  key: Uint8Array;
}

export function deriveSecretValue(protocol: number, epoch: Epoch, masterSecret: Uint8Array): SecretValue {
  checkProtocol(protocol);
  checkEpoch(epoch);
  if (!(masterSecret instanceof Uint8Array) || masterSecret.length === 0) {
    // An empty secret would give every such AS the same keys.
    throw new DrkeyError('BAD_SECRET', 'master secret must be a non-empty byte string');
  }
  const input = new Uint8Array(8 + masterSecret.length + 10);
  const view = new DataView(input.buffer);
  view.setBigUint64(0, BigInt(masterSecret.length));
  input.set(masterSecret, 8);
  let at = 8 + masterSecret.length;
  view.setUint16(at, protocol);
  view.setUint32((at += 2), epoch.begin);
  view.setUint32(at + 4, epoch.end);
  const key = new Uint8Array(pbkdf2Sync(input, SV_SALT, SV_ITERATIONS, 16, 'sha256'));
  return { protocol, epoch: { ...epoch }, key };
}
