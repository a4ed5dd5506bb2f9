// Typed keys and values of the datapath maps (bpf/include/cillion_abi.h), encoded to and
// decoded from the exact bytes the kernel uses. Addresses are dotted IPv4 strings or IPv6
// text (RFC 5952 when decoded), MACs "aa:bb:..." strings, ISD-ASes bigints; everything else is a number.
import ipaddr from 'ipaddr.js';
import type { BpfMap } from './native';
import { AES_ROUND_KEYS, COUNTER_SLOTS, counterName, HDR_MAX, LAYOUTS, MAX_PATH_SET, SRV6_BEHAVIORS, SRV6_HDR_MAX, type Srv6Behavior, type StructName } from './abi';

type Fields = Record<string, { offset: number; size: number }>;

function buf(struct: StructName): [Buffer, DataView, Fields] {
  const l = LAYOUTS[struct];
  const b = Buffer.alloc(l.size);
  return [b, new DataView(b.buffer, b.byteOffset, b.length), l.fields];
}

function view(struct: StructName, b: Uint8Array): [DataView, Fields] {
  const l = LAYOUTS[struct];
  if (b.length < l.size) throw new RangeError(`${struct} needs ${l.size} bytes, got ${b.length}`);
  return [new DataView(b.buffer, b.byteOffset, b.length), l.fields];
}

export function ipv4Bytes(addr: string): Buffer {
  const parts = addr.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new RangeError(`"${addr}" is not an IPv4 address`);
  }
  return Buffer.from(parts);
}

export function ipv4String(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

export function macBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-f]{2}$/i.test(p))) throw new RangeError(`"${mac}" is not a MAC address`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function macString(b: Uint8Array, off = 0): string {
  return Array.from(b.subarray(off, off + 6), (x) => x.toString(16).padStart(2, '0')).join(':');
}

function u32Key(struct: StructName, field: string, n: number): Buffer {
  const [b, v, f] = buf(struct);
  v.setUint32(f[field].offset, n, true);
  return b;
}

// ---- endpoints ---------------------------------------------------------------------------

export interface Endpoint {
  identity: number;
  ifindex: number;
}

export const endpointKey = (ip: string): Buffer => ipv4Bytes(ip);
export const decodeEndpointKey = (b: Uint8Array): string => ipv4String(b);

export function endpointValue(e: Endpoint): Buffer {
  const [b, v, f] = buf('cil_endpoint');
  v.setUint32(f.identity.offset, e.identity, true);
  v.setUint32(f.ifindex.offset, e.ifindex, true);
  return b;
}

export function decodeEndpoint(b: Uint8Array): Endpoint {
  const [v, f] = view('cil_endpoint', b);
  return { identity: v.getUint32(f.identity.offset, true), ifindex: v.getUint32(f.ifindex.offset, true) };
}

// ---- egress policy -----------------------------------------------------------------------

export interface EgressKey {
  identity: number;
  /** Destination prefix, e.g. "10.165.0.0/16". */
  prefix: string;
}

export function egressKey(k: EgressKey): Buffer {
  const [addr, lenText] = k.prefix.split('/');
  const len = lenText === undefined ? 32 : Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > 32) throw new RangeError(`"${k.prefix}" is not an IPv4 prefix`);
  const [b, v, f] = buf('cil_egress_key');
  v.setUint32(f.prefixlen.offset, 32 + len, true);
  v.setUint32(f.identity_be.offset, k.identity, false);
  const ip = ipv4Bytes(addr).readUInt32BE(0);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  v.setUint32(f.dst_ip4_be.offset, (ip & mask) >>> 0, false);
  return b;
}

export function decodeEgressKey(b: Uint8Array): EgressKey {
  const [v, f] = view('cil_egress_key', b);
  const len = v.getUint32(f.prefixlen.offset, true) - 32;
  return { identity: v.getUint32(f.identity_be.offset, false), prefix: `${ipv4String(b, f.dst_ip4_be.offset)}/${len}` };
}

