// This cluster's side: what it publishes, taken through a narrow listing so that any
// allocator can feed it, and signed once per change (and once per REISSUE_MS, so receivers
// see it younger than their maximum age). The generation is the build time in milliseconds,
// forced strictly above the last one, so it keeps increasing across a restart of the
// publisher as long as the clock does not step back by more than the restart took.
import type { KeyObject } from 'node:crypto';
import type { Identity } from '../identity/allocator';
import { checkCatalogue, DEFAULT_CATALOGUE_LIMITS, REISSUE_MS, type CatalogueEntry, type CatalogueLimits } from './catalogue';
import { CatalogueError, type CatalogueResult } from './error';
import { signCatalogue } from './signing';

/** What a catalogue is built from: the cluster's identities with their labels (and pod addresses, when known). */
export interface IdentityListing {
  list(): ReadonlyArray<{ id: number; labels: readonly string[]; addresses?: readonly string[] }>;
}

/** An allocator's identities as a listing (IdentityAllocator.all() satisfies it). */
export const allocatorListing = (allocator: { all(): Identity[] }): IdentityListing => ({ list: () => allocator.all() });

/** A listing with the pod addresses of each identity added (the node's endpoint map: address -> identity). */
export const withAddresses = (listing: IdentityListing, endpoints: () => Iterable<readonly [string, number]>): IdentityListing => ({
  list: () => {
    const byId = new Map<number, string[]>();
    for (const [ip, id] of endpoints()) {
      const ips = byId.get(id);
      if (ips) ips.push(ip);
      else byId.set(id, [ip]);
    }
    return listing.list().map((e) => ({ ...e, addresses: [...(e.addresses ?? []), ...(byId.get(e.id) ?? [])] }));
  },
});

export interface PublisherOptions {
  clusterName: string;
  clusterId: number;
  privateKey: KeyObject;
  listing: IdentityListing;
  limits?: CatalogueLimits;
  now?: () => number;
}

export class CataloguePublisher {
  private signed: Uint8Array | undefined;
  private content = '';
  private generation = 0n;
  private issuedAtMs = 0;

  constructor(private readonly opts: PublisherOptions) {}

  /**
   * The signed catalogue of the listing as it is now: the same bytes while nothing changed
   * (for up to REISSUE_MS), a new generation when something did. A listing this cluster's own peers would refuse
   * (an identity outside its cluster id, over a limit) is refused here first.
   */
  current(): CatalogueResult<Uint8Array> {
    const identities: CatalogueEntry[] = this.opts.listing
      .list()
      .map((e) => ({ id: e.id, labels: [...e.labels].sort(), addresses: [...(e.addresses ?? [])].sort() }))
      .sort((a, b) => a.id - b.id);
    const content = JSON.stringify(identities);
    const now = (this.opts.now ?? Date.now)();
    if (this.signed && content === this.content && Math.abs(now - this.issuedAtMs) < REISSUE_MS) return { ok: true, value: this.signed };
    const generation = BigInt(Math.max(now, 0)) > this.generation ? BigInt(Math.max(now, 0)) : this.generation + 1n;
    const limits = this.opts.limits ?? DEFAULT_CATALOGUE_LIMITS;
    const checked = checkCatalogue(
      { clusterName: this.opts.clusterName, clusterId: this.opts.clusterId, generation, issuedAtMs: BigInt(now), identities },
      limits,
    );
    if (!checked.ok) return checked;
    const signed = signCatalogue(checked.value, this.opts.privateKey);
    if (signed.length > limits.maxBytes) return { ok: false, error: new CatalogueError('TOO_LARGE', `${signed.length} bytes, limit ${limits.maxBytes}`) };
    this.signed = signed;
    this.content = content;
    this.generation = generation;
    this.issuedAtMs = now;
    return { ok: true, value: signed };
  }
}
