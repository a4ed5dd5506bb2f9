// Path type OneHop: one info field and two hop fields, no meta header (scion-header.rst).
import { Reader, Writer } from '../bytes';
import { ScionError } from '../errors';
import type { OneHopPath } from './model';
import { checkHopField, checkInfoField, decodeHopField, decodeInfoField, HOP_LEN, INFO_LEN, writeHopField, writeInfoField } from './scion';

export const ONEHOP_LEN = INFO_LEN + 2 * HOP_LEN;

export function decodeOneHopPath(r: Reader, at: number, length: number): OneHopPath {
  if (length !== ONEHOP_LEN) {
    throw new ScionError('BAD_HDR_LEN', `a one-hop path is ${ONEHOP_LEN} bytes but HdrLen leaves ${length}`, at);
  }
  return {
    type: 'OneHop',
    info: decodeInfoField(r, at),
    firstHop: decodeHopField(r, at + INFO_LEN),
    secondHop: decodeHopField(r, at + INFO_LEN + HOP_LEN),
  };
}

export function checkOneHopPath(p: OneHopPath, what = 'path'): number {
  checkInfoField(p.info, `${what}.info`);
  checkHopField(p.firstHop, `${what}.firstHop`);
  checkHopField(p.secondHop, `${what}.secondHop`);
  return ONEHOP_LEN;
}

export function writeOneHopPath(w: Writer, p: OneHopPath): void {
  writeInfoField(w, p.info);
  writeHopField(w, p.firstHop);
  writeHopField(w, p.secondHop);
}
