// GetFlows and GetFlowBatches for a relay and its peers together. History first: this
// relay's answer and each peer's (own stores; a shared store answers history alone) merged
// exactly in time order, since each comes in time order, with Hubble's number/first/since/
// until over the union; a peer that keeps the merge waiting longer than the timeout is
// dropped and reported. Then, with follow, everyone's live flows merged within a window,
// from just before history began, so nothing falls between the two; a peer whose stream
// breaks is asked again with backoff from its last flow less the window. Flows are
// deduplicated by uuid throughout: a batch two replicas both stored (collector failover)
// is shown once.
import type { GetFlowsRequest, GetFlowsResponse } from '../../proto/gen/observer/observer';
import { NodeState } from '../../proto/gen/relay/relay';
import type { ResponseSink } from '../../observer/get_flows';
import { nowNs, nsTimestamp, timestampNs } from '../../observer/time';
import type { PeerSet } from './peer_set';
import { LocalSource, PeerSource, type Item, type PeerEvents, type Source } from './sources';

export interface FanOutOptions {
  peers: PeerSet;
  /** This relay's own answer to a request, as a local-scope call gets it. */
  local: (request: GetFlowsRequest, out: ResponseSink) => Promise<void>;
  /** How long live flows are held to order them across relays; default 1000 ms. */
  windowMs?: number;
  /** The most flows "the last N" holds over the union; a larger N means everything (as GetFlows). */
  maxLastN?: number;
  /** Flows remembered to drop the second copy; default 65536. */
  dedupe?: number;
  /** How long a history answer (not a follow's live part) may take over the whole set; peers still open then are dropped. Default 30 000 ms. */
  historyTimeoutMs?: number;
  /** A peer was left out of an answer, or came back; for the log and metrics. */
  onPeer?: (peer: string, state: 'unavailable' | 'connected', reason: string) => void;
  /** The short follower queue the caller asked for (cillion-follow-queue), asked of each peer's live part too. */
  followQueue?: number;
}

const U53 = BigInt(Number.MAX_SAFE_INTEGER);

/** The flows most recently sent (by node and uuid), to send each flow once; the oldest is forgotten first. */
class SeenUuids {
  private readonly set = new Set<string>();
  private readonly order: string[] = [];
  private head = 0;

  constructor(private readonly max: number) {}

  /** True the first time a key is offered (an empty key, an event's, always). */
  fresh(uuid: string): boolean {
    if (uuid === '') return true;
    if (this.set.has(uuid)) return false;
    this.set.add(uuid);
    this.order.push(uuid);
    if (this.set.size > this.max) this.set.delete(this.order[this.head++]);
    if (this.head > 4096) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
    return true;
  }
}

/** The last `n` responses offered, oldest first. */
class Ring {
  private readonly a: (GetFlowsResponse | Buffer)[] = [];
  private at = 0;

  constructor(private readonly n: number) {}

  push(r: GetFlowsResponse | Buffer): void {
    if (this.a.length < this.n) this.a.push(r);
    else {
      this.a[this.at] = r;
      this.at = (this.at + 1) % this.n;
    }
  }

  items(): (GetFlowsResponse | Buffer)[] {
    return [...this.a.slice(this.at), ...this.a.slice(0, this.at)];
  }
}

function statusEvent(state: NodeState, name: string, message: string): GetFlowsResponse {
  return { responseTypes: { $case: 'nodeStatus', value: { stateChange: state, nodeNames: [name], message } }, nodeName: '', time: nsTimestamp(nowNs()) };
}

/**
 * Sources merged in time order. In history the oldest head goes once every open source has
 * one (or has kept the merge waiting past the timeout and is dropped); with follow it also
 * goes once it has waited the window, and sources not answering yet hold nothing back.
 */
class Merge implements PeerEvents {
  readonly sources: Source[] = [];
  private readonly notices: GetFlowsResponse[] = [];
  private waiter: (() => void) | undefined;
  /** Something changed since next() last looked: it looks again instead of sleeping. */
  private woken = false;
  private cancelled = false;

