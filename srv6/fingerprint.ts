// A segment list's identity: SHA-256 over its 16-byte segments in travel order, lowercase
// hex (Srv6Path.fingerprint). Equal fingerprints mean the same list, whatever SL was seen.

import { createHash } from 'node:crypto';
import { Srv6Error } from './errors';
import { SID_LEN } from './sid';
import { travelOrder, type Srh } from './srh';

/** Fingerprint of segments given in TRAVEL order (first visited first). */
export function segmentsFingerprint(travel: readonly Uint8Array[]): string {
  const h = createHash('sha256');
  for (const s of travel) {
    if (s.length !== SID_LEN) throw new Srv6Error('BAD_SID', `a segment is ${SID_LEN} bytes, got ${s.length}`);
    h.update(s);
  }
  return h.digest('hex');
}

/** Fingerprint of an SRH's segment list. */
export function srhFingerprint(srh: Pick<Srh, 'segments'>): string {
  return segmentsFingerprint(travelOrder(srh));
}
