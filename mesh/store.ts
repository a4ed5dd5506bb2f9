// The catalogues this cluster holds from its peers: the newest verified one per cluster, and
// the lookups the collector names a remote flow end with. A catalogue that fails any check
// is refused with its code, counted and logged, and the last good one of that cluster stays
// in use; a peer therefore cannot make this cluster forget its workloads by sending garbage.
// A peer names pods only inside the pod prefixes the mesh file declares for it: an address
// elsewhere (one of this cluster's pods, another peer's) is dropped, counted and logged.
import type { EndpointInfo } from '../identity/endpoint';
import { NAMESPACE_LABEL } from '../identity/labels';
import { clusterIdOf } from '../identity/cluster_scope';
import { DEFAULT_CATALOGUE_FRESHNESS, DEFAULT_CATALOGUE_LIMITS, type Catalogue, type CatalogueFreshness, type CatalogueLimits } from './catalogue';
import { CATALOGUE_ERROR_CODES, CatalogueError, type CatalogueErrorCode, type CatalogueResult, zeroCounts } from './error';
import type { MeshPeers } from './peers';
import { openCatalogue } from './signing';

interface Held {
  catalogue: Catalogue;
  payload: Uint8Array;
  /** The signed catalogue as received, to know the same one served again without opening it. */
  raw: Buffer;
  byId: Map<number, EndpointInfo>;
  /** The published addresses inside the peer's declared prefixes, with their identity. */
  addresses: Map<string, number>;
  /** Published addresses outside them, dropped. */
  addressesDropped: number;
  acceptedAtMs: number;
}

export interface AcceptedCatalogue {
  clusterName: string;
  generation: bigint;
  /** False when the same signed generation was already held (a re-fetch). */
  changed: boolean;
}

export interface ClusterCatalogueStatus {
  clusterName: string;
  clusterId: number;
  generation: bigint;
  identities: number;
  /** Addresses of the held catalogue dropped for lying outside the cluster's pod prefixes. */
  addressesDropped: number;
  acceptedAtMs: number;
}

export interface CatalogueStoreStats {
  accepted: number;
  /** Addresses dropped over every catalogue accepted, for lying outside their cluster's pod prefixes. */
  addressesDropped: number;
  refused: Record<CatalogueErrorCode, number>;
  clusters: ClusterCatalogueStatus[];
}

const NAMESPACE_PREFIX = `k8s:${NAMESPACE_LABEL}=`;

function endpointOf(clusterName: string, id: number, labels: readonly string[]): EndpointInfo {
  const ns = labels.find((l) => l.startsWith(NAMESPACE_PREFIX));
  return { identity: id, podName: '', namespace: ns ? ns.slice(NAMESPACE_PREFIX.length) : '', labels: [...labels], clusterName };
}

export interface RemoteCataloguesOptions {
  limits?: CatalogueLimits;
  freshness?: CatalogueFreshness;
  now?: () => number;
  /** Told about every refusal, with its code in the message. */
  log?: (message: string) => void;
}

export class RemoteCatalogues {
  private readonly held = new Map<string, Held>();
  private readonly byAddressMap = new Map<string, EndpointInfo>();
  private readonly refused = zeroCounts(CATALOGUE_ERROR_CODES);
  private accepted = 0;
  private addressesDropped = 0;
  private lastLogged = '';
  private readonly limits: CatalogueLimits;
  private readonly freshness: CatalogueFreshness;
  private readonly now: () => number;
  private readonly log: (message: string) => void;

