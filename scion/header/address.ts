// The address header (scion-header.rst, "Address Header"): both ISD-ASes, then the
// destination and source host addresses whose type and length the common header gives.
import { checkBytes, checkUint, Reader, Writer } from '../bytes';
import { ScionError } from '../errors';
import type { HostAddr } from '../packet';

/** Well-known SCION service addresses (addr/svc); 0x8000 marks the multicast variant. */
export const SVC_DS = 0x0001;
export const SVC_CS = 0x0002;
export const SVC_WILDCARD = 0x0010;
export const SVC_NONE = 0xffff;
export const SVC_MULTICAST = 0x8000;

/** 4-bit type|length combinations that SCION defines (type 0 IP, type 1 service). */
const TL_IPV4 = 0b0000;
const TL_IPV6 = 0b0011;
const TL_SVC = 0b0100;

/** Length in bytes of a host address with the given 4-bit type|length value. */
export function hostAddrLength(typeLen: number): number {
  return ((typeLen & 0x3) + 1) * 4;
}

export function decodeHostAddr(r: Reader, at: number, typeLen: number): HostAddr {
  switch (typeLen) {
    case TL_IPV4:
      return { kind: 'IPv4', bytes: r.copy(at, 4) };
    case TL_IPV6:
      return { kind: 'IPv6', bytes: r.copy(at, 16) };
    case TL_SVC:
      // The two bytes after the service number are reserved and ignored.
      return { kind: 'SVC', svc: r.u16(at) };
    default:
      return { kind: 'Raw', addrType: typeLen >>> 2, bytes: r.copy(at, hostAddrLength(typeLen)) };
  }
}

/** The 4-bit type|length value that encodes `h`; rejects shapes that would decode differently. */
export function hostAddrTypeLen(h: HostAddr, what: string): number {
  switch (h?.kind) {
    case 'IPv4':
      checkAddrBytes(h.bytes, 4, what);
      return TL_IPV4;
    case 'IPv6':
      checkAddrBytes(h.bytes, 16, what);
      return TL_IPV6;
    case 'SVC':
      checkUint(h.svc, 0xffff, `${what} SVC`);
      return TL_SVC;
    case 'Raw': {
      checkUint(h.addrType, 3, `${what} address type`);
      const bytes = checkBytes(h.bytes, `${what} bytes`);
      if (bytes.length === 0 || bytes.length > 16 || bytes.length % 4 !== 0) {
        throw new ScionError('BAD_ADDR', `${what}: raw address must be 4, 8, 12 or 16 bytes, got ${bytes.length}`);
      }
      const tl = (h.addrType << 2) | (bytes.length / 4 - 1);
      if (tl === TL_IPV4 || tl === TL_IPV6 || tl === TL_SVC) {
        throw new ScionError('BAD_ADDR', `${what}: type ${h.addrType} with ${bytes.length} bytes is a defined address; use its kind`);
      }
      return tl;
    }
    default:
      throw new ScionError('BAD_ARGUMENT', `${what}: unknown host address kind`);
  }
}

function checkAddrBytes(b: unknown, length: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== length) {
    throw new ScionError('BAD_ADDR', `${what}: address must be ${length} bytes`);
  }
}

export function writeHostAddr(w: Writer, h: HostAddr): void {
  if (h.kind === 'SVC') {
    w.u16(h.svc);
    w.zeros(2);
  } else {
    w.put(h.bytes);
  }
}

/** The on-wire bytes of a host address, as the checksum pseudo-header uses them. */
export function hostAddrBytes(h: HostAddr): Uint8Array {
  if (h.kind !== 'SVC') return h.bytes;
  return new Uint8Array([h.svc >>> 8, h.svc & 0xff, 0, 0]);
}

/** Service names as SCION prints them: "CS", "DS", "Wildcard", "_M" for multicast. */
export function svcName(svc: number): string {
  const base = svc & ~SVC_MULTICAST;
  const name =
    base === SVC_CS ? 'CS' : base === SVC_DS ? 'DS' : base === SVC_WILDCARD ? 'Wildcard' : undefined;
  if (name === undefined) return `<SVC:0x${svc.toString(16).padStart(4, '0')}>`;
  return svc & SVC_MULTICAST ? `${name}_M` : name;
}
