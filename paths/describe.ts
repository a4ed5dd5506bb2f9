// flow.ScionPath from what is known about a path: the control plane's metadata for a path
// it handed out (hops, interfaces, geo, country, latency, expiry), or for hop fields it
// never handed out only what the bytes themselves say.
import type { ControlPlanePath } from '../controlplane/combinator';
import { defaultCountryLookup, type CountryLookup } from '../geo/country';
import { ScionPathType, type ScionHop, type ScionPath } from '../proto/gen/flow/flow';
import { formatIA, type IA } from '../scion/isdas';
import type { ScionPath as WirePath } from '../scion/path/model';
import { PATH_TYPE_NUMBER } from '../scion/path/codec';
import { segmentOfHop } from '../scion/path/scion';

const PATH_TYPES: Record<number, ScionPathType> = {
  [PATH_TYPE_NUMBER.Empty]: ScionPathType.SCION_PATH_EMPTY,
  [PATH_TYPE_NUMBER.SCION]: ScionPathType.SCION_PATH_STANDARD,
  [PATH_TYPE_NUMBER.OneHop]: ScionPathType.SCION_PATH_ONE_HOP,
  [PATH_TYPE_NUMBER.EPIC]: ScionPathType.SCION_PATH_EPIC,
};
const PATH_TYPE_NUMBERS = new Map(Object.entries(PATH_TYPES).map(([n, t]) => [t, Number(n)]));
const ALPHA2 = /^[A-Z]{2}$/;

const msToNs = (ms: number): bigint => BigInt(Math.round(ms * 1e6));

/** The flow.ScionPathType of a SCION header PathType number. */
export function pathTypeOf(pathType: number): ScionPathType {
  return PATH_TYPES[pathType] ?? ScionPathType.SCION_PATH_TYPE_UNKNOWN;
}

/** The SCION header PathType number of a flow.ScionPathType; -1 for an unknown one. */
export function pathTypeNumber(t: ScionPathType): number {
  return PATH_TYPE_NUMBERS.get(t) ?? -1;
}

/** A path nobody vouched for: its ends and type, no hops, not known to the control plane. */
export function barePath(src: IA, dst: IA, pathType: number): ScionPath {
  return { srcIa: formatIA(src), dstIa: formatIA(dst), fingerprint: '', hops: [], expiry: undefined, mtu: 0, type: pathTypeOf(pathType), pathId: 0, knownToControlPlane: false, raw: Buffer.alloc(0) };
}

/**
 * The AS-level hops of a path nobody vouched for: one per hop field in travel direction,
 * merging the two hop fields an AS contributes where two segments meet (not across a
 * peering link, whose two hop fields belong to the two peers). Only the ends' ISD-ASes
 * are known.
 */
export function hopsOfWire(p: WirePath, srcIa: string, dstIa: string): ScionHop[] {
  const segLens = p.meta.segLens;
  const out: ScionHop[] = [];
  p.hopFields.forEach((h, i) => {
    const seg = segmentOfHop(segLens, i);
    const info = p.infoFields[seg];
    const ingress = info.consDir ? h.consIngress : h.consEgress;
    const egress = info.consDir ? h.consEgress : h.consIngress;
    const segStart = i > 0 && segmentOfHop(segLens, i - 1) !== seg;
    if (segStart && !info.peer) {
      out[out.length - 1].egressInterface = egress;
      return;
    }
    out.push({ isdAs: '', ingressInterface: ingress, egressInterface: egress, geo: undefined, country: '' });
  });
  if (out.length > 0) {
    out[0].isdAs = srcIa;
    out[out.length - 1].isdAs = dstIa;
  }
  return out;
}

/** flow.ScionPath of a control-plane path: hops with interfaces, geo, country and latency. */
export function describePath(cp: ControlPlanePath, pathId: number, countries: CountryLookup = defaultCountryLookup): ScionPath {
  const hops = cp.ases.map((ia, i): ScionHop => {
    const inIdx = i > 0 ? 2 * i - 1 : -1;
    const outIdx = 2 * i < cp.interfaces.length ? 2 * i : -1;
    const g = (inIdx >= 0 ? cp.geo[inIdx] : null) ?? (outIdx >= 0 ? cp.geo[outIdx] : null) ?? null;
    let country = '';
    if (g) country = g.country !== undefined && ALPHA2.test(g.country) ? g.country : (countries.countryAt(g.latitude, g.longitude) ?? '');
    // Latency to the next hop: across this AS (interface 2i-1 to 2i), then the link (2i to 2i+1).
    let latencyNs: bigint | undefined;
    if (outIdx >= 0) {
      const parts = [...(inIdx >= 0 ? [cp.latencyMs[inIdx]] : []), cp.latencyMs[outIdx]];
      if (parts.every((ms) => ms !== null && ms !== undefined)) latencyNs = msToNs(parts.reduce((a: number, b) => a + (b as number), 0));
    }
    return {
      isdAs: formatIA(ia),
      ingressInterface: inIdx >= 0 ? cp.interfaces[inIdx].ifid : 0,
      egressInterface: outIdx >= 0 ? cp.interfaces[outIdx].ifid : 0,
      geo: g ? { latitude: g.latitude, longitude: g.longitude, address: g.address } : undefined,
      country,
      ...(latencyNs !== undefined ? { latencyNs } : {}),
    };
  });
  const seconds = Math.floor(cp.expiry);
  return {
    srcIa: formatIA(cp.src),
    dstIa: formatIA(cp.dst),
    fingerprint: cp.fingerprint,
    hops,
    expiry: { seconds: BigInt(seconds), nanos: Math.round((cp.expiry - seconds) * 1e9) },
    mtu: cp.mtu,
    type: cp.interfaces.length === 0 ? ScionPathType.SCION_PATH_EMPTY : ScionPathType.SCION_PATH_STANDARD,
    pathId,
    ...(cp.latencyComplete ? { latencyNs: msToNs(cp.totalLatencyMs) } : {}),
    knownToControlPlane: true,
    raw: Buffer.alloc(0),
  };
}
