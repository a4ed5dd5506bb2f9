// Frame builders for datapath tests: Ethernet, IPv4, UDP/TCP/ICMP, and SCION over
// UDP/IPv4 the way Cillion frames it (scion-header.rst: common header, address header,
// standard path; then hop-by-hop and end-to-end extensions, the Cillion shim with the
// sender's identity under protocol 253, and the pod's IPv4 packet).
// Offsets are written out from the spec so the programs are checked against the layout,
// not against the datapath's own encoder.
import { nextSegId } from '../../../scion/mac/segid';
import type { IA } from '../../../scion/isdas';
import type { ScionPath } from '../../../scion/path/model';
import { encodeScionPathBytes } from '../../../scion/path/raw';
import { segmentOfHop } from '../../../scion/path/scion';
import { processSourceHop } from '../../../bpf/template';

export const ETH_HLEN = 14;
export const IPV4_HLEN = 20;
export const UDP_HLEN = 8;
export const UNDERLAY_LEN = ETH_HLEN + IPV4_HLEN + UDP_HLEN;
export const ETH_P_IP = 0x0800;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
const SCION_NEXTHDR_HBH = 200;
const SCION_NEXTHDR_E2E = 201;
/** The Cillion shim's protocol number (scion/shim.ts, written out here from the spec). */
export const PROTO_SHIM = 253;
const OPT_PAD1 = 0;
const OPT_PADN = 1;

function ip4(addr: string): Buffer {
  return Buffer.from(addr.split('.').map(Number));
}

function mac(addr: string): Buffer {
  return Buffer.from(addr.split(':').map((h) => parseInt(h, 16)));
}

