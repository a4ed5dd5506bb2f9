// ControlPlanePath <-> daemon.v1 Path, and the protobuf time types, as SCION's daemon and
// its Go client convert them (daemon/internal/servers, pkg/daemon). daemon.v1 is narrower
// than ControlPlanePath, and the conversion says so instead of inventing values:
// - an unannounced latency travels as a negative Duration (snet's LatencyUnset, -1 ns);
// - an unannounced position is the zero GeoCoordinates; positions are float32 and carry no
//   country, so a position read back has no `country` (left to an offline lookup);
// - segments are not part of the API, so a path read back has `segments: []`;
// - which AS issued each hop field and the relation of each link are recovered from the
//   raw path's info and hop fields, which needs to know whether the source AS is core.
import type { IA } from '../scion/isdas';
import type { InfoField, PathInterface, ScionPath } from '../scion/path/model';
import { pathFingerprint } from '../scion/path/fingerprint';
import { decodeScionPathBytes, encodeScionPathBytes } from '../scion/path/raw';
import { segmentOfHop } from '../scion/path/scion';
import { ScionError } from '../scion/errors';
import { LinkType, type GeoCoordinates, type Path as PathPB } from '../proto/gen/daemon/v1/daemon';
import type { Duration } from '../proto/gen/google/protobuf/duration';
import type { Timestamp } from '../proto/gen/google/protobuf/timestamp';
import { emptyPath, type ControlPlanePath, type SegmentRole } from './combinator';
import { DaemonError } from './daemon_error';
import type { GeoLocation, LinkMedium, LinkTo } from './topology';

const NS_PER_MS = 1e6;
const NS_PER_S = 1e9;

/** A latency in milliseconds as a Duration; null (unannounced) becomes -1 ns as in snet. */
export function durationFromMs(ms: number | null): Duration {
  if (ms === null) return { seconds: 0n, nanos: -1 };
  const ns = Math.round(ms * NS_PER_MS);
  const seconds = Math.trunc(ns / NS_PER_S);
  return { seconds: BigInt(seconds), nanos: ns - seconds * NS_PER_S };
}

/** Milliseconds of a Duration; null for a negative (unannounced) or absent one. */
export function msFromDuration(d: Duration | undefined): number | null {
  if (d === undefined) return null;
  const ns = Number(d.seconds) * NS_PER_S + d.nanos;
  return ns < 0 ? null : ns / NS_PER_MS;
}

/** Unix seconds, possibly fractional, as a Timestamp. */
export function timestampFromSeconds(s: number): Timestamp {
  const whole = Math.floor(s);
  return { seconds: BigInt(whole), nanos: Math.round((s - whole) * NS_PER_S) };
}

export function secondsFromTimestamp(t: Timestamp): number {
  return Number(t.seconds) + t.nanos / NS_PER_S;
}

const LINK_TYPE: Record<LinkMedium, LinkType> = {
  unspecified: LinkType.LINK_TYPE_UNSPECIFIED,
  direct: LinkType.LINK_TYPE_DIRECT,
  multihop: LinkType.LINK_TYPE_MULTI_HOP,
  opennet: LinkType.LINK_TYPE_OPEN_NET,
};

function linkMedium(t: LinkType): LinkMedium {
  switch (t) {
    case LinkType.LINK_TYPE_DIRECT:
      return 'direct';
    case LinkType.LINK_TYPE_MULTI_HOP:
      return 'multihop';
    case LinkType.LINK_TYPE_OPEN_NET:
      return 'opennet';
    default:
      return 'unspecified';
  }
}

/**
 * The shortest decimal that rounds to the same float32, as Go prints a float32: the
 * coordinates a topology declares come back as written, not as 47.37689971923828.
 */
function float32Decimal(x: number): number {
  for (let digits = 1; digits <= 9; digits++) {
    const y = Number(x.toPrecision(digits));
    if (Math.fround(y) === x) return y;
  }
  return x;
}

function geoToProto(g: GeoLocation | null): GeoCoordinates {
  return g === null ? { latitude: 0, longitude: 0, address: '' } : { latitude: g.latitude, longitude: g.longitude, address: g.address };
}

