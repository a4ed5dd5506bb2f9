// Where the SPAO and the upper layer sit in an encoded SCION packet. The MAC covers the
// upper layer exactly as it is on the wire, so it is taken from the bytes rather than
// re-encoded from a decoded packet. Call only on bytes decodePacket accepted: the walk
// trusts the lengths it checked.
import { OPT_PAD1, OPT_SPAO } from '../ext/options';
import { PROTO_E2E, PROTO_HBH } from '../protocols';

export interface SpaoLocation {
  /** Offset of the option's data (the SPI); the authenticator starts 12 bytes later. */
  dataAt: number;
  dataLen: number;
  /** Protocol number of the header after the extensions, and where it starts. */
  upperLayer: number;
  upperLayerAt: number;
}

/** The first SPAO in the end-to-end options header, or undefined when there is none. */
export function locateSpao(bytes: Uint8Array): SpaoLocation | undefined {
  let next = bytes[4]!;
  let at = bytes[5]! * 4;
  let found: { dataAt: number; dataLen: number } | undefined;
  while (next === PROTO_HBH || next === PROTO_E2E) {
    const len = (bytes[at + 1]! + 1) * 4;
    if (next === PROTO_E2E && found === undefined) found = findOption(bytes, at + 2, at + len);
    next = bytes[at]!;
    at += len;
  }
  return found && { ...found, upperLayer: next, upperLayerAt: at };
}

function findOption(bytes: Uint8Array, from: number, end: number): { dataAt: number; dataLen: number } | undefined {
  let p = from;
  while (p < end) {
    const type = bytes[p]!;
    if (type === OPT_PAD1) {
      p += 1;
      continue;
    }
    const len = bytes[p + 1]!;
    if (type === OPT_SPAO) return { dataAt: p + 2, dataLen: len };
    p += 2 + len;
  }
  return undefined;
}
