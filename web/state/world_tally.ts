// The world map's figures, kept incrementally: the ASes flows crossed (placed by the geo
// their hops declare), the links between consecutive hops with flows by geofence verdict,
// the countries crossed, and each (offending AS, fence) of a violation. Bounded key counts;
// past a bound a flow's new keys are only counted as overflow.
import type { Flow } from '../../proto/gen/flow/flow';
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

export class WorldTally {
  readonly ases = new Map<string, MapAs>();
  readonly links = new Map<string, MapLink>();
  readonly countries = new Map<string, number>();
  readonly offending = new Map<string, OffendingHop>();
  overflow = 0;

  constructor(private readonly maxKeys = 2000) {}

  add(flow: Flow): void {
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
    for (let i = 1; i < hops.length; i++) {
      const from = hops[i - 1].isdAs;
      const to = hops[i].isdAs;
      if (from === to) continue;
      // Both directions of a link are one line on the map.
      const key = from < to ? `${from}|${to}` : `${to}|${from}`;
      let link = this.links.get(key);
      if (!link) {
        if (this.links.size >= this.maxKeys) {
          this.overflow++;
          continue;
        }
        link = { from: from < to ? from : to, to: from < to ? to : from, flows: { compliant: 0, violation: 0, unverified: 0, none: 0 }, verdict: 'none' };
        this.links.set(key, link);
      }
      link.flows[verdict]++;
      link.verdict = worseVerdict(link.verdict, verdict);
    }
    const g = flow.geofence;
    if (verdict === 'violation' && g?.offendingIsdAs) {
      const key = `${g.offendingIsdAs}|${g.name}`;
      const o = this.offending.get(key);
      if (o) o.flows++;
      else if (this.offending.size < this.maxKeys) this.offending.set(key, { ia: g.offendingIsdAs, country: g.offendingCountry, fence: g.name, flows: 1 });
      else this.overflow++;
    }
  }
}
