// Each workload's identity, two ways: the operator's IdentityBook allocates (keeping the
// allocator's reference counts in step with the workloads seen: one reference per workload,
// acquired when it appears, released when it goes); a node's IdentityLookup only reads the
// allocation and leaves out workloads the operator has not numbered yet.
import { IdentityError, type IdentityAllocator, type IdentityView } from '../../identity/allocator';
import type { Workload } from '../../identity/workload';

const keyOf = (w: Workload): string => `${w.namespace}/${w.name}`;

export interface WorkloadIdentities {
  /** Each workload's identity by IdentityBook.key; a workload without one is absent. */
  sync(workloads: readonly Workload[]): Map<string, number>;
  /** The cluster's whole allocation (network policies select peers from it). */
  readonly view: IdentityView;
}

export class IdentityLookup implements WorkloadIdentities {
  constructor(readonly view: IdentityView) {}

  sync(workloads: readonly Workload[]): Map<string, number> {
    const out = new Map<string, number>();
    for (const w of workloads) {
      const id = this.view.lookupByLabels(w.namespace, w.labels)?.id;
      if (id !== undefined) out.set(keyOf(w), id);
    }
    return out;
  }
}

export class IdentityBook implements WorkloadIdentities {
  private readonly held = new Map<string, { id: number; labels: string }>();

  /** `onExhausted`: a workload left without an identity because the cluster's range is full; the others still get theirs. */
  constructor(
    private readonly allocator: IdentityAllocator,
    private readonly onExhausted: (w: Workload, e: IdentityError) => void = (_w, e) => {
      throw e;
    },
  ) {}

  get view(): IdentityView {
    return this.allocator;
  }

  /** Syncs to `workloads` and returns each workload's identity. */
  sync(workloads: readonly Workload[]): Map<string, number> {
    const seen = new Set<string>();
    const out = new Map<string, number>();
    for (const w of workloads) {
      const k = keyOf(w);
      seen.add(k);
      const labels = JSON.stringify([w.namespace, Object.entries(w.labels).sort()]);
      const had = this.held.get(k);
      if (had && had.labels === labels) {
        out.set(k, had.id);
        continue;
      }
      // Acquire before releasing, so relabelling never hands the old number to someone else meanwhile.
      let id: number;
      try {
        id = this.allocator.acquire(w.namespace, w.labels).id;
      } catch (e) {
        if (!(e instanceof IdentityError) || e.code !== 'EXHAUSTED') throw e;
        this.onExhausted(w, e);
        continue;
      }
      if (had) this.allocator.release(had.id);
      this.held.set(k, { id, labels });
      out.set(k, id);
    }
    for (const [k, had] of this.held) {
      if (!seen.has(k)) {
        this.allocator.release(had.id);
        this.held.delete(k);
      }
    }
    return out;
  }

  static key(w: Workload): string {
    return keyOf(w);
  }
}
