// What the page holds of the stream: the newest flows in a bounded ring (the table's rows)
// and the incremental tallies the maps and the compliance view draw. While paused, arriving
// flows wait in a bounded queue, none lost up to its bound and only counted past it, and go
// in on resume in arrival order.
import type { Flow } from '../../proto/gen/flow/flow';
import { ComplianceTally } from './compliance_tally';
import { BoundedRing } from './ring';
import { ServiceGraphTally } from './service_graph';
import { WorldTally } from './world_tally';

export interface DeckLimits {
  /** Flows the table holds. */
  ring: number;
  /** Flows held back while paused. */
  pending: number;
}

export const DEFAULT_LIMITS: DeckLimits = { ring: 20_000, pending: 50_000 };

export class FlowDeck {
  readonly ring: BoundedRing<Flow>;
  readonly graph: ServiceGraphTally;
  readonly world = new WorldTally();
  readonly compliance = new ComplianceTally();
  private pendingFlows: Flow[] = [];
  paused = false;
  pendingDropped = 0;
  lostEvents = 0;
  /** Flows the relay did not send because the page read too slowly (its short follower queue was full); they are stored. */
  missed = 0;
  /** Bumped on every change the views may show. */
  version = 0;

  constructor(
    readonly localCluster: string,
    readonly limits: DeckLimits = DEFAULT_LIMITS,
  ) {
    this.ring = new BoundedRing(limits.ring);
    this.graph = new ServiceGraphTally(localCluster);
  }

  get pending(): number {
    return this.pendingFlows.length;
  }

  add(flows: readonly Flow[]): void {
    if (flows.length === 0) return;
    if (this.paused) {
      const room = Math.max(0, this.limits.pending - this.pendingFlows.length);
      for (let i = 0; i < Math.min(room, flows.length); i++) this.pendingFlows.push(flows[i]);
      this.pendingDropped += Math.max(0, flows.length - room);
    } else this.take(flows);
    this.version++;
  }

  pause(): void {
    this.paused = true;
    this.version++;
  }

  resume(): void {
    this.paused = false;
    const held = this.pendingFlows;
    this.pendingFlows = [];
    this.pendingDropped = 0;
    this.take(held);
    this.version++;
  }

  private take(flows: readonly Flow[]): void {
    for (const f of flows) {
      this.ring.push(f);
      this.graph.add(f);
      this.world.add(f);
      this.compliance.add(f);
    }
  }
}
