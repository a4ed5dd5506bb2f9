// Encoded protobuf sizes of the table entries, computed without encoding them: the encoder
// sizes every new endpoint and path of a batch, and encoding each once just to measure it
// cost more than the rest of the column encoding together. Mirrors ts-proto's encode
// (proto3: default values are not written); test/unit/columns proves it equal to it.
import type { Endpoint, ScionHop, ScionPath, Srv6Path } from '../proto/gen/flow/flow';
import type { Timestamp } from '../proto/gen/google/protobuf/timestamp';

export function varintBytes(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

function varint64Bytes(v: bigint): number {
  if (v < 0n) return 10;
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

function utf8Bytes(s: string): number {
  let n = s.length;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && k + 1 < s.length && (s.charCodeAt(k + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: 2 UTF-16 units, 4 UTF-8 bytes.
      n += 2;
      k++;
    } else n += 2;
  }
  return n;
}

/** A length-delimited field of `len` bytes with a one-byte tag. */
export const fieldBytes = (len: number): number => 1 + varintBytes(len) + len;

const str = (s: string): number => (s === '' ? 0 : fieldBytes(utf8Bytes(s)));
const u32 = (n: number): number => (n === 0 ? 0 : 1 + varintBytes(n));
const i32 = (n: number): number => (n === 0 ? 0 : n < 0 ? 11 : 1 + varintBytes(n));

export function stringBytes(s: string): number {
  return fieldBytes(utf8Bytes(s));
}

function timestampBytes(t: Timestamp): number {
  return (t.seconds === 0n ? 0 : 1 + varint64Bytes(t.seconds)) + i32(t.nanos);
}

function hopBytes(h: ScionHop): number {
  let n = str(h.isdAs) + u32(h.ingressInterface) + u32(h.egressInterface) + str(h.country);
  const g = h.geo;
  if (g) n += fieldBytes((g.latitude !== 0 ? 9 : 0) + (g.longitude !== 0 ? 9 : 0) + str(g.address));
  if (h.latencyNs !== undefined) n += 1 + varint64Bytes(h.latencyNs);
  return n;
}

export function endpointBytes(e: Endpoint): number {
  let n = u32(e.ID) + u32(e.identity) + str(e.clusterName) + str(e.namespace) + str(e.podName);
  for (const l of e.labels) n += fieldBytes(utf8Bytes(l));
  for (const w of e.workloads) n += fieldBytes(str(w.name) + str(w.kind));
  return n;
}

export function pathBytes(p: ScionPath): number {
  let n = str(p.srcIa) + str(p.dstIa) + str(p.fingerprint) + u32(p.mtu) + i32(p.type) + u32(p.pathId) + (p.knownToControlPlane ? 2 : 0);
  for (const h of p.hops) n += fieldBytes(hopBytes(h));
  if (p.expiry) n += fieldBytes(timestampBytes(p.expiry));
  if (p.latencyNs !== undefined) n += 1 + varint64Bytes(p.latencyNs);
  if (p.raw.length > 0) n += fieldBytes(p.raw.length);
  return n;
}

/** An SRv6 path's evidence (columns/encode.ts evidenceOfSrv6): the fields a batch carries; the rest must be empty. */
export function srv6PathBytes(p: Srv6Path): number {
  let n = u32(p.segmentsLeft) + str(p.source) + u32(p.tenantId) + u32(p.pathId);
  if (p.raw.length > 0) n += fieldBytes(p.raw.length);
  return n;
}
