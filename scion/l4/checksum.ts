// The Internet checksum over the SCION pseudo-header (scion-header.rst, "Pseudo Header for
// Upper-Layer Checksum"): both ISD-ASes, both host addresses, the upper-layer length as 32
// bits, and the upper-layer protocol number (17 UDP, 202 SCMP, not an extension's number).
import type { IA } from '../isdas';

/** Adds big-endian 16-bit words of bytes[start, end) to `acc`; an odd last byte is padded with zero. */
export function addWords(bytes: Uint8Array, start: number, end: number, acc: number): number {
  let sum = acc;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  return sum;
}

function addIA(ia: IA, acc: number): number {
  const hi = Number(ia >> 32n);
  const lo = Number(ia & 0xffff_ffffn);
  return acc + (hi >>> 16) + (hi & 0xffff) + (lo >>> 16) + (lo & 0xffff);
}

export function pseudoHeaderSum(
  dstIA: IA,
  srcIA: IA,
  dstHost: Uint8Array,
  srcHost: Uint8Array,
  upperLength: number,
  protocol: number,
): number {
  let sum = addIA(srcIA, addIA(dstIA, 0));
  sum = addWords(dstHost, 0, dstHost.length, sum);
  sum = addWords(srcHost, 0, srcHost.length, sum);
  return sum + Math.floor(upperLength / 0x10000) + (upperLength & 0xffff) + protocol;
}

/** Folds the carries back in and complements: the value that goes into the checksum field. */
export function finishChecksum(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}
