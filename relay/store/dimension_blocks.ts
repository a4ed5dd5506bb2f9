// Rows of the tables flows reference, as Native blocks in their column order (schema.ts):
// `workloads` (endpoints by key), `path_headers` (rebuilt paths by key) and `paths` (the
// dashboards' path dimension by fingerprint). A batch writes only the entries not written
// within the last hour, so these are small. Array(LowCardinality) columns of `paths` are sent
// as Array(String) and cast by the insert.
import type { ScionHop, ScionPath } from '../../proto/gen/flow/flow';
import type { StoredEndpoint, StoredPath } from './judged';
import {
  arrayColumn, constIntColumn, float64Column, intColumn, lowCardinalityColumn, nativeBlock, nullableColumn,
  stringColumn, type NativeColumn,
} from './native';
import { canonicalIA } from './rows';
import { SCION_PATH_TYPE } from './schema';

/** LowCardinality(String) of arbitrary values. */
function lc(values: readonly string[]): NativeColumn {
  const keys = [''];
  const seen = new Map<string, number>([['', 0]]);
  const index = new Uint32Array(values.length);
  values.forEach((v, i) => {
    let k = seen.get(v);
    if (k === undefined) {
      k = keys.length;
      keys.push(v);
      seen.set(v, k);
    }
    index[i] = k;
  });
  return lowCardinalityColumn(keys, index);
}

function nullableU64(values: readonly (bigint | undefined)[]): NativeColumn {
  return nullableColumn(Uint8Array.from(values, (v) => (v === undefined ? 1 : 0)), intColumn('UInt64', values.map((v) => v ?? 0n)));
}

function nullableF64(values: readonly (number | undefined)[]): NativeColumn {
  return nullableColumn(Uint8Array.from(values, (v) => (v === undefined ? 1 : 0)), float64Column(values.map((v) => v ?? 0)));
}

/** Per hop of every path, in order; with the per-path hop counts for Array columns. */
function hopsOf(paths: readonly ScionPath[]): { lengths: number[]; hops: ScionHop[] } {
  return { lengths: paths.map((p) => p.hops.length), hops: paths.flatMap((p) => p.hops) };
}

export function workloadsBlock(entries: readonly StoredEndpoint[], seenAt: number): Buffer {
  const eps = entries.map((e) => e.endpoint);
  return nativeBlock([
    ['key', intColumn('UInt64', entries.map((e) => e.key))],
    ['ID', intColumn('UInt32', eps.map((e) => e.ID))],
    ['identity', intColumn('UInt32', eps.map((e) => e.identity))],
    ['cluster_name', lc(eps.map((e) => e.clusterName))],
    ['namespace', lc(eps.map((e) => e.namespace))],
    ['pod_name', stringColumn(eps.map((e) => e.podName))],
    ['labels', arrayColumn(eps.map((e) => e.labels.length), stringColumn(eps.flatMap((e) => e.labels)))],
    ['workloads.name', arrayColumn(eps.map((e) => e.workloads.length), stringColumn(eps.flatMap((e) => e.workloads.map((w) => w.name))))],
    ['workloads.kind', arrayColumn(eps.map((e) => e.workloads.length), stringColumn(eps.flatMap((e) => e.workloads.map((w) => w.kind))))],
    ['last_seen', constIntColumn("DateTime('UTC')", seenAt, entries.length)],
  ]);
}

