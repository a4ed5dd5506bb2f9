// The allocation as a Kubernetes agent sees it: this cluster's CillionIdentity objects,
// watched, behind the IdentityView the state file's reader also implements, so the rest of
// the agent does not know where identities come from. Objects of other clusters are
// ignored; a malformed one (which only a writer other than the operator could make, or a
// bug) is skipped with its reason logged and counted, and never stops the agent.
import type { Identity, IdentityView } from '../identity/allocator';
import { IdentityIndex } from '../identity/identity_index';
import { claimedClusterId, validateCillionIdentity } from '../resources/cillionidentity';
import { formatProblems } from '../resources/problems';
import type { BackoffOptions } from './backoff';
import type { ClientNode } from './client';
import { IdentityObjects } from './identity_objects';

/** Why an object was skipped: the part of it that was wrong, or a label set another number already holds. */
export type SkipReason = 'name' | 'cluster-id' | 'labels' | 'envelope' | 'duplicate-labels';

export interface IdentityViewStats {
  /** Identities of this cluster in the view. */
  identities: number;
  /** Objects of other clusters, not read. */
  otherClusters: number;
  /** Objects skipped since start, by reason. */
  skipped: Record<SkipReason, number>;
}

export interface KubernetesIdentityViewOptions {
  kubeConfig: ClientNode.KubeConfig;
  clusterId: number;
  /** After the view changed (the node then reprograms). */
  onChange: () => void;
  log: (line: string) => void;
  backoff?: BackoffOptions;
  minWatchMs?: number;
}

function reasonOf(path: string): SkipReason {
  if (path.startsWith('metadata.name')) return 'name';
  if (path.startsWith('clusterId')) return 'cluster-id';
  if (path.startsWith('securityLabels')) return 'labels';
  return 'envelope';
}

export class KubernetesIdentityView implements IdentityView {
  readonly clusterId: number;
  readonly synced: Promise<void>;
  private readonly objects: IdentityObjects;
  /** This cluster's well-formed objects, by object name. */
  private readonly valid = new Map<string, Identity>();
  private readonly others = new Set<string>();
  private index = new IdentityIndex();
  private readonly skipped: Record<SkipReason, number> = { name: 0, 'cluster-id': 0, labels: 0, envelope: 0, 'duplicate-labels': 0 };
  private duplicates = new Set<number>();

  constructor(private readonly opts: KubernetesIdentityViewOptions) {
    this.clusterId = opts.clusterId;
    this.objects = new IdentityObjects({ kubeConfig: opts.kubeConfig, log: opts.log, backoff: opts.backoff, minWatchMs: opts.minWatchMs, onChange: (names) => this.apply(names) });
    this.synced = this.objects.synced;
  }

  start(): void {
    this.objects.start();
  }

  stop(): Promise<void> {
    return this.objects.stop();
  }

  lookupByLabels(namespace: string, podLabels: Readonly<Record<string, string>>): Identity | undefined {
    return this.index.lookupByLabels(namespace, podLabels);
  }

  lookupById(id: number): Identity | undefined {
    return this.index.lookupById(id);
  }

  all(): Identity[] {
    return this.index.all();
  }

  stats(): IdentityViewStats {
    return { identities: this.index.size, otherClusters: this.others.size, skipped: { ...this.skipped } };
  }

  private apply(names: ReadonlySet<string>): void {
    for (const name of names) {
      this.valid.delete(name);
      this.others.delete(name);
      const obj = this.objects.get(name);
      if (!obj) continue;
      const claimed = claimedClusterId(obj);
      if (claimed !== undefined && claimed !== this.clusterId) {
        this.others.add(name);
        continue;
      }
      const v = validateCillionIdentity(obj);
      if (!v.ok) {
        const reason = reasonOf(v.problems[0]?.path ?? '');
        this.skipped[reason]++;
        this.opts.log(`identities: CillionIdentity ${JSON.stringify(name)} skipped (${reason}): ${formatProblems(v.problems)}`);
        continue;
      }
      this.valid.set(name, { id: v.value.id, labels: v.value.labels });
    }
    this.rebuild();
    this.opts.onChange();
  }

  // One label set, one number: of two objects with the same labels the lower number is kept,
  // the same choice on every node.
  private rebuild(): void {
    const index = new IdentityIndex();
    const duplicates = new Set<number>();
    for (const i of [...this.valid.values()].sort((a, b) => a.id - b.id)) {
      const holder = index.add(i);
      if (holder) {
        duplicates.add(i.id);
        if (!this.duplicates.has(i.id)) {
          this.skipped['duplicate-labels']++;
          this.opts.log(`identities: CillionIdentity ${i.id} skipped (duplicate-labels): identity ${holder.id} already stands for ${i.labels.join(',')}`);
        }
      }
    }
    this.index = index;
    this.duplicates = duplicates;
  }
}
