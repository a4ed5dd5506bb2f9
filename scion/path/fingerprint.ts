// Path fingerprint as SCION's snet defines it: SHA-256 over the path's interface list,
// each entry written big-endian as the 64-bit ISD-AS followed by the interface ID as a
// 64-bit integer (snet's interface ID type is uint64). Two paths share a fingerprint
// exactly when they cross the same interfaces of the same ASes in the same order.
import { createHash } from 'node:crypto';
import { ScionError } from '../errors';
import type { PathInterface } from './model';

const U64_MAX = (1n << 64n) - 1n;

/** Lowercase hex SHA-256 fingerprint; '' for an empty interface list, as snet returns. */
export function pathFingerprint(interfaces: readonly PathInterface[]): string {
  if (interfaces.length === 0) return '';
  const buf = Buffer.alloc(16 * interfaces.length);
  interfaces.forEach((intf, i) => {
    if (intf.ia < 0n || intf.ia > U64_MAX) {
      throw new ScionError('BAD_ARGUMENT', `interface ${i}: ISD-AS out of 64-bit range`);
    }
    if (!Number.isSafeInteger(intf.ifid) || intf.ifid < 0) {
      throw new ScionError('BAD_ARGUMENT', `interface ${i}: interface ID ${intf.ifid} is not a non-negative integer`);
    }
    buf.writeBigUInt64BE(intf.ia, 16 * i);
    buf.writeBigUInt64BE(BigInt(intf.ifid), 16 * i + 8);
  });
  return createHash('sha256').update(buf).digest('hex');
}