export function egressValue(pathIds: readonly number[]): Buffer {
  if (pathIds.length < 1 || pathIds.length > MAX_PATH_SET) {
    throw new RangeError(`a path set holds 1 to ${MAX_PATH_SET} paths, got ${pathIds.length}`);
  }
  const [b, v, f] = buf('cil_egress_value');
  v.setUint32(f.n_paths.offset, pathIds.length, true);
  pathIds.forEach((id, i) => v.setUint32(f.path_ids.offset + 4 * i, id, true));
  return b;
}

export function decodeEgressValue(b: Uint8Array): number[] {
  const [v, f] = view('cil_egress_value', b);
  const n = Math.min(v.getUint32(f.n_paths.offset, true), MAX_PATH_SET);
  return Array.from({ length: n }, (_, i) => v.getUint32(f.path_ids.offset + 4 * i, true));
}

// ---- paths -------------------------------------------------------------------------------

export interface PathEntry {
  ifindex: number;
  mtu: number;
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  egressIfid: number;
  /** SCION header template: common + address (host addresses zero) + path. */
  header: Uint8Array;
}

export const pathKey = (id: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(id);
  return b;
};
export const decodePathKey = (b: Uint8Array): number => Buffer.from(b).readUInt32LE(0);

export function pathValue(p: PathEntry): Buffer {
  if (p.header.length > HDR_MAX || p.header.length % 4 !== 0) {
    throw new RangeError(`SCION header template of ${p.header.length} bytes (at most ${HDR_MAX}, a multiple of 4)`);
  }
  const [b, v, f] = buf('cil_path');
  v.setUint32(f.ifindex.offset, p.ifindex, true);
  v.setUint16(f.mtu.offset, p.mtu, true);
  v.setUint16(f.hdr_len.offset, p.header.length, true);
  macBytes(p.srcMac).copy(b, f.src_mac.offset);
  macBytes(p.dstMac).copy(b, f.dst_mac.offset);
  ipv4Bytes(p.srcIp).copy(b, f.src_ip4_be.offset);
  ipv4Bytes(p.dstIp).copy(b, f.dst_ip4_be.offset);
  v.setUint16(f.src_port_be.offset, p.srcPort, false);
  v.setUint16(f.dst_port_be.offset, p.dstPort, false);
  v.setUint16(f.egress_ifid.offset, p.egressIfid, true);
  b.set(p.header, f.hdr.offset);
  return b;
}

export function decodePath(b: Uint8Array): PathEntry {
  const [v, f] = view('cil_path', b);
  const hdrLen = Math.min(v.getUint16(f.hdr_len.offset, true), HDR_MAX);
  return {
    ifindex: v.getUint32(f.ifindex.offset, true),
    mtu: v.getUint16(f.mtu.offset, true),
    srcMac: macString(b, f.src_mac.offset),
    dstMac: macString(b, f.dst_mac.offset),
    srcIp: ipv4String(b, f.src_ip4_be.offset),
    dstIp: ipv4String(b, f.dst_ip4_be.offset),
    srcPort: v.getUint16(f.src_port_be.offset, false),
    dstPort: v.getUint16(f.dst_port_be.offset, false),
    egressIfid: v.getUint16(f.egress_ifid.offset, true),
    header: Uint8Array.from(b.subarray(f.hdr.offset, f.hdr.offset + hdrLen)),
  };
}

// ---- interfaces --------------------------------------------------------------------------

export interface InterfaceEntry {
  ifindex: number;
  localIp: string;
  remoteIp: string;
  localPort: number;
  remotePort: number;
  localMac: string;
  remoteMac: string;
}

export const ifindexKey = (ifindex: number): Buffer => u32Key('cil_ifindex_key', 'ifindex', ifindex);
export const ifidKey = (ifid: number): Buffer => u32Key('cil_ifid_key', 'ifid', ifid);
export const decodeU32 = (b: Uint8Array): number => Buffer.from(b).readUInt32LE(0);
export const u32Value = (n: number): Buffer => u32Key('cil_ifid_key', 'ifid', n);