/** RFC 1071 checksum of an IPv4 header (its checksum field read as whatever it holds). */
export function ipv4Checksum(hdr: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < hdr.length; i += 2) sum += (hdr[i] << 8) | hdr[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An IPv4 header without options in front of `payload`, checksum filled in. */
export function ipv4Packet(o: { src: string; dst: string; proto: number; payload: Uint8Array; ttl?: number; id?: number }): Buffer {
  const p = Buffer.alloc(IPV4_HLEN + o.payload.length);
  p[0] = 0x45;
  p.writeUInt16BE(p.length, 2);
  p.writeUInt16BE(o.id ?? 1, 4);
  p[8] = o.ttl ?? 64;
  p[9] = o.proto;
  ip4(o.src).copy(p, 12);
  ip4(o.dst).copy(p, 16);
  p.writeUInt16BE(ipv4Checksum(p.subarray(0, IPV4_HLEN)), 10);
  p.set(o.payload, IPV4_HLEN);
  return p;
}

/** UDP header and data; checksum 0 ("none" over IPv4). */
export function udpDatagram(sport: number, dport: number, data: Uint8Array): Buffer {
  const d = Buffer.alloc(UDP_HLEN + data.length);
  d.writeUInt16BE(sport, 0);
  d.writeUInt16BE(dport, 2);
  d.writeUInt16BE(d.length, 4);
  d.set(data, UDP_HLEN);
  return d;
}

/** A 20-byte TCP header (no options) with `flags` in byte 13, then data. */
export function tcpSegment(sport: number, dport: number, flags: number, data: Uint8Array): Buffer {
  const s = Buffer.alloc(20 + data.length);
  s.writeUInt16BE(sport, 0);
  s.writeUInt16BE(dport, 2);
  s.writeUInt32BE(1000, 4);
  s[12] = 5 << 4;
  s[13] = flags;
  s.writeUInt16BE(65535, 14);
  s.set(data, 20);
  return s;
}

/** ICMP echo request (type 8, code 0). */
export function icmpEcho(id: number, seq: number, data: Uint8Array): Buffer {
  const m = Buffer.alloc(8 + data.length);
  m[0] = 8;
  m.writeUInt16BE(id, 4);
  m.writeUInt16BE(seq, 6);
  m.set(data, 8);
  return m;
}

export function ethernet(dstMac: string, srcMac: string, etherType: number, payload: Uint8Array): Buffer {
  const f = Buffer.alloc(ETH_HLEN + payload.length);
  mac(dstMac).copy(f, 0);
  mac(srcMac).copy(f, 6);
  f.writeUInt16BE(etherType, 12);
  f.set(payload, ETH_HLEN);
  return f;
}

export interface Underlay {
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
}

/** An extension option: Pad1 is `{ type: 0 }` alone (one byte, no length). */
export interface ExtOption {
  type: number;
  data?: Uint8Array;
}

/** The 8-byte shim: version 1 in the high nibble, inner protocol 4 (IPv4), reserved 0, identity. */
export function shimBytes(identity: number): Buffer {
  const d = Buffer.alloc(8);
  d[0] = 0x10;
  d[1] = 4;
  d.writeUInt32BE(identity >>> 0, 4);
  return d;
}

export interface ScionFrameSpec {
  underlay: Underlay;
  srcIA: IA;
  dstIA: IA;
  /** IPv4 host addresses (DT/DL = ST/SL = 0: IPv4, 4 bytes). */
  srcHost: string;
  dstHost: string;
  path: ScionPath;
  /** Hop-by-hop extension options; no extension when absent. */
  hbh?: ExtOption[];
  /** End-to-end extension options; no extension when absent. */
  e2e?: ExtOption[];
  /** The sender's identity in the shim; 0 when absent. */
  identity?: number;
  /** The whole shim, instead of one built from `identity` (for malformed shims). */
  shim?: Uint8Array;
  /** The pod's IPv4 packet, after the shim. */
  inner: Uint8Array;
  flowId?: number;
}

/** Frame offsets of the parts a fuzzer corrupts on purpose. */
export interface ScionFrameLayout {
  /** Start of the SCION common header. */
  scion: number;
  /** Start of the path (its meta header). */
  path: number;
  pathLen: number;
  nInf: number;
  nHf: number;
  /** Start of each extension header (NextHdr, ExtLen). */
  ext: number[];
  /** Type byte of each option that has a length byte. */
  options: number[];
  /** Start of the shim. */
  shim: number;
  /** Start of the inner IPv4 header. */
  inner: number;
}

/** Options padded with PadN/Pad1 so the extension (with its 2-byte header) is 4-byte aligned. */
function extension(next: number, opts: ExtOption[], at: number, optionOffsets: number[]): Buffer {
  const parts: Buffer[] = [];
  let len = 2;
  for (const o of opts) {
    if (o.type === OPT_PAD1) {
      parts.push(Buffer.of(OPT_PAD1));
      len += 1;
      continue;
    }
    const data = o.data ?? new Uint8Array(0);
    optionOffsets.push(at + len);
    parts.push(Buffer.concat([Buffer.of(o.type, data.length), data]));
    len += 2 + data.length;
  }
  const pad = (4 - (len % 4)) % 4;
  if (pad === 1) parts.push(Buffer.of(OPT_PAD1));
  else if (pad > 1) parts.push(Buffer.concat([Buffer.of(OPT_PADN, pad - 2), Buffer.alloc(pad - 2)]));
  const body = Buffer.concat(parts);
  const total = 2 + body.length;
  return Buffer.concat([Buffer.of(next, total / 4 - 1), body]);
}

/** Ethernet + IPv4 + UDP + SCION with a standard path, extensions and an IPv4 payload. */
export function scionFrame(spec: ScionFrameSpec): { frame: Buffer; layout: ScionFrameLayout } {
  const pathBytes = encodeScionPathBytes(spec.path);
  const hdrLen = 12 + 16 + 4 + 4 + pathBytes.length;
  const scionAt = UNDERLAY_LEN;
  const payloadAt = scionAt + hdrLen;
  const exts: Array<{ nh: number; opts: ExtOption[] }> = [];
  if (spec.hbh) exts.push({ nh: SCION_NEXTHDR_HBH, opts: spec.hbh });
  if (spec.e2e) exts.push({ nh: SCION_NEXTHDR_E2E, opts: spec.e2e });
  const extStarts: number[] = [];
  const optionOffsets: number[] = [];
  const extBufs: Buffer[] = [];
  let at = payloadAt;
  exts.forEach((e, i) => {
    const next = i + 1 < exts.length ? exts[i + 1].nh : PROTO_SHIM;
    extStarts.push(at);
    const b = extension(next, e.opts, at, optionOffsets);
    extBufs.push(b);
    at += b.length;
  });
  const shim = Buffer.from(spec.shim ?? shimBytes(spec.identity ?? 0));
  const payload = Buffer.concat([...extBufs, shim, spec.inner]);
  const s = Buffer.alloc(hdrLen);
  // Version 0, TrafficClass 0, FlowID (20 bits).
  s.writeUInt32BE((spec.flowId ?? 1) & 0xfffff, 0);
  s[4] = exts.length > 0 ? exts[0].nh : PROTO_SHIM;
  s[5] = hdrLen / 4;
  s.writeUInt16BE(payload.length, 6);
  s[8] = 1; // PathType SCION
  s[9] = 0; // DT/DL, ST/SL: IPv4 both
  s.writeBigUInt64BE(spec.dstIA, 12);
  s.writeBigUInt64BE(spec.srcIA, 20);
  ip4(spec.dstHost).copy(s, 28);
  ip4(spec.srcHost).copy(s, 32);
  s.set(pathBytes, 36);
  const u = spec.underlay;
  const datagram = udpDatagram(u.srcPort, u.dstPort, Buffer.concat([s, payload]));
  const frame = ethernet(u.dstMac, u.srcMac, ETH_P_IP, ipv4Packet({ src: u.srcIp, dst: u.dstIp, proto: IPPROTO_UDP, payload: datagram }));
  const segLens = spec.path.meta.segLens;
  return {
    frame,
    layout: {
      scion: scionAt,
      path: scionAt + 36,
      pathLen: pathBytes.length,
      nInf: segLens.filter((l) => l > 0).length,
      nHf: spec.path.hopFields.length,
      ext: extStarts,
      options: optionOffsets,
      shim: at,
      inner: at + shim.length,
    },
  };
}

/**
 * Rewrites the underlay IPv4 total length (and checksum) and the UDP length to match the
 * frame's size, so a corrupted frame still passes the underlay check and reaches SCION.
 */
export function fixUnderlayLengths(frame: Buffer): void {
  if (frame.length < UNDERLAY_LEN) return;
  frame.writeUInt16BE(frame.length - ETH_HLEN, 16);
  frame.writeUInt16BE(0, 24);
  frame.writeUInt16BE(ipv4Checksum(frame.subarray(ETH_HLEN, ETH_HLEN + IPV4_HLEN)), 24);
  frame.writeUInt16BE(frame.length - ETH_HLEN - IPV4_HLEN, 38);
}

/**
 * What a transit AS's border router does to the path: against construction direction
 * the ingress router first chains the SegID back (beta_{i+1} to beta_i, except at a
 * peering hop), then the hop is processed as at the source (processSourceHop: crossover,
 * SegID chaining in construction direction, CurrHF/CurrINF advanced).
 */
export function transitHop(path: ScionPath): { path: ScionPath; egressIfid: number } {
  const hf = path.meta.currHf;
  const segLens = path.meta.segLens;
  const seg = segmentOfHop(segLens, hf);
  const info = path.infoFields[seg];
  const peering = info.peer && (hf === segLens[0] - 1 || hf === segLens[0]);
  const copy: ScionPath = {
    ...path,
    infoFields: path.infoFields.map((f, i) =>
      i === seg && !info.consDir && !peering ? { ...f, segId: nextSegId(f.segId, path.hopFields[hf].mac) } : { ...f },
    ),
  };
  return processSourceHop(copy);
}
