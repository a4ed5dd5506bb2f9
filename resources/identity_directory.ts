// Which identity numbers a label selector stands for: the one question policy compilation
// asks of identities. The local allocator answers it for this cluster's workloads; remote
// clusters' identity catalogues answer it for theirs; unionDirectories asks them all.
//
// Selectors read an identity's labels as a map: its pod labels, the namespace as
// io.kubernetes.pod.namespace, and the cluster's name as io.cillion.cluster.
import { CLUSTER_LABEL } from './networkpolicy';
import { matchesSelector, type LabelSelector } from './selector';
import type { IdentityAllocator } from '../identity/allocator';

export interface IdentityDirectory {
  /** The identities whose labels `selector` matches, ascending, without repeats. */
  matching(selector: LabelSelector): number[];
  /** The clusters it knows identities of: a selector naming another resolves to nothing. */
  clusters(): string[];
  /** The pod addresses a remote identity's catalogue publishes (egress names peers by them); none for local ones. */
  addressesOf(id: number): readonly string[];
}

export interface DirectoryEntry {
  id: number;
  labels: Readonly<Record<string, string>>;
  addresses?: readonly string[];
}

/** "k8s:key=value" identity labels (identity/labels.ts) as a selector reads them. */
export function labelMap(labels: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) {
    const colon = l.indexOf(':');
    const eq = l.indexOf('=', colon + 1);
    if (colon < 0 || eq < 0) continue;
    out[l.slice(colon + 1, eq)] = l.slice(eq + 1);
  }
  return out;
}

const ascending = (ids: Iterable<number>): number[] => [...new Set(ids)].sort((a, b) => a - b);

/** A fixed list of identities and their labels (cluster label included), for tests and catalogues. */
/** The labels an endpoint is selected by: its identity labels and its cluster. */
export function endpointLabels(identityLabels: Readonly<Record<string, string>>, cluster: string): Record<string, string> {
  return { ...identityLabels, [CLUSTER_LABEL]: cluster };
}

export class StaticIdentityDirectory implements IdentityDirectory {
  private readonly byId: Map<number, DirectoryEntry>;

  /** `clusters`: the clusters it speaks for even while they have no identity; default those its entries name. */
  constructor(
    private readonly entries: readonly DirectoryEntry[],
    private readonly clusterNames?: readonly string[],
  ) {
    this.byId = new Map(entries.map((e) => [e.id, e]));
  }

  matching(selector: LabelSelector): number[] {
    return ascending(this.entries.filter((e) => matchesSelector(selector, e.labels)).map((e) => e.id));
  }

  clusters(): string[] {
    return [...new Set(this.clusterNames ?? this.entries.flatMap((e) => e.labels[CLUSTER_LABEL] ?? []))].sort();
  }

  addressesOf(id: number): readonly string[] {
    return this.byId.get(id)?.addresses ?? [];
  }
}

/**
 * This cluster's identities as its allocator holds them, under the cluster's name. Made per
 * recompute: read from the allocator once, on the first selector, not once per selector.
 */
export class LocalIdentityDirectory implements IdentityDirectory {
  private dir: StaticIdentityDirectory | undefined;

  constructor(
    private readonly allocator: Pick<IdentityAllocator, 'all'>,
    private readonly cluster: string,
  ) {}

  matching(selector: LabelSelector): number[] {
    this.dir ??= new StaticIdentityDirectory(this.allocator.all().map((i) => ({ id: i.id, labels: { ...labelMap(i.labels), [CLUSTER_LABEL]: this.cluster } })));
    return this.dir.matching(selector);
  }

  clusters(): string[] {
    return [this.cluster];
  }

  addressesOf(): readonly string[] {
    return [];
  }
}

export function unionDirectories(...dirs: readonly IdentityDirectory[]): IdentityDirectory {
  return {
    matching: (selector) => ascending(dirs.flatMap((d) => d.matching(selector))),
    clusters: () => [...new Set(dirs.flatMap((d) => d.clusters()))].sort(),
    addressesOf: (id) => dirs.flatMap((d) => d.addressesOf(id)),
  };
}
