// SCION/UDP: the UDP header of RFC 768 with its checksum over the SCION pseudo-header.
import { checkBytes, checkUint, Reader, Writer } from '../bytes';
import { ScionError } from '../errors';
import type { UdpDatagram } from '../packet';

export const UDP_HDR_LEN = 8;
export const UDP_CHECKSUM_OFFSET = 6;

/** Decodes the datagram occupying exactly [at, end). */
export function decodeUdp(r: Reader, at: number, end: number): UdpDatagram {
  if (end - at < UDP_HDR_LEN) throw new ScionError('BAD_L4', `UDP header needs ${UDP_HDR_LEN} bytes, have ${end - at}`, at);
  const length = r.u16(at + 4);
  if (length !== end - at) {
    throw new ScionError('BAD_L4', `UDP length ${length} but ${end - at} bytes follow the SCION headers`, at + 4);
  }
  return {
    kind: 'UDP',
    srcPort: r.u16(at),
    dstPort: r.u16(at + 2),
    length,
    checksum: r.u16(at + UDP_CHECKSUM_OFFSET),
    payload: r.copy(at + UDP_HDR_LEN, length - UDP_HDR_LEN),
  };
}

export function checkUdp(u: UdpDatagram): number {
  checkUint(u.srcPort, 0xffff, 'udp.srcPort');
  checkUint(u.dstPort, 0xffff, 'udp.dstPort');
  if (u.checksum !== null) checkUint(u.checksum, 0xffff, 'udp.checksum');
  const length = UDP_HDR_LEN + checkBytes(u.payload, 'udp.payload').length;
  if (length > 0xffff) throw new ScionError('BAD_ARGUMENT', `UDP datagram of ${length} bytes exceeds the 16-bit length`);
  return length;
}

export function writeUdp(w: Writer, u: UdpDatagram, checksum: number): void {
  w.u16(u.srcPort);
  w.u16(u.dstPort);
  w.u16(UDP_HDR_LEN + u.payload.length);
  w.u16(checksum);
  w.put(u.payload);
}