export function interfaceValue(i: InterfaceEntry): Buffer {
  const [b, v, f] = buf('cil_interface');
  v.setUint32(f.ifindex.offset, i.ifindex, true);
  ipv4Bytes(i.localIp).copy(b, f.local_ip4_be.offset);
  ipv4Bytes(i.remoteIp).copy(b, f.remote_ip4_be.offset);
  v.setUint16(f.local_port_be.offset, i.localPort, false);
  v.setUint16(f.remote_port_be.offset, i.remotePort, false);
  macBytes(i.localMac).copy(b, f.local_mac.offset);
  macBytes(i.remoteMac).copy(b, f.remote_mac.offset);
  return b;
}

export function decodeInterface(b: Uint8Array): InterfaceEntry {
  const [v, f] = view('cil_interface', b);
  return {
    ifindex: v.getUint32(f.ifindex.offset, true),
    localIp: ipv4String(b, f.local_ip4_be.offset),
    remoteIp: ipv4String(b, f.remote_ip4_be.offset),
    localPort: v.getUint16(f.local_port_be.offset, false),
    remotePort: v.getUint16(f.remote_port_be.offset, false),
    localMac: macString(b, f.local_mac.offset),
    remoteMac: macString(b, f.remote_mac.offset),
  };
}

// ---- AS config ---------------------------------------------------------------------------

export interface AsConfig {
  localIA: bigint;
  realtimeOffsetNs: bigint;
  /** AES-128 round keys and CMAC K1 of the hop-field key (bpf/aes_keys.ts); null: no key. */
  key: { roundKeys: Uint32Array; k1: Uint8Array } | null;
}

export function configValue(c: AsConfig): Buffer {
  const [b, v, f] = buf('cil_config');
  v.setBigUint64(f.local_ia.offset, c.localIA, true);
  v.setBigInt64(f.realtime_offset_ns.offset, c.realtimeOffsetNs, true);
  v.setUint32(f.has_key.offset, c.key ? 1 : 0, true);
  if (c.key) {
    if (c.key.roundKeys.length !== AES_ROUND_KEYS || c.key.k1.length !== 16) throw new RangeError('bad key material');
    c.key.roundKeys.forEach((w, i) => v.setUint32(f.rk.offset + 4 * i, w, true));
    b.set(c.key.k1, f.cmac_k1.offset);
  }
  return b;
}

export function decodeConfig(b: Uint8Array): AsConfig {
  const [v, f] = view('cil_config', b);
  const hasKey = v.getUint32(f.has_key.offset, true) !== 0;
  return {
    localIA: v.getBigUint64(f.local_ia.offset, true),
    realtimeOffsetNs: v.getBigInt64(f.realtime_offset_ns.offset, true),
    key: hasKey
      ? {
          roundKeys: Uint32Array.from({ length: AES_ROUND_KEYS }, (_, i) => v.getUint32(f.rk.offset + 4 * i, true)),
          k1: Uint8Array.from(b.subarray(f.cmac_k1.offset, f.cmac_k1.offset + 16)),
        }
      : null,
  };
}

// ---- ingress allow list ------------------------------------------------------------------

export const identityKey = (identity: number): Buffer => u32Key('cil_identity_key', 'identity', identity);

export interface IngressAllowKey {
  dstIdentity: number;
  /** 0 admits any source identity on this path. */
  srcIdentity: number;
  pathKey: bigint;
}

export function ingressAllowKey(k: IngressAllowKey): Buffer {
  const [b, v, f] = buf('cil_ingress_allow_key');
  v.setUint32(f.dst_identity.offset, k.dstIdentity, true);
  v.setUint32(f.src_identity.offset, k.srcIdentity, true);
  v.setBigUint64(f.path_key.offset, k.pathKey, true);
  return b;
}

