// The decoded shapes of SCION paths (doc/protocols/scion-header.rst, "Path Type: SCION").
// Codecs live beside this file; MAC, SegID and reversal logic in scion/mac and scion/path.

export interface InfoField {
  /** C flag: the segment is traversed in construction direction. */
  consDir: boolean;
  /** P flag: the segment is a peering segment. */
  peer: boolean;
  /** SegID, the 16-bit updatable MAC chaining field. */
  segId: number;
  /** Seconds since the Unix epoch at which the segment was created (uint32). */
  timestamp: number;
}

export interface HopField {
  ingressAlert: boolean;
  egressAlert: boolean;
  /** Relative expiry: (1 + ExpTime) * (24h / 256) after the info field's timestamp. */
  expTime: number;
  consIngress: number;
  consEgress: number;
  /** 6-byte truncated AES-CMAC. */
  mac: Uint8Array;
}

export interface PathMeta {
  currInf: number;
  currHf: number;
  /** Number of hop fields in each of the (up to) three segments; trailing zeros mean absent. */
  segLens: [number, number, number];
}

export interface ScionPath {
  type: 'SCION';
  meta: PathMeta;
  infoFields: InfoField[];
  hopFields: HopField[];
}

/** One interface of a path as the control plane's metadata lists it (snet.PathInterface). */
export interface PathInterface {
  ia: bigint;
  ifid: number;
}
