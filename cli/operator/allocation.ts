// The operator's identity allocation: the cluster's pods numbered into the state file while
// this process may allocate (it holds the file lock, and on Kubernetes the Lease), and on
// Kubernetes published as CillionIdentity objects for the agents.
import { ClusterIdentities } from '../../operator/cluster_allocator';
import { IdentityError } from '../../identity/allocator';
import type { IdentityReader } from '../../identity/reader';
import type { IdentityObjectWriter } from '../../kube/identity_writer';
import type { LeaderElector } from '../../kube/leader';
import type { Workload } from '../../identity/workload';

export interface AllocationOptions {
  stateFile: string;
  clusterId: number;
  workloads: () => Workload[];
  /** Asks the node to recompute (after the allocation was taken). */
  recompute: () => void;
  log: (line: string) => void;
}

export class IdentityAllocation {
  private allocation: ClusterIdentities | null = null;
  private opening: Promise<void> | null = null;
  private readonly abort = new AbortController();
  /** On Kubernetes, while leading: the allocation as CillionIdentity objects, for the agents. */
  published: IdentityObjectWriter | null = null;
  /** The node's reader of the state file, refreshed after each change. */
  reader: IdentityReader | null = null;
  /** Set on Kubernetes: only its leader allocates. */
  elector: LeaderElector | null = null;

  constructor(private readonly o: AllocationOptions) {}

  get clusterId(): number {
    return this.o.clusterId;
  }

  /** Takes the allocation (waiting for the file lock), unless this process has it. */
  open(): Promise<void> {
    if (this.allocation) return Promise.resolve();
    const writer = this.published;
    const { stateFile, clusterId, log } = this.o;
    this.opening ??= (writer ? writer.synced : Promise.resolve())
      .then(() => ClusterIdentities.open({ stateFile, clusterId, workloads: this.o.workloads, signal: this.abort.signal, published: writer ? () => writer.published() : undefined, log }))
      .then((a) => {
        // The Lease may have gone while this waited for the file lock.
        if (this.elector && !this.elector.isLeader) return a.close();
        this.allocation = a;
        const r = a.sync();
        this.published?.publish(a.view.all());
        log(`identities: allocating for cluster id ${clusterId} into ${stateFile} (${a.view.all().length} numbered${r.exhausted ? `, ${r.exhausted} pod(s) without a free number` : ''})`);
        this.reader?.refresh();
      })
      .finally(() => {
        this.opening = null;
      });
    return this.opening;
  }

  /** Opens the allocation in the background, then recomputes. */
  openSoon(): void {
    void this.open().then(this.o.recompute, (e: Error) => this.o.log(`identities: ${e.message}`));
  }

  close(): void {
    this.allocation?.close();
    this.allocation = null;
  }

  /**
   * Run by every recompute before the node's identities are read: one timer (the programmer's)
   * numbers new pods, collects expired numbers and programs the node, in that order.
   */
  readonly allocate = (): void => {
    try {
      if (this.allocation?.sync().changed) this.reader?.refresh();
      if (this.allocation) this.published?.publish(this.allocation.view.all());
    } catch (e) {
      this.o.log(`identities: ${(e as Error).message}`);
      if (e instanceof IdentityError && e.code === 'LOCK_LOST') {
        this.close();
        // Taken back when this process may allocate.
        if (!this.elector || this.elector.isLeader) this.openSoon();
      }
    }
  };

  async stopPublishing(): Promise<void> {
    const w = this.published;
    this.published = null;
    await w?.stop();
  }

  /** Gives up a wait for the file lock and the allocation. */
  stop(): void {
    this.abort.abort();
    this.close();
  }
}