export function pathHeadersBlock(entries: readonly StoredPath[], seenAt: number): Buffer {
  const paths = entries.map((e) => e.path);
  const { lengths, hops } = hopsOf(paths);
  const perHop = (c: NativeColumn) => arrayColumn(lengths, c);
  const expiryNs = (p: ScionPath) => (p.expiry ? p.expiry.seconds * 1_000_000_000n + BigInt(p.expiry.nanos) : undefined);
  return nativeBlock([
    ['key', intColumn('UInt64', entries.map((e) => e.key))],
    ['fingerprint', stringColumn(paths.map((p) => p.fingerprint))],
    ['type', intColumn(SCION_PATH_TYPE, paths.map((p) => p.type))],
    ['src_ia', stringColumn(paths.map((p) => p.srcIa))],
    ['dst_ia', stringColumn(paths.map((p) => p.dstIa))],
    ['path_id', intColumn('UInt32', paths.map((p) => p.pathId))],
    ['mtu', intColumn('UInt32', paths.map((p) => p.mtu))],
    ['expiry', nullableColumn(
      Uint8Array.from(paths, (p) => (p.expiry ? 0 : 1)),
      intColumn("DateTime64(9, 'UTC')", paths.map((p) => expiryNs(p) ?? 0n)),
    )],
    ['latency_ns', nullableU64(paths.map((p) => p.latencyNs))],
    ['known', intColumn('UInt8', paths.map((p) => (p.knownToControlPlane ? 1 : 0)))],
    ['raw', stringColumn(paths.map((p) => p.raw))],
    ['hops.isd_as', perHop(stringColumn(hops.map((h) => h.isdAs)))],
    ['hops.ingress_interface', perHop(intColumn('UInt32', hops.map((h) => h.ingressInterface)))],
    ['hops.egress_interface', perHop(intColumn('UInt32', hops.map((h) => h.egressInterface)))],
    ['hops.latitude', perHop(nullableF64(hops.map((h) => h.geo?.latitude)))],
    ['hops.longitude', perHop(nullableF64(hops.map((h) => h.geo?.longitude)))],
    ['hops.address', perHop(stringColumn(hops.map((h) => h.geo?.address ?? '')))],
    ['hops.country', perHop(stringColumn(hops.map((h) => h.country)))],
    ['hops.latency_ns', perHop(nullableU64(hops.map((h) => h.latencyNs)))],
    ['last_seen', constIntColumn("DateTime('UTC')", seenAt, entries.length)],
  ]);
}

/** The dashboards' path rows: canonical ISD-AS text, upper-case countries, lower-case fingerprint. */
export function pathsBlock(paths: readonly ScionPath[], seenAt: number): Buffer {
  const { lengths, hops } = hopsOf(paths);
  const perHop = (c: NativeColumn) => arrayColumn(lengths, c);
  return nativeBlock([
    ['fingerprint', stringColumn(paths.map((p) => p.fingerprint.toLowerCase()))],
    ['src_ia', lc(paths.map((p) => canonicalIA(p.srcIa)))],
    ['dst_ia', lc(paths.map((p) => canonicalIA(p.dstIa)))],
    ['hop_count', intColumn('UInt16', lengths.map((n) => Math.min(n, 0xffff)))],
    ['latency_ns', nullableU64(paths.map((p) => p.latencyNs))],
    ['mtu', intColumn('UInt32', paths.map((p) => p.mtu))],
    ['known', intColumn('UInt8', paths.map((p) => (p.knownToControlPlane ? 1 : 0)))],
    ['hops.isd_as', perHop(stringColumn(hops.map((h) => canonicalIA(h.isdAs))))],
    ['hops.ingress_interface', perHop(intColumn('UInt16', hops.map((h) => h.ingressInterface & 0xffff)))],
    ['hops.egress_interface', perHop(intColumn('UInt16', hops.map((h) => h.egressInterface & 0xffff)))],
    ['hops.latitude', perHop(nullableF64(hops.map((h) => h.geo?.latitude)))],
    ['hops.longitude', perHop(nullableF64(hops.map((h) => h.geo?.longitude)))],
    ['hops.country', perHop(stringColumn(hops.map((h) => h.country.toUpperCase())))],
    ['hops.latency_ns', perHop(nullableU64(hops.map((h) => h.latencyNs)))],
    ['last_seen', constIntColumn("DateTime('UTC')", seenAt, paths.length)],
  ]);
}
