// The world map's figures, kept incrementally: the ASes flows crossed (placed by the geo
// their hops declare), the links between consecutive hops with flows by geofence verdict,
// the countries crossed, and each (offending AS, fence) of a violation. SRv6 paths likewise,
// apart: the nodes their segments name (placed by the SID catalogue's geo), the links
// between consecutive segments' nodes, and each (offending segment's node, fence). Bounded
// key counts; past a bound a flow's new keys are only counted as overflow.
import { WanPathType, type Flow, type Srv6Hop } from '../../proto/gen/flow/flow';
import { pathVerdict, worseVerdict, type PathVerdict } from './verdicts';

export interface MapAs {
  ia: string;
  country: string;
  latitude: number;
  longitude: number;
  address: string;
  flows: number;
}

export interface MapLink {
  from: string;
  to: string;
  flows: Record<PathVerdict, number>;
  /** The worst verdict of the flows that crossed it. */
  verdict: PathVerdict;
}

export interface OffendingHop {
  ia: string;
  country: string;
  fence: string;
  flows: number;
}

/** An SRv6 node a segment names, at the geo the SID catalogue gives it. */
export interface MapSrv6Node {
  node: string;
  operator: string;
  country: string;
  latitude: number;
  longitude: number;
  address: string;
  flows: number;
}

export interface OffendingSegment {
  node: string;
  sid: string;
  country: string;
  fence: string;
  flows: number;
}

/** A segment's node on the map: its catalogue name, or its SID when the catalogue does not know it. */
export const srv6NodeName = (h: Srv6Hop): string => h.node || h.sid;

export class WorldTally {
  readonly ases = new Map<string, MapAs>();
  readonly links = new Map<string, MapLink>();
  readonly countries = new Map<string, number>();
  readonly offending = new Map<string, OffendingHop>();
  readonly srv6Nodes = new Map<string, MapSrv6Node>();
  readonly srv6Links = new Map<string, MapLink>();
  readonly offendingSegments = new Map<string, OffendingSegment>();
  overflow = 0;

  constructor(private readonly maxKeys = 2000) {}

  add(flow: Flow): void {
    if (flow.pathType === WanPathType.WAN_PATH_SRV6) {
      this.addSrv6(flow);
      return;
    }
    const hops = flow.scionPath?.hops ?? [];
    if (hops.length === 0) return;
    const verdict = pathVerdict(flow);
    for (const h of hops) {
      if (h.country) this.countries.set(h.country, (this.countries.get(h.country) ?? 0) + 1);
      const as = this.ases.get(h.isdAs);
      if (as) as.flows++;
      else if (h.geo && this.ases.size < this.maxKeys) {
        this.ases.set(h.isdAs, { ia: h.isdAs, country: h.country, latitude: h.geo.latitude, longitude: h.geo.longitude, address: h.geo.address, flows: 1 });
      } else if (h.geo) this.overflow++;
    }
    for (let i = 1; i < hops.length; i++) this.link(this.links, hops[i - 1].isdAs, hops[i].isdAs, verdict);
    const g = flow.geofence;
    if (verdict === 'violation' && g?.offendingIsdAs) {
      const key = `${g.offendingIsdAs}|${g.name}`;
      const o = this.offending.get(key);
      if (o) o.flows++;
      else if (this.offending.size < this.maxKeys) this.offending.set(key, { ia: g.offendingIsdAs, country: g.offendingCountry, fence: g.name, flows: 1 });
      else this.overflow++;
    }
  }

  private addSrv6(flow: Flow): void {
    const hops = flow.srv6Path?.hops ?? [];
    if (hops.length === 0) return;
    const verdict = pathVerdict(flow);
    for (const h of hops) {
      if (h.country) this.countries.set(h.country, (this.countries.get(h.country) ?? 0) + 1);
      const name = srv6NodeName(h);
      const node = this.srv6Nodes.get(name);
      if (node) node.flows++;
      else if (h.geo && this.srv6Nodes.size < this.maxKeys) {
        this.srv6Nodes.set(name, {
          node: name, operator: h.operator, country: h.country, latitude: h.geo.latitude, longitude: h.geo.longitude, address: h.geo.address, flows: 1,
        });
      } else if (h.geo) this.overflow++;
    }
    for (let i = 1; i < hops.length; i++) this.link(this.srv6Links, srv6NodeName(hops[i - 1]), srv6NodeName(hops[i]), verdict);
    const g = flow.geofence;
    if (verdict === 'violation' && g?.offendingSid) {
      const hop = g.offendingHop !== undefined ? hops[g.offendingHop] : hops.find((h) => h.sid === g.offendingSid);
      const node = hop ? srv6NodeName(hop) : g.offendingSid;
      const key = `${node}|${g.name}`;
      const o = this.offendingSegments.get(key);
      if (o) o.flows++;
      else if (this.offendingSegments.size < this.maxKeys) this.offendingSegments.set(key, { node, sid: g.offendingSid, country: g.offendingCountry, fence: g.name, flows: 1 });
      else this.overflow++;
    }
  }

  private link(links: Map<string, MapLink>, from: string, to: string, verdict: PathVerdict): void {
    if (from === to) return;
    // Both directions of a link are one line on the map.
    const key = from < to ? `${from}|${to}` : `${to}|${from}`;
    let link = links.get(key);
    if (!link) {
      if (links.size >= this.maxKeys) {
        this.overflow++;
        return;
      }
      link = { from: from < to ? from : to, to: from < to ? to : from, flows: { compliant: 0, violation: 0, unverified: 0, none: 0 }, verdict: 'none' };
      links.set(key, link);
    }
    link.flows[verdict]++;
    link.verdict = worseVerdict(link.verdict, verdict);
  }
}
