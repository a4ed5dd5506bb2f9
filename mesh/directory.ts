// The peers' catalogues as an IdentityDirectory, so network policies select remote
// workloads by their labels and cluster. Rebuilt only when the store took a new catalogue.
import { endpointLabels } from '../operator/datapath/xpolicy';
import { labelMap, StaticIdentityDirectory, type IdentityDirectory } from '../operator/identity/directory';
import type { LabelSelector } from '../operator/resources/selector';
import type { Catalogue } from './catalogue';
import type { RemoteCatalogues } from './store';

export class CatalogueDirectory implements IdentityDirectory {
  private seen: readonly Catalogue[] = [];
  private dir = new StaticIdentityDirectory([], []);

  constructor(private readonly store: Pick<RemoteCatalogues, 'catalogues'>) {}

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
        held.flatMap((c) => c.identities.map((e) => ({ id: e.id, labels: endpointLabels(labelMap(e.labels), c.clusterName), addresses: e.addresses }))),
        held.map((c) => c.clusterName),
      );
    }
    return this.dir;
  }
}