export function decodeIngressAllowKey(b: Uint8Array): IngressAllowKey {
  const [v, f] = view('cil_ingress_allow_key', b);
  return {
    dstIdentity: v.getUint32(f.dst_identity.offset, true),
    srcIdentity: v.getUint32(f.src_identity.offset, true),
    pathKey: v.getBigUint64(f.path_key.offset, true),
  };
}

// ---- cross-cluster identity policy -----------------------------------------------------

export interface XPolicyKey {
  dstIdentity: number;
  srcIdentity: number;
  /** IPPROTO_*; 0 for any protocol. */
  proto: number;
  /** 0 for any port. */
  dport: number;
}

export function xpolicyKey(k: XPolicyKey): Buffer {
  const [b, v, f] = buf('cil_xpolicy_key');
  v.setUint32(f.dst_identity.offset, k.dstIdentity, true);
  v.setUint32(f.src_identity.offset, k.srcIdentity, true);
  v.setUint8(f.proto.offset, k.proto);
  v.setUint16(f.dport.offset, k.dport, true);
  return b;
}

export function decodeXPolicyKey(b: Uint8Array): XPolicyKey {
  const [v, f] = view('cil_xpolicy_key', b);
  return {
    dstIdentity: v.getUint32(f.dst_identity.offset, true),
    srcIdentity: v.getUint32(f.src_identity.offset, true),
    proto: v.getUint8(f.proto.offset),
    dport: v.getUint16(f.dport.offset, true),
  };
}

// ---- SRv6 ------------------------------------------------------------------------------

export function ipv6Bytes(addr: string): Buffer {
  if (!ipaddr.IPv6.isValid(addr) || addr.includes('/')) throw new RangeError(`"${addr}" is not an IPv6 address`);
  return Buffer.from(ipaddr.IPv6.parse(addr).toByteArray());
}

/** RFC 5952 text of the 16 bytes at `off`; '' when they are all zero. */
export function ipv6String(b: Uint8Array, off = 0): string {
  const bytes = b.subarray(off, off + 16);
  return bytes.every((x) => x === 0) ? '' : ipaddr.fromByteArray(Array.from(bytes)).toString();
}

/** "addr/len" of either family, masked to its length (the LPM tries want host bits zero). */
function prefixBytes(prefix: string, family: 4 | 6): { addr: Buffer; len: number } {
  const [text, lenText] = prefix.split('/');
  const bits = family === 4 ? 32 : 128;
  const len = lenText === undefined ? bits : Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > bits || (lenText !== undefined && !/^\d+$/.test(lenText))) {
    throw new RangeError(`"${prefix}" is not an IPv${family} prefix`);
  }
  const addr = family === 4 ? ipv4Bytes(text) : ipv6Bytes(text);
  for (let i = 0; i < addr.length; i++) {
    const keep = Math.max(0, Math.min(8, len - 8 * i));
    addr[i] &= (0xff00 >> keep) & 0xff;
  }
  return { addr, len };
}

export interface Srv6Seglist {
  /** Device towards the first segment. */
  ifindex: number;
  /** IPv6 MTU of the path: outer headers plus the inner packet. */
  mtu: number;
  /** VRF the last segment decapsulates into. */
  tenantId: number;
  srcMac: string;
  dstMac: string;
  /** Outer IPv6 header (payload length 0) and SRH, as built by srv6Header(). */
  header: Uint8Array;
}

/**
 * The H.Encaps template of a segment list: an IPv6 header (payload length 0, next header
 * 43, hop limit 64, `source`, destination = the SRH's active segment) and the SRH bytes.
 */
export function srv6Header(source: string, srh: Uint8Array): Buffer {
  if (srh.length < 24 || srh.length % 8 !== 0 || srh[2] !== 4) throw new RangeError('not an SRH of at least one segment');
  const active = 8 + 16 * srh[3];
  if (active + 16 > srh.length) throw new RangeError(`SRH Segments Left ${srh[3]} points past its segment list`);
  const b = Buffer.alloc(40 + srh.length);
  b[0] = 0x60;
  b[6] = 43;
  b[7] = 64;
  ipv6Bytes(source).copy(b, 8);
  b.set(srh.subarray(active, active + 16), 24);
  b.set(srh, 40);
  return b;
}