  constructor(
    private readonly follow: boolean,
    private readonly timeoutMs: number,
    private readonly windowMs: number,
    private readonly onPeer: FanOutOptions['onPeer'],
    /** Peers reported unavailable in this answer (shared by its history and live merges), reported once. */
    private readonly down: Set<string>,
    /** When a history merge gives up on the peers still open (ms since the epoch). */
    private readonly deadline?: { at: number; ms: number },
  ) {}

  readonly wake = (): void => {
    this.woken = true;
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  };

  unavailable(s: PeerSource, reason: string): void {
    if (this.down.has(s.name)) return;
    this.down.add(s.name);
    this.onPeer?.(s.name, 'unavailable', reason);
    this.notices.push(statusEvent(NodeState.NODE_UNAVAILABLE, s.name, reason));
    this.wake();
  }

  connected(s: PeerSource): void {
    if (!this.down.delete(s.name)) return;
    this.onPeer?.(s.name, 'connected', '');
    this.notices.push(statusEvent(NodeState.NODE_CONNECTED, s.name, ''));
    this.wake();
  }

  get local(): LocalSource {
    return this.sources[0] as LocalSource;
  }

  /**
   * The next response to send: a notice, or the oldest flow that may go; undefined at the
   * end. `idle` runs before each wait (what the caller holds back goes out then); false
   * from it ends the merge.
   */
  async next(idle: () => boolean | Promise<boolean>): Promise<GetFlowsResponse | Item | undefined> {
    let graced = false;
    for (;;) {
      this.woken = false;
      const local = this.local;
      // This relay's own failure is the answer's (a bad request fails here before any peer's word).
      if (local.error !== undefined) throw local.error;
      if (this.notices.length > 0) return this.notices.shift();
      if (this.cancelled) return undefined;
      const now = Date.now();
      let min: Source | undefined;
      let ready = true;
      let open = false;
      let blocker: PeerSource | undefined;
      for (const s of this.sources) {
        const head = s.peek();
        if (head) {
          const m = min?.peek();
          if (!m || head.timeNs < m.timeNs) min = s;
        } else if (s.state === 'open' && (!this.follow || s.connected)) {
          ready = false;
          s.blockedSince ??= now;
          if (s instanceof PeerSource && (!blocker || (s.blockedSince ?? now) < (blocker.blockedSince ?? now))) blocker = s;
        }
        if (s.state === 'open') open = true;
      }
      // With follow the answer ends with this relay's own (until, or the relay closing).
      const over = this.follow ? local.state !== 'open' : !open;
      const head = min?.peek();
      if (min && head && (ready || over || (this.follow && now - head.arrived >= this.windowMs))) {
        // A peer is timed only while the merge waits for it, not while the client reads.
        for (const s of this.sources) s.blockedSince = undefined;
        return min.take();
      }
      if (!min && over) return undefined;
      if (!this.follow && this.deadline && now >= this.deadline.at) {
        // A peer trickling flows, each within the timeout, never ends a history answer by itself.
        for (const s of this.sources) if (s instanceof PeerSource) s.drop(`its history took longer than ${this.deadline.ms} ms`);
        continue;
      }
      let waitMs: number | undefined;
      if (this.follow && head) waitMs = head.arrived + this.windowMs - now;
      if (!this.follow && blocker) {
        const left = (blocker.blockedSince ?? now) + this.timeoutMs - now;
        if (left <= 0) {
          // What already came in is read first (setImmediate runs after pending I/O).
          if (!graced) {
            graced = true;
            await new Promise((resolve) => setImmediate(resolve));
            continue;
          }
          blocker.drop(`sent nothing for ${this.timeoutMs} ms`);
          continue;
        }
        waitMs = left;
      }
      if (!this.follow && this.deadline) waitMs = Math.min(waitMs ?? Infinity, this.deadline.at - now);
      if (!(await idle())) return undefined;
      await this.sleep(waitMs);
    }
  }