function geoFromProto(g: GeoCoordinates | undefined): GeoLocation | null {
  if (g === undefined || (g.latitude === 0 && g.longitude === 0 && g.address === '')) return null;
  return { latitude: float32Decimal(g.latitude), longitude: float32Decimal(g.longitude), address: g.address };
}

/** The daemon.v1 Path of a ControlPlanePath; a path without hop fields is sent as SCION sends the local path: no raw bytes. */
export function pathToProto(p: ControlPlanePath): PathPB {
  return {
    raw: Buffer.from(p.path.hopFields.length === 0 ? new Uint8Array(0) : encodeScionPathBytes(p.path)),
    interface: { address: { address: p.nextHop?.underlay ?? '' } },
    interfaces: p.interfaces.map((i) => ({ isdAs: i.ia, id: BigInt(i.ifid) })),
    mtu: p.mtu,
    expiration: timestampFromSeconds(p.expiry),
    latency: p.latencyMs.map(durationFromMs),
    bandwidth: p.bandwidthKbps.map((b) => BigInt(b)),
    geo: p.geo.map(geoToProto),
    linkType: p.linkTypes.map((t) => LINK_TYPE[t]),
    internalHops: p.internalHops,
    notes: p.notes,
    epicAuths: undefined,
    discoveryInformation: new Map(),
  };
}

/** What the caller asked for, which the reply alone does not say. */
export interface PathContext {
  src: IA;
  dst: IA;
  /** Whether src is a core AS: with it, single-segment and two-segment paths have unambiguous roles. */
  srcCore: boolean;
}

const bad = (message: string): DaemonError => new DaemonError('BAD_RESPONSE', message);

/** `list` cut or padded to `n` entries, so a daemon that omits trailing metadata still yields full-length lists. */
function fit<T, U>(list: readonly T[], n: number, map: (v: T | undefined) => U): U[] {
  return Array.from({ length: n }, (_, i) => map(list[i]));
}

function segmentRoles(infos: readonly InfoField[], srcCore: boolean): SegmentRole[] {
  // Up and core segments are followed against construction direction, down segments along it.
  switch (infos.length) {
    case 3:
      return ['up', 'core', 'down'];
    case 2:
      if (!infos[1].consDir) return ['up', 'core'];
      return infos[0].peer || !srcCore ? ['up', 'down'] : ['core', 'down'];
    case 1:
      return [infos[0].consDir ? 'down' : srcCore ? 'core' : 'up'];
    default:
      return [];
  }
}

/**
 * The hop field that crosses each interface. Walking the hop fields in travel order, each
 * one crosses its ingress and then its egress interface, in travel direction; an interface
 * a hop field names but the path does not cross (where a shortcut leaves a segment) is
 * another interface of the same AS, so it never matches the next listed one.
 */
function crossingHops(path: ScionPath, interfaces: readonly PathInterface[]): number[] {
  const hopOf: number[] = [];
  path.hopFields.forEach((h, i) => {
    const consDir = path.infoFields[segmentOfHop(path.meta.segLens, i)].consDir;
    const travel = consDir ? [h.consIngress, h.consEgress] : [h.consEgress, h.consIngress];
    let owner: IA | undefined;
    for (const ifid of travel) {
      const next = interfaces[hopOf.length];
      if (ifid === 0 || next === undefined || next.ifid !== ifid || (owner !== undefined && owner !== next.ia)) continue;
      owner = next.ia;
      hopOf.push(i);
    }
    if (owner === undefined) throw bad(`hop field ${i} crosses none of the listed interfaces`);
  });
  if (hopOf.length !== interfaces.length) throw bad(`the hop fields cross ${hopOf.length} of the ${interfaces.length} listed interfaces`);
  return hopOf;
}

function emptyPathFromProto(pb: PathPB, ctx: PathContext, expiry: number): ControlPlanePath {
  if (ctx.src !== ctx.dst) throw bad('a path without interfaces between different ASes');
  if (pb.raw.length > 0 && decodeScionPathBytes(pb.raw).hopFields.length > 0) throw bad('hop fields but no interfaces');
  return emptyPath(ctx.src, pb.mtu, expiry, pb.notes[0] ?? '');
}

