// The Cillion shim: how a pod's IPv4 packet travels as a SCION payload. SCION assigns no
// protocol number to "an IP packet with its sender's security identity", and the SCION IP
// Gateway framing (sig.rst) has no field for the identity and reassembles a stream of
// frames, which per-packet encapsulation does not need; so Cillion registers its own
// framing under protocol 253, which assigned-protocol-numbers.rst reserves "for
// experimentation and testing". A standard SCION router forwards such a packet untouched
// (it reads only the common, address and path headers); a standard end host drops it as an
// unknown upper-layer protocol. bpf/include/cillion_abi.h (CIL_PROTO_SHIM) has the same layout.
import { ScionError } from './errors';

/** SCION NextHdr of the shim. */
export const PROTO_CILLION_SHIM = 253;
export const SHIM_LEN = 8;
export const SHIM_VERSION = 1;
/** The shim's inner-protocol byte for an IPv4 packet (IANA's IPv4 number). */
export const SHIM_INNER_IPV4 = 4;

export interface Shim {
  /** Inner protocol; only SHIM_INNER_IPV4 is defined. */
  innerProto: number;
  /** Sender's security identity (cluster-scoped, identity/cluster_scope.ts). */
  identity: number;
}

/** The shim (version 1, reserved bytes 0) followed by `inner`. */
export function encodeShim(shim: Shim, inner: Uint8Array): Uint8Array {
  if (!Number.isInteger(shim.identity) || shim.identity < 0 || shim.identity > 0xffffffff) {
    throw new ScionError('BAD_ARGUMENT', `shim identity ${shim.identity} is not a uint32`);
  }
  if (!Number.isInteger(shim.innerProto) || shim.innerProto < 0 || shim.innerProto > 255) {
    throw new ScionError('BAD_ARGUMENT', `shim inner protocol ${shim.innerProto} is not a uint8`);
  }
  const out = new Uint8Array(SHIM_LEN + inner.length);
  out[0] = SHIM_VERSION << 4;
  out[1] = shim.innerProto;
  new DataView(out.buffer).setUint32(4, shim.identity >>> 0);
  out.set(inner, SHIM_LEN);
  return out;
}

/** Splits a payload of protocol 253 into shim and inner packet; BAD_L4 when it is no version-1 shim. */
export function decodeShim(payload: Uint8Array): { shim: Shim; inner: Uint8Array } {
  if (payload.length < SHIM_LEN) throw new ScionError('TRUNCATED', `shim needs ${SHIM_LEN} bytes, payload has ${payload.length}`, 0);
  if (payload[0] >> 4 !== SHIM_VERSION || (payload[0] & 0x0f) !== 0) {
    throw new ScionError('BAD_L4', `shim version ${payload[0] >> 4}, want ${SHIM_VERSION}`, 0);
  }
  if (payload[2] !== 0 || payload[3] !== 0) throw new ScionError('BAD_L4', 'shim reserved bytes are not 0', 2);
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return { shim: { innerProto: payload[1], identity: dv.getUint32(4) }, inner: payload.subarray(SHIM_LEN) };
}
