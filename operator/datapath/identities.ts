// Keeps the identity allocator's reference counts in step with the workloads seen: one
// reference per workload, acquired when it appears, released when it goes.
import type { IdentityAllocator } from '../identity/allocator';
import type { Workload } from '../workloads/workload';

const keyOf = (w: Workload): string => `${w.namespace}/${w.name}`;

export class IdentityBook {
  private readonly held = new Map<string, { id: number; labels: string }>();

  constructor(private readonly allocator: IdentityAllocator) {}

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
      const id = this.allocator.acquire(w.namespace, w.labels).id;
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
