// The identity catalogue a cluster publishes: its name, its cluster id, a generation, and
// every identity it allocated with the labels it stands for (and, optionally, the pod
// addresses holding it). The checks here are the ones that need no key: shape, bounds, and
// that every identity lies in the catalogue's own cluster id, so a catalogue can only ever
// speak for the cluster that signed it.
import { isIP } from 'node:net';
import { clusterIdOf, isClusterId, isReservedIdentity } from '../identity/cluster_scope';
import { refuse, type CatalogueResult } from './error';

export interface CatalogueEntry {
  /** Cluster-scoped identity (identity/cluster_scope.ts). */
  id: number;
  /** Sorted "source:key=value" strings, as a flow endpoint carries them. */
  labels: readonly string[];
  addresses: readonly string[];
}

export interface Catalogue {
  clusterName: string;
  clusterId: number;
  generation: bigint;
  issuedAtMs: number;
  identities: readonly CatalogueEntry[];
}

export interface CatalogueLimits {
  /** Encoded signed catalogue, checked before anything is decoded. */
  maxBytes: number;
  maxIdentities: number;
  maxLabelsPerIdentity: number;
  /** Characters of one label. */
  maxLabelChars: number;
  /** Addresses over the whole catalogue. */
  maxAddresses: number;
}

// A cluster has at most 65280 local identities; labels and addresses are bounded so that the
// largest catalogue a peer may send stays a few MiB in memory.
export const DEFAULT_CATALOGUE_LIMITS: CatalogueLimits = {
  maxBytes: 8 * 1024 * 1024,
  maxIdentities: 65280,
  maxLabelsPerIdentity: 64,
  maxLabelChars: 512,
  maxAddresses: 65536,
};

/**
 * How a catalogue's issue time must stand to the receiver's clock. The generation may not run
 * ahead of the issue time by more than the skew either, so no peer can send a generation
 * that holds off its next catalogues for longer than the skew allows (2^63 would be for ever).
 * The maximum age bounds what a receiver that restarts takes from a replayed old catalogue;
 * the publisher signs its catalogue anew well within it (REISSUE_MS) even when nothing changed.
 */
export interface CatalogueFreshness {
  maxClockSkewMs: number;
  maxAgeMs: number;
}

export const DEFAULT_CATALOGUE_FRESHNESS: CatalogueFreshness = { maxClockSkewMs: 5 * 60_000, maxAgeMs: 6 * 3600_000 };

/** The publisher signs an unchanged catalogue anew after this long. */
export const REISSUE_MS = 3600_000;

/** A catalogue as decoded (IdentityCatalogue) or as the publisher is about to sign it. */
export interface CatalogueInput {
  clusterName: string;
  clusterId: number;
  generation: bigint;
  issuedAtMs: bigint;
  identities: ReadonlyArray<{ id: number; labels: readonly string[]; addresses: readonly string[] }>;
}

const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/;

/** The catalogue as decoded, checked for shape and bounds; the key check is the signer's. */
export function checkCatalogue(c: CatalogueInput, limits: CatalogueLimits): CatalogueResult<Catalogue> {
  if (!CLUSTER_NAME.test(c.clusterName)) return refuse('MALFORMED', `cluster name "${c.clusterName.slice(0, 80)}" is not a DNS label`);
  if (!isClusterId(c.clusterId)) return refuse('MALFORMED', `cluster id ${c.clusterId} outside 1-255`);
  if (c.generation === 0n) return refuse('MALFORMED', 'generation 0: a catalogue starts at generation 1');
  if (c.identities.length > limits.maxIdentities) {
    return refuse('TOO_MANY', `${c.identities.length} identities, limit ${limits.maxIdentities}`);
  }
  const ids = new Set<number>();
  const addresses = new Set<string>();
  const identities: CatalogueEntry[] = [];
  for (const e of c.identities) {
    if (isReservedIdentity(e.id) || clusterIdOf(e.id) !== c.clusterId || e.id > 0xffffff) {
      return refuse('FOREIGN_IDENTITY', `identity ${e.id} is not in cluster id ${c.clusterId} of ${c.clusterName}`);
    }
    if (ids.has(e.id)) return refuse('MALFORMED', `identity ${e.id} listed twice`);
    ids.add(e.id);
    if (e.labels.length > limits.maxLabelsPerIdentity) {
      return refuse('TOO_MANY', `identity ${e.id} has ${e.labels.length} labels, limit ${limits.maxLabelsPerIdentity}`);
    }
    for (const l of e.labels) {
      if (l.length > limits.maxLabelChars) return refuse('TOO_LARGE', `identity ${e.id} has a label of ${l.length} characters, limit ${limits.maxLabelChars}`);
      if (l.indexOf(':') <= 0) return refuse('MALFORMED', `identity ${e.id}: label "${l.slice(0, 80)}" is not "source:key=value"`);
    }
    for (const a of e.addresses) {
      if (isIP(a) === 0) return refuse('MALFORMED', `identity ${e.id}: "${a.slice(0, 80)}" is not an IP address`);
      if (addresses.has(a)) return refuse('MALFORMED', `address ${a} listed under two identities`);
      addresses.add(a);
      if (addresses.size > limits.maxAddresses) return refuse('TOO_MANY', `more than ${limits.maxAddresses} addresses`);
    }
    identities.push({ id: e.id, labels: [...e.labels].sort(), addresses: [...e.addresses] });
  }
  return {
    ok: true,
    value: { clusterName: c.clusterName, clusterId: c.clusterId, generation: c.generation, issuedAtMs: Number(c.issuedAtMs), identities },
  };
}
