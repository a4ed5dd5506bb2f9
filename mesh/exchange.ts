// Fetching every peer's catalogue into the store, once or on an interval. Peers are fetched
// one after another so a slow or hostile peer costs at most its own deadline per round.
import { Rounds } from './rounds';
import { DEFAULT_CATALOGUE_LIMITS } from './catalogue';
import type { CatalogueResult } from './error';
import { fetchCatalogue } from './http';
import type { MeshPeers } from './peers';
import type { AcceptedCatalogue, RemoteCatalogues } from './store';

export interface ExchangeOptions {
  maxBytes?: number;
  timeoutMs?: number;
  /** Told after a round in which the store took a new catalogue (policies then resolve again). */
  onChange?: () => void;
}

export class CatalogueExchange {
  private readonly rounds = new Rounds(async () => {
    const results = await this.refresh();
    if (results.some((r) => r.result.ok && r.result.value.changed)) this.opts.onChange?.();
  });

  constructor(
    private readonly peers: MeshPeers,
    private readonly store: RemoteCatalogues,
    private readonly opts: ExchangeOptions = {},
  ) {}

  /** One round over the peers that have a URL; each result as the store took it. */
  async refresh(): Promise<Array<{ clusterName: string; result: CatalogueResult<AcceptedCatalogue> }>> {
    const out: Array<{ clusterName: string; result: CatalogueResult<AcceptedCatalogue> }> = [];
    for (const peer of this.peers.list()) {
      if (!peer.url) continue;
      const fetched = await fetchCatalogue(peer.url, this.opts.maxBytes ?? DEFAULT_CATALOGUE_LIMITS.maxBytes, this.opts.timeoutMs ?? 5000);
      const result = fetched.ok ? this.store.accept(fetched.value) : this.store.refuse<AcceptedCatalogue>(fetched.error);
      out.push({ clusterName: peer.clusterName, result });
    }
    return out;
  }

  /** Refreshes now and every `intervalMs`, never two rounds at once. */
  start(intervalMs: number): void {
    this.rounds.start(intervalMs);
  }

  stop(): Promise<void> {
    return this.rounds.stop();
  }
}