/** A daemon.v1 Path as a ControlPlanePath; throws DaemonError BAD_RESPONSE when it does not hold together. */
export function pathFromProto(pb: PathPB, ctx: PathContext): ControlPlanePath {
  if (pb.expiration === undefined) throw bad('path without expiration');
  const expiry = secondsFromTimestamp(pb.expiration);
  const interfaces = pb.interfaces.map((i, k): PathInterface => {
    if (i.id < 1n || i.id > 0xffffn) throw bad(`interface ${k}: ID ${i.id} is not a 16-bit interface ID`);
    return { ia: i.isdAs, ifid: Number(i.id) };
  });
  if (interfaces.length === 0) {
    try {
      return emptyPathFromProto(pb, ctx, expiry);
    } catch (e) {
      throw e instanceof ScionError ? bad(`raw path: ${e.message}`) : e;
    }
  }
  if (interfaces.length % 2 !== 0) throw bad(`${interfaces.length} interfaces, not two per link`);
  const first = interfaces[0];
  const last = interfaces[interfaces.length - 1];
  if (first.ia !== ctx.src || last.ia !== ctx.dst) throw bad('the interfaces do not lead from the source to the destination AS');

  let path: ScionPath;
  try {
    path = decodeScionPathBytes(pb.raw);
  } catch (e) {
    throw e instanceof ScionError ? bad(`raw path: ${e.message}`) : e;
  }
  const hopOf = crossingHops(path, interfaces);
  const hopFieldAses: IA[] = [];
  hopOf.forEach((h, k) => (hopFieldAses[h] = interfaces[k].ia));

  const roles = segmentRoles(path.infoFields, ctx.srcCore);
  const lastHopOf = (seg: number): number => path.meta.segLens.slice(0, seg + 1).reduce((a, b) => a + b, 0) - 1;
  const linkRelations = interfaces
    .filter((_, k) => k % 2 === 0)
    .map((_, link): LinkTo => {
      const hop = hopOf[2 * link];
      const seg = segmentOfHop(path.meta.segLens, hop);
      // A peering path leaves its up segment over the peering link, from that segment's last hop field.
      if (path.infoFields[seg].peer && roles[seg] === 'up' && hop === lastHopOf(seg)) return 'PEER';
      return roles[seg] === 'up' ? 'PARENT' : roles[seg] === 'down' ? 'CHILD' : 'CORE';
    });

  const n = interfaces.length;
  const ases = [first.ia, ...interfaces.filter((_, k) => k % 2 === 1).map((i) => i.ia)];
  const latencyMs = fit(pb.latency, n - 1, msFromDuration);
  const bandwidthKbps = fit(pb.bandwidth, n - 1, (b) => Number(b ?? 0n));
  const known = latencyMs.filter((l): l is number => l !== null);
  const announced = bandwidthKbps.filter((b) => b > 0);
  const underlay = pb.interface?.address?.address;
  return {
    src: ctx.src,
    dst: ctx.dst,
    path,
    interfaces,
    fingerprint: pathFingerprint(interfaces),
    nextHop: { ifid: first.ifid, ...(underlay ? { underlay } : {}) },
    ases,
    hopFieldAses,
    mtu: pb.mtu,
    expiry,
    latencyMs,
    totalLatencyMs: known.reduce((a, b) => a + b, 0),
    latencyComplete: known.length === latencyMs.length,
    bandwidthKbps,
    minBandwidthKbps: announced.length > 0 ? Math.min(...announced) : 0,
    geo: fit(pb.geo, n, geoFromProto),
    linkTypes: fit(pb.linkType, n / 2, (t) => linkMedium(t ?? LinkType.LINK_TYPE_UNSPECIFIED)),
    linkRelations,
    internalHops: fit(pb.internalHops, n / 2 - 1, (h) => h ?? 0),
    notes: fit(pb.notes, ases.length, (s) => s ?? ''),
    segments: [],
  };
}
