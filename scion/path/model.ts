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

/** Path type 0: no path, for packets that stay inside one AS. */
export interface EmptyPath {
  type: 'Empty';
}

/** Path type 2: the one-hop path beaconing uses between neighbours; the second hop is filled in by the receiver. */
export interface OneHopPath {
  type: 'OneHop';
  info: InfoField;
  firstHop: HopField;
  secondHop: HopField;
}

/** Path type 3: EPIC-HP, a packet identifier and two 4-byte hop validation fields in front of a SCION path. */
export interface EpicPath {
  type: 'EPIC';
  /** Timestamp relative to the first info field's timestamp (uint32). */
  pktIdTimestamp: number;
  /** Sender-chosen counter that makes the packet identifier unique (uint32). */
  pktIdCounter: number;
  /** Penultimate hop validation field, 4 bytes. */
  phvf: Uint8Array;
  /** Last hop validation field, 4 bytes. */
  lhvf: Uint8Array;
  scion: ScionPath;
}

export type Path = EmptyPath | ScionPath | OneHopPath | EpicPath;
export type PathTypeName = Path['type'];