  private async sleep(ms: number | undefined): Promise<void> {
    if (this.woken) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.waiter = resolve;
      if (ms !== undefined) timer = setTimeout(resolve, Math.max(1, ms));
    });
    clearTimeout(timer);
  }

  cancel(): void {
    this.cancelled = true;
    for (const s of this.sources) s.cancel();
    this.wake();
  }
}

function isItem(x: GetFlowsResponse | Item): x is Item {
  return 'response' in x;
}

async function send(out: ResponseSink, r: GetFlowsResponse | Buffer): Promise<boolean> {
  return out.writeNow(r) || out.drained();
}

/** The answer for the whole set into `out`; a bad request fails as this relay's own answer would. */
export async function fanOutFlows(request: GetFlowsRequest, out: ResponseSink, opts: FanOutOptions): Promise<void> {
  const windowMs = opts.windowMs ?? 1000;
  const { peers } = opts;
  const seen = new SeenUuids(opts.dedupe ?? 65_536);
  const history = !(request.follow && request.number === 0n && request.since === undefined);
  const active: Merge[] = [];
  const down = new Set<string>();
  out.onGone(() => active.forEach((m) => m.cancel()));

  const historyMs = opts.historyTimeoutMs ?? 30_000;
  // History is what was there when the answer began (or up to `until`): later flows are the live part's.
  const notAfterNs = timestampNs(request.until) ?? nowNs();
  const merge = (req: GetFlowsRequest, follow: boolean, withPeers: boolean): Merge => {
    const m = new Merge(follow, peers.timeoutMs, windowMs, opts.onPeer, down, follow ? undefined : { at: Date.now() + historyMs, ms: historyMs });
    m.sources.push(new LocalSource(m.wake, (sink) => opts.local(req, sink)));
    if (withPeers) {
      for (const p of peers.peers) m.sources.push(new PeerSource(p, req, { follow, timeoutMs: peers.timeoutMs, windowMs, events: m, notAfterNs: follow ? undefined : notAfterNs, followQueue: follow ? opts.followQueue : undefined }, m.wake));
    }
    active.push(m);
    if (out.closed) m.cancel();
    return m;
  };

  // Live first, from every relay: subscribed before history is read, held while it is sent,
  // so nothing falls between the two (what comes twice is dropped by uuid).
  const live = request.follow ? merge({ ...request, number: 0n, first: false, since: undefined }, true, true) : undefined;
  try {
    if (history) {
      const m = merge({ ...request, follow: false }, false, !peers.sharedStore);
      const last = !request.first && request.number > 0n && request.number <= BigInt(opts.maxLastN ?? 100_000);
      const firstN = request.first && request.number <= U53 ? Number(request.number) : undefined;
      const ring = last ? new Ring(Number(request.number)) : undefined;
      const idle = () => (ring ? !out.closed : out.flush());
      let sent = 0;
      for (let x = await m.next(idle); x !== undefined; x = await m.next(idle)) {
        if (!isItem(x)) {
          if (!(await send(out, x))) return;
          continue;
        }
        if (!seen.fresh(x.key)) continue;
        if (ring) {
          ring.push(x.response);
          continue;
        }
        if (!(await send(out, x.response))) return;
        if (firstN !== undefined && ++sent >= firstN) break;
      }
      m.cancel();
      for (const r of ring?.items() ?? []) if (!(await send(out, r))) return;
    }
    if (!live || out.closed) return;
    if (!(await out.flush())) return;
    // Live flows keep to `since` as GetFlows' own follow does.
    const since = timestampNs(request.since);
    const idle = () => out.flush();
    for (let x = await live.next(idle); x !== undefined; x = await live.next(idle)) {
      const r = isItem(x) ? (seen.fresh(x.key) && (since === undefined || x.key === '' || x.timeNs >= since) ? x.response : undefined) : x;
      if (r && !(await send(out, r))) return;
    }
  } finally {
    active.forEach((m) => m.cancel());
  }
}
