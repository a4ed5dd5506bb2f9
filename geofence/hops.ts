// The path as a geofence sees it: one hop per AS crossed, source AS first, each with its
// ISD-AS, the interfaces it was entered and left by, and where its border routers stand.
// The operator builds hops from control-plane paths, the relay from the paths of flows, so
// both hand the same shape to one engine and reach the same verdict. An SRv6 path is one
// hop per segment, placed where the SID catalogue puts the segment's node; it has no ISD-AS.
import type { ControlPlanePath } from '../controlplane/combinator';
import type { GeoLocation } from '../controlplane/topology';
import { isWildcard, tryParseIA, type IA } from '../scion/isdas';
import type { ScionPath, Srv6Path } from '../proto/gen/flow/flow';

export interface HopSite {
  latitude: number;
  longitude: number;
  /** ISO 3166-1 alpha-2 code from the path metadata; looked up from the coordinates when absent. */
  country?: string;
}

export interface Hop {
  /** Undefined when the record did not carry the hop's ISD-AS or it does not parse. */
  isdAs: IA | undefined;
  /** Interface the packet entered by; 0 at the source AS. */
  ingress: number;
  /** Interface the packet left by; 0 at the destination AS. */
  egress: number;
  /** Where the hop's border router stands; both absent when the AS declared no location. */
  latitude?: number;
  longitude?: number;
  /** ISO 3166-1 alpha-2 code from the path metadata. */
  country?: string;
  /**
   * The egress border router's site when the AS declared it apart from the ingress one (an
   * AS spanning a border): the hop is inside a fence only if both sites are.
   */
  egressSite?: HopSite;
  /**
   * Set for an SRv6 segment: its SID and the catalogue node that instantiates it ('' when
   * the catalogue does not know it). ISD and AS rules do not apply to such a hop.
   */
  segment?: { sid: string; node: string };
}

const ALPHA2 = /^[A-Z]{2}$/;

/** A metadata country worth trusting; anything else is left to the coordinate lookup. */
function metadataCountry(c: string | undefined): string | undefined {
  return c !== undefined && ALPHA2.test(c) ? c : undefined;
}

function sameSite(a: GeoLocation, b: GeoLocation): boolean {
  return a.latitude === b.latitude && a.longitude === b.longitude && metadataCountry(a.country) === metadataCountry(b.country);
}

function located(hop: Hop, g: GeoLocation): void {
  hop.latitude = g.latitude;
  hop.longitude = g.longitude;
  const c = metadataCountry(g.country);
  if (c !== undefined) hop.country = c;
}

/**
 * Hops of a control-plane path. Interfaces come in pairs per link, so hop i left by
 * interface 2i and entered by interface 2i-1. A hop is located only when every border
 * router it uses declared a position: half a hop's whereabouts cannot clear it.
 */
export function hopsFromControlPlane(p: ControlPlanePath): Hop[] {
  return p.ases.map((isdAs, i) => {
    const inIdx = i > 0 ? 2 * i - 1 : -1;
    const outIdx = 2 * i < p.interfaces.length ? 2 * i : -1;
    const hop: Hop = {
      isdAs,
      ingress: inIdx >= 0 ? p.interfaces[inIdx].ifid : 0,
      egress: outIdx >= 0 ? p.interfaces[outIdx].ifid : 0,
    };
    const gin = inIdx >= 0 ? (p.geo[inIdx] ?? null) : undefined;
    const gout = outIdx >= 0 ? (p.geo[outIdx] ?? null) : undefined;
    // null: an interface the hop uses declared no position; undefined: the hop has no such interface.
    if (gin === null || gout === null) return hop;
    const first = gin ?? gout;
    if (first === undefined) return hop;
    located(hop, first);
    if (gin !== undefined && gout !== undefined && !sameSite(gin, gout)) {
      const c = metadataCountry(gout.country);
      hop.egressSite = { latitude: gout.latitude, longitude: gout.longitude, ...(c !== undefined ? { country: c } : {}) };
    }
    return hop;
  });
}

/** A hop is one concrete AS; an empty, malformed or wildcard ISD-AS says nothing about it. */
function hopIA(text: string): IA | undefined {
  const ia = tryParseIA(text);
  return ia === undefined || isWildcard(ia) ? undefined : ia;
}

/** Hops of a flow's path as the collector reported it. */
export function hopsFromFlowPath(p: ScionPath): Hop[] {
  return p.hops.map((h) => {
    const hop: Hop = { isdAs: hopIA(h.isdAs), ingress: h.ingressInterface, egress: h.egressInterface };
    if (h.geo !== undefined) {
      hop.latitude = h.geo.latitude;
      hop.longitude = h.geo.longitude;
    }
    const c = metadataCountry(h.country);
    if (c !== undefined) hop.country = c;
    return hop;
  });
}

/**
 * Hops of an SRv6 path as the relay rebuilt it (paths/srv6_verify.ts): one per segment in
 * travel order, so a hop's index is its index in Srv6Path.hops.
 */
export function hopsFromSrv6Path(p: Srv6Path): Hop[] {
  return p.hops.map((h) => {
    const hop: Hop = { isdAs: undefined, ingress: 0, egress: 0, segment: { sid: h.sid, node: h.node } };
    // A segment the catalogue does not place has no whereabouts, whatever the sender said.
    if (h.node === '') return hop;
    if (h.geo !== undefined) {
      hop.latitude = h.geo.latitude;
      hop.longitude = h.geo.longitude;
    }
    const c = metadataCountry(h.country);
    if (c !== undefined) hop.country = c;
    return hop;
  });
}