export function srv6SeglistValue(p: Srv6Seglist): Buffer {
  if (p.header.length > SRV6_HDR_MAX || p.header.length % 8 !== 0 || p.header.length < 64) {
    throw new RangeError(`SRv6 header template of ${p.header.length} bytes (64 to ${SRV6_HDR_MAX}, a multiple of 8)`);
  }
  const [b, v, f] = buf('cil_srv6_seglist');
  v.setUint32(f.ifindex.offset, p.ifindex, true);
  v.setUint16(f.mtu.offset, p.mtu, true);
  v.setUint16(f.hdr_len.offset, p.header.length, true);
  v.setUint32(f.tenant_id.offset, p.tenantId, true);
  macBytes(p.srcMac).copy(b, f.src_mac.offset);
  macBytes(p.dstMac).copy(b, f.dst_mac.offset);
  b.set(p.header, f.hdr.offset);
  return b;
}

export function decodeSrv6Seglist(b: Uint8Array): Srv6Seglist {
  const [v, f] = view('cil_srv6_seglist', b);
  const hdrLen = Math.min(v.getUint16(f.hdr_len.offset, true), SRV6_HDR_MAX);
  return {
    ifindex: v.getUint32(f.ifindex.offset, true),
    mtu: v.getUint16(f.mtu.offset, true),
    tenantId: v.getUint32(f.tenant_id.offset, true),
    srcMac: macString(b, f.src_mac.offset),
    dstMac: macString(b, f.dst_mac.offset),
    header: Uint8Array.from(b.subarray(f.hdr.offset, f.hdr.offset + hdrLen)),
  };
}

/** A SID as IPv6 text. */
export const sidKey = (sid: string): Buffer => ipv6Bytes(sid);
export const decodeSidKey = (b: Uint8Array): string => ipv6String(b);

export interface LocalSid {
  behavior: Srv6Behavior;
  /** End.DT4/End.DT6: the tenant table; 0 otherwise. */
  tenantId: number;
  /** End.X: the adjacency's device and MACs; 0 and zero MACs otherwise. */
  ifindex: number;
  srcMac: string;
  dstMac: string;
}

const BEHAVIOR_NAMES = new Map(Object.entries(SRV6_BEHAVIORS).map(([k, v]) => [v, k as Srv6Behavior]));

export function localSidValue(s: LocalSid): Buffer {
  const behavior = SRV6_BEHAVIORS[s.behavior];
  if (behavior === undefined) throw new RangeError(`unknown SRv6 behavior "${s.behavior}"`);
  const [b, v, f] = buf('cil_local_sid');
  v.setUint32(f.behavior.offset, behavior, true);
  v.setUint32(f.tenant_id.offset, s.tenantId, true);
  v.setUint32(f.ifindex.offset, s.ifindex, true);
  macBytes(s.srcMac).copy(b, f.src_mac.offset);
  macBytes(s.dstMac).copy(b, f.dst_mac.offset);
  return b;
}

export function decodeLocalSid(b: Uint8Array): LocalSid {
  const [v, f] = view('cil_local_sid', b);
  const n = v.getUint32(f.behavior.offset, true);
  const behavior = BEHAVIOR_NAMES.get(n);
  if (!behavior) throw new RangeError(`unknown SRv6 behavior ${n}`);
  return {
    behavior,
    tenantId: v.getUint32(f.tenant_id.offset, true),
    ifindex: v.getUint32(f.ifindex.offset, true),
    srcMac: macString(b, f.src_mac.offset),
    dstMac: macString(b, f.dst_mac.offset),
  };
}

/** A locator prefix, e.g. "fc00:0:1::/48". */
export function locatorKey(prefix: string): Buffer {
  const { addr, len } = prefixBytes(prefix, 6);
  const [b, v, f] = buf('cil_locator_key');
  v.setUint32(f.prefixlen.offset, len, true);
  addr.copy(b, f.addr.offset);
  return b;
}

