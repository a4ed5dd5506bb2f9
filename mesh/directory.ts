// The peers' catalogues as an IdentityDirectory, so network policies select remote
// workloads by their labels and cluster. Rebuilt only when the store took a new catalogue.
import { endpointLabels, labelMap, StaticIdentityDirectory, type IdentityDirectory } from '../resources/identity_directory';
import type { LabelSelector } from '../resources/selector';
import type { Catalogue } from './catalogue';
import type { RemoteCatalogues } from './store';

export class CatalogueDirectory implements IdentityDirectory {
  private seen: readonly Catalogue[] = [];
  private dir = new StaticIdentityDirectory([], []);

  constructor(private readonly store: Pick<RemoteCatalogues, 'catalogues' | 'addressesOf'>) {}

  matching(selector: LabelSelector): number[] {
    return this.current().matching(selector);
  }

  clusters(): string[] {
    return this.current().clusters();
  }

  addressesOf(id: number): readonly string[] {
    return this.current().addressesOf(id);
  }

  private current(): StaticIdentityDirectory {
    const held = this.store.catalogues();
    if (held.length !== this.seen.length || held.some((c, i) => c !== this.seen[i])) {
      this.seen = held;
      this.dir = new StaticIdentityDirectory(
        held.flatMap((c) => {
          // Only addresses inside the peer's declared pod prefixes: egress rules allow by address,
          // so an address a peer claims outside them must not become one of its workloads.
          const own = this.store.addressesOf(c.clusterName);
          return c.identities.map((e) => ({ id: e.id, labels: endpointLabels(labelMap(e.labels), c.clusterName), addresses: e.addresses.filter((a) => own.get(a) === e.id) }));
        }),
        held.map((c) => c.clusterName),
      );
    }
    return this.dir;
  }
}
