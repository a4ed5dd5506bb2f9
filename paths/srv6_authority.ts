// The SID catalogue (srv6/catalogue.ts) as the SidAuthority SRv6 evidence is placed in:
// which node a SID belongs to (longest locator), its operator, AS and geo, the links'
// latency and the HMAC keys.
import type { SidCatalogue } from '../srv6/catalogue';
import type { SegmentPlace, SidAuthority } from './srv6_verify';

export function catalogueAuthority(c: SidCatalogue, name: string): SidAuthority {
  return {
    name,
    generation: c.generation,
    hmacKeys: c.hmacKeys,
    place(sid: Uint8Array): SegmentPlace | undefined {
      const l = c.lookup(sid);
      if (l === undefined) return undefined;
      const n = l.node;
      const geo = n.geo === undefined ? undefined : { latitude: n.geo.latitude, longitude: n.geo.longitude, address: n.geo.address, country: n.geo.country };
      return { node: n.name, operator: n.operator, asn: n.asn, locator: l.locator, behavior: l.sid?.behavior ?? '', vrf: l.sid?.vrf, geo };
    },
    nodeOfSource(source: Uint8Array): string | undefined {
      return (c.nodeBySource(source) ?? c.lookup(source)?.node)?.name;
    },
    latencyNs(from: string, to: string): number | undefined {
      return c.neighbours(from).find((n) => n.node === to)?.latencyNs;
    },
  };
}