  constructor(
    private readonly peers: MeshPeers,
    opts: RemoteCataloguesOptions = {},
  ) {
    this.limits = opts.limits ?? DEFAULT_CATALOGUE_LIMITS;
    this.freshness = opts.freshness ?? DEFAULT_CATALOGUE_FRESHNESS;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => {});
  }

  /** Takes a received signed catalogue in, or refuses it and keeps what was held. */
  accept(bytes: Uint8Array): CatalogueResult<AcceptedCatalogue> {
    // What a peer serves again unchanged is known by its bytes, before any decoding or verifying.
    for (const h of this.held.values()) {
      if (h.raw.equals(bytes)) return { ok: true, value: { clusterName: h.catalogue.clusterName, generation: h.catalogue.generation, changed: false } };
    }
    const opened = openCatalogue(bytes, this.peers, this.limits);
    if (!opened.ok) return this.refuse(opened.error);
    const { catalogue, payload } = opened.value;
    const untimely = this.untimely(catalogue);
    if (untimely) return this.refuse(untimely);
    const prev = this.held.get(catalogue.clusterName);
    if (prev) {
      const g = prev.catalogue.generation;
      if (catalogue.generation === g && Buffer.from(payload).equals(prev.payload)) {
        return { ok: true, value: { clusterName: catalogue.clusterName, generation: g, changed: false } };
      }
      if (catalogue.generation <= g) {
        return this.refuse(new CatalogueError('STALE', `${catalogue.clusterName} generation ${catalogue.generation} is not newer than the held ${g}`));
      }
    }
    const byId = new Map<number, EndpointInfo>();
    for (const e of catalogue.identities) byId.set(e.id, endpointOf(catalogue.clusterName, e.id, e.labels));
    const { addresses, dropped } = this.ownAddresses(catalogue);
    this.held.set(catalogue.clusterName, { catalogue, payload, raw: Buffer.from(bytes), byId, addresses, addressesDropped: dropped, acceptedAtMs: this.now() });
    this.rebuildAddresses();
    this.accepted++;
    this.lastLogged = '';
    return { ok: true, value: { clusterName: catalogue.clusterName, generation: catalogue.generation, changed: true } };
  }

  /** Why the catalogue's issue time or generation is out of bounds against this clock, if it is. */
  private untimely(c: Catalogue): CatalogueError | undefined {
    const now = this.now();
    const { maxClockSkewMs, maxAgeMs } = this.freshness;
    if (c.issuedAtMs > now + maxClockSkewMs) {
      return new CatalogueError('FUTURE', `${c.clusterName} generation ${c.generation} issued ${c.issuedAtMs - now} ms ahead of this clock, limit ${maxClockSkewMs}`);
    }
    if (c.generation > BigInt(c.issuedAtMs) + BigInt(maxClockSkewMs)) {
      return new CatalogueError('FUTURE', `${c.clusterName} generation ${c.generation} runs ahead of its issue time ${c.issuedAtMs} by more than ${maxClockSkewMs} ms`);
    }
    if (c.issuedAtMs < now - maxAgeMs) {
      return new CatalogueError('STALE', `${c.clusterName} generation ${c.generation} issued ${Math.round((now - c.issuedAtMs) / 1000)} s ago, limit ${maxAgeMs / 1000} s`);
    }
    return undefined;
  }

  /** Counts a refusal found outside accept (a fetch that failed, say). */
  refuse<T>(error: CatalogueError): CatalogueResult<T> {
    this.refused[error.code]++;
    // A peer refused the same way on every round is logged once, counted every time.
    if (error.message !== this.lastLogged) this.log(`identity catalogue refused: ${error.message}`);
    this.lastLogged = error.message;
    return { ok: false, error };
  }

  /** A remote cluster's identity by its number: the cluster id in its high bits picks the catalogue. */
  byIdentity(identity: number): EndpointInfo | undefined {
    const clusterId = clusterIdOf(identity);
    if (clusterId === 0) return undefined;
    for (const h of this.held.values()) {
      if (h.catalogue.clusterId === clusterId) return h.byId.get(identity);
    }
    return undefined;
  }

  /** The newest verified catalogue of every peer cluster held, by cluster name. */
  catalogues(): Catalogue[] {
    return [...this.held.values()].map((h) => h.catalogue).sort((a, b) => a.clusterId - b.clusterId);
  }

  /** The addresses of `clusterName`'s held catalogue inside its declared pod prefixes, with their identity. */
  addressesOf(clusterName: string): ReadonlyMap<string, number> {
    return this.held.get(clusterName)?.addresses ?? new Map();
  }

  /** A remote pod by its address, when its cluster published addresses. */
  byAddress(ip: string): EndpointInfo | undefined {
    return this.byAddressMap.get(ip);
  }

  stats(): CatalogueStoreStats {
    return {
      accepted: this.accepted,
      addressesDropped: this.addressesDropped,
      refused: { ...this.refused },
      clusters: [...this.held.values()]
        .map((h) => ({
          clusterName: h.catalogue.clusterName,
          clusterId: h.catalogue.clusterId,
          generation: h.catalogue.generation,
          identities: h.catalogue.identities.length,
          addressesDropped: h.addressesDropped,
          acceptedAtMs: h.acceptedAtMs,
        }))
        .sort((a, b) => a.clusterId - b.clusterId),
    };
  }

  /**
   * The catalogue's addresses inside its cluster's declared pod prefixes (none declared: none
   * inside). The catalogue itself is still taken: its identities name packets by number.
   */
  private ownAddresses(catalogue: Catalogue): { addresses: Map<string, number>; dropped: number } {
    const prefixes = this.peers.get(catalogue.clusterName)?.prefixes;
    const addresses = new Map<string, number>();
    let dropped = 0;
    let first = '';
    for (const e of catalogue.identities) {
      for (const a of e.addresses) {
        if (prefixes?.contains(a)) addresses.set(a, e.id);
        else if (dropped++ === 0) first = a;
      }
    }
    if (dropped > 0) {
      this.addressesDropped += dropped;
      const declared = prefixes ? `its pod prefixes ${prefixes.prefixes.map((p) => `${p.address}/${p.length}`).join(', ')}` : 'no pod prefixes in the mesh file';
      this.log(`identity catalogue of ${catalogue.clusterName} generation ${catalogue.generation}: ${dropped} address(es) dropped (${first} first), the cluster has ${declared}`);
    }
    return { addresses, dropped };
  }

  // Declared prefixes are disjoint (mesh/peers.ts), so no two clusters hold one address here.
  private rebuildAddresses(): void {
    this.byAddressMap.clear();
    for (const h of this.held.values()) {
      for (const [a, id] of h.addresses) this.byAddressMap.set(a, h.byId.get(id)!);
    }
  }
}
