// Chooses the upper-layer codec by protocol number; anything but UDP and SCMP stays bytes.
import { checkBytes, checkUint, Reader, Writer } from '../bytes';
import { ScionError } from '../errors';
import type { L4 } from '../packet';
import { PROTO_E2E, PROTO_HBH, PROTO_SCMP, PROTO_UDP } from '../protocols';
import { checkScmp, decodeScmp, SCMP_CHECKSUM_OFFSET, writeScmp } from './scmp';
import { checkUdp, decodeUdp, UDP_CHECKSUM_OFFSET, writeUdp } from './udp';

/** Decodes the upper layer occupying exactly [at, end). */
export function decodeL4(r: Reader, nextHdr: number, at: number, end: number): L4 {
  switch (nextHdr) {
    case PROTO_UDP:
      return decodeUdp(r, at, end);
    case PROTO_SCMP:
      return decodeScmp(r, at, end);
    default:
      return { kind: 'Raw', nextHdr, payload: r.copy(at, end - at) };
  }
}

/** Protocol number of an upper layer. */
export function l4Protocol(l4: L4): number {
  return l4.kind === 'UDP' ? PROTO_UDP : l4.kind === 'SCMP' ? PROTO_SCMP : l4.nextHdr;
}

/** Validates an upper layer for encoding and returns its length in bytes. */
export function checkL4(l4: L4): number {
  switch (l4?.kind) {
    case 'UDP':
      return checkUdp(l4);
    case 'SCMP':
      return checkScmp(l4);
    case 'Raw': {
      const n = checkUint(l4.nextHdr, 0xff, 'l4.nextHdr');
      if (n === PROTO_UDP || n === PROTO_SCMP || n === PROTO_HBH || n === PROTO_E2E) {
        throw new ScionError('BAD_ARGUMENT', `raw upper layer cannot use protocol ${n}; it has its own kind`);
      }
      return checkBytes(l4.payload, 'l4.payload').length;
    }
    default:
      throw new ScionError('BAD_ARGUMENT', 'l4 has an unknown kind');
  }
}

/** Where the checksum sits inside the upper-layer header, or -1 if it has none. */
export function checksumOffset(l4: L4): number {
  return l4.kind === 'UDP' ? UDP_CHECKSUM_OFFSET : l4.kind === 'SCMP' ? SCMP_CHECKSUM_OFFSET : -1;
}

export function writeL4(w: Writer, l4: L4, checksum: number): void {
  switch (l4.kind) {
    case 'UDP':
      return writeUdp(w, l4, checksum);
    case 'SCMP':
      return writeScmp(w, l4, checksum);
    case 'Raw':
      return w.put(l4.payload);
  }
}
