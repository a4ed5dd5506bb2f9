// Path type EPIC-HP (scion-header.rst): PktID (EpicTS, Counter), PHVF and LHVF in front of
// a complete SCION path.
import { checkBytes, checkUint, Reader, Writer } from '../bytes';
import { ScionError } from '../errors';
import type { EpicPath } from './model';
import { checkScionPath, decodeScionPath, writeScionPath } from './scion';

export const EPIC_PREFIX_LEN = 16;
const HVF_LEN = 4;

export function decodeEpicPath(r: Reader, at: number, length: number): EpicPath {
  if (length < EPIC_PREFIX_LEN) {
    throw new ScionError('BAD_HDR_LEN', `HdrLen leaves ${length} bytes, the EPIC fields alone need ${EPIC_PREFIX_LEN}`, at);
  }
  return {
    type: 'EPIC',
    pktIdTimestamp: r.u32(at),
    pktIdCounter: r.u32(at + 4),
    phvf: r.copy(at + 8, HVF_LEN),
    lhvf: r.copy(at + 12, HVF_LEN),
    scion: decodeScionPath(r, at + EPIC_PREFIX_LEN, length - EPIC_PREFIX_LEN),
  };
}

export function checkEpicPath(p: EpicPath, what = 'path'): number {
  checkUint(p.pktIdTimestamp, 0xffff_ffff, `${what}.pktIdTimestamp`);
  checkUint(p.pktIdCounter, 0xffff_ffff, `${what}.pktIdCounter`);
  checkBytes(p.phvf, `${what}.phvf`, HVF_LEN);
  checkBytes(p.lhvf, `${what}.lhvf`, HVF_LEN);
  if (typeof p.scion !== 'object' || p.scion === null || p.scion.type !== 'SCION') {
    throw new ScionError('BAD_ARGUMENT', `${what}.scion must be a SCION path`);
  }
  return EPIC_PREFIX_LEN + checkScionPath(p.scion, `${what}.scion`);
}

export function writeEpicPath(w: Writer, p: EpicPath): void {
  w.u32(p.pktIdTimestamp);
  w.u32(p.pktIdCounter);
  w.put(p.phvf);
  w.put(p.lhvf);
  writeScionPath(w, p.scion);
}
