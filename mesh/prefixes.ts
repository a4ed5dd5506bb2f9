// The pod prefixes the mesh file declares for a cluster: a peer's catalogue may name pods
// only at addresses inside its own, as a ClusterMesh requires clusters' pod CIDRs to be
// disjoint. The prefixes are checked disjoint when the file is read, so an address inside
// one cluster's prefixes can be claimed by no other.
import { BlockList, isIP } from 'node:net';
import { parsePrefix, type IpPrefix } from '../resources/addresses';
import { MeshConfigError } from './peers';

export class PodPrefixes {
  private readonly list = new BlockList();

  constructor(readonly prefixes: readonly IpPrefix[]) {
    for (const p of prefixes) this.list.addSubnet(p.address, p.length, p.family === 4 ? 'ipv4' : 'ipv6');
  }

  /** Prefixes as the mesh file writes them ("10.165.0.0/16"); `what` names the field in errors. */
  static parse(texts: readonly string[], what: string): PodPrefixes {
    return new PodPrefixes(
      texts.map((t, i) => {
        const p = parsePrefix(t);
        if (typeof p === 'string') throw new MeshConfigError(`${what}[${i}]: ${p}`);
        return p;
      }),
    );
  }

  contains(ip: string): boolean {
    const v = isIP(ip);
    return v !== 0 && this.list.check(ip, v === 4 ? 'ipv4' : 'ipv6');
  }

  /** Two prefixes, one of these and one of `other`'s, that share addresses, as text. */
  overlap(other: PodPrefixes): string | undefined {
    for (const p of this.prefixes) {
      for (const q of other.prefixes) {
        // Two prefixes overlap exactly when one holds the other's network address.
        if (p.family === q.family && (holds(p, q.address) || holds(q, p.address))) return `${p.address}/${p.length} and ${q.address}/${q.length}`;
      }
    }
    return undefined;
  }
}

function holds(p: IpPrefix, ip: string): boolean {
  const one = new BlockList();
  const family = p.family === 4 ? 'ipv4' : 'ipv6';
  one.addSubnet(p.address, p.length, family);
  return one.check(ip, family);
}