export function decodeLocatorKey(b: Uint8Array): string {
  const [v, f] = view('cil_locator_key', b);
  return `${ipv6String(b, f.addr.offset) || '::'}/${v.getUint32(f.prefixlen.offset, true)}`;
}

export interface TenantKey {
  tenantId: number;
  /** Inner destination prefix: IPv4 in srv6_tenant_routes4, IPv6 in srv6_tenant_routes6. */
  prefix: string;
}

export function tenantKey4(k: TenantKey): Buffer {
  const { addr, len } = prefixBytes(k.prefix, 4);
  const [b, v, f] = buf('cil_tenant_key4');
  v.setUint32(f.prefixlen.offset, 32 + len, true);
  v.setUint32(f.tenant_id_be.offset, k.tenantId, false);
  addr.copy(b, f.ip4_be.offset);
  return b;
}

export function decodeTenantKey4(b: Uint8Array): TenantKey {
  const [v, f] = view('cil_tenant_key4', b);
  return { tenantId: v.getUint32(f.tenant_id_be.offset, false), prefix: `${ipv4String(b, f.ip4_be.offset)}/${v.getUint32(f.prefixlen.offset, true) - 32}` };
}

export function tenantKey6(k: TenantKey): Buffer {
  const { addr, len } = prefixBytes(k.prefix, 6);
  const [b, v, f] = buf('cil_tenant_key6');
  v.setUint32(f.prefixlen.offset, 32 + len, true);
  v.setUint32(f.tenant_id_be.offset, k.tenantId, false);
  addr.copy(b, f.ip6.offset);
  return b;
}

export function decodeTenantKey6(b: Uint8Array): TenantKey {
  const [v, f] = view('cil_tenant_key6', b);
  return { tenantId: v.getUint32(f.tenant_id_be.offset, false), prefix: `${ipv6String(b, f.ip6.offset) || '::'}/${v.getUint32(f.prefixlen.offset, true) - 32}` };
}

export interface TenantRoute {
  /** 0: the node's stack routes the decapsulated packet; else the device to send it out of. */
  ifindex: number;
  /** The destination endpoint's security identity; 0 when not known. */
  identity: number;
}

export function tenantRouteValue(r: TenantRoute): Buffer {
  const [b, v, f] = buf('cil_tenant_route');
  v.setUint32(f.ifindex.offset, r.ifindex, true);
  v.setUint32(f.identity.offset, r.identity, true);
  return b;
}

export function decodeTenantRoute(b: Uint8Array): TenantRoute {
  const [v, f] = view('cil_tenant_route', b);
  return { ifindex: v.getUint32(f.ifindex.offset, true), identity: v.getUint32(f.identity.offset, true) };
}

// ---- counters ----------------------------------------------------------------------------

/** Sums a per-CPU cil_counter_value over CPUs (each slot padded to 8 bytes, as the kernel lays them out). */
export function sumCounter(b: Uint8Array, cpus: number): { packets: bigint; bytes: bigint } {
  const size = LAYOUTS.cil_counter_value.size;
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  let packets = 0n;
  let bytes = 0n;
  for (let c = 0; c < cpus; c++) {
    packets += v.getBigUint64(c * size, true);
    bytes += v.getBigUint64(c * size + 8, true);
  }
  return { packets, bytes };
}

/** Packets and bytes per slot of a `counters` map, summed over CPUs; slots never hit are left out. */
export function counterTotals(counters: BpfMap): Record<string, { packets: bigint; bytes: bigint }> {
  const out: Record<string, { packets: bigint; bytes: bigint }> = {};
  for (let i = 1; i < COUNTER_SLOTS; i++) {
    const raw = counters.lookup(Buffer.from(Uint32Array.of(i).buffer));
    if (raw === null) continue;
    const t = sumCounter(raw, counters.possibleCpus);
    if (t.packets > 0n) out[counterName(i)] = t;
  }
  return out;
}
