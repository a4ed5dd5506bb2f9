// Replay suppression per sender (authenticator-option.rst asks receivers to drop duplicates
// of (source ISD-AS, source host, authenticator) inside the acceptance window). Senders give
// every packet a distinct absolute timestamp (SendClock), so a sender's timestamps identify
// its packets and the window keeps, per sender, a bounded set of timestamps instead of
// every authenticator seen:
//   - `top`: the newest timestamp accepted; anything more than maxReorderNs older is refused.
//   - `recent`: up to perSender accepted timestamps; a timestamp in it is a replay.
//   - `floor`: the newest timestamp that left `recent`; anything at or below it might be a
//     replay of a forgotten packet and is refused.
// Only packets whose authenticator verified may be recorded, or a forger could fill the
// window and push real packets below the floor.
import { SpaoError } from './errors';

export type ReplayVerdict = 'fresh' | 'replayed' | 'too-old';

export interface ReplayWindowOptions {
  /** Senders tracked at once; the least recently seen is forgotten beyond this. */
  maxSenders: number;
  /** Timestamps remembered per sender: how many packets may arrive out of order. */
  perSender: number;
  /** How far behind a sender's newest packet an older one may still arrive. */
  maxReorderNs: bigint;
}

export const DEFAULT_REPLAY_OPTIONS: ReplayWindowOptions = {
  maxSenders: 4096,
  perSender: 64,
  maxReorderNs: 1_000_000_000n,
};

interface SenderState {
  top: bigint;
  floor: bigint;
  recent: bigint[];
}

export interface ReplayWindowStats {
  senders: number;
  /** Senders forgotten because maxSenders was reached. */
  evictions: number;
  /** Timestamps at or below this are refused for senders without state (raised by evictions). */
  evictedFloor: bigint;
}

export class ReplayWindow {
  private readonly senders = new Map<string, SenderState>();
  private evictedFloor = -1n;
  private evictions = 0;
  private readonly opts: ReplayWindowOptions;

  constructor(opts: Partial<ReplayWindowOptions> = {}) {
    this.opts = { ...DEFAULT_REPLAY_OPTIONS, ...opts };
    const { maxSenders, perSender, maxReorderNs } = this.opts;
    if (!Number.isInteger(maxSenders) || maxSenders < 1) throw new SpaoError('BAD_CONFIG', `maxSenders must be a positive integer, got ${maxSenders}`);
    if (!Number.isInteger(perSender) || perSender < 1) throw new SpaoError('BAD_CONFIG', `perSender must be a positive integer, got ${perSender}`);
    if (typeof maxReorderNs !== 'bigint' || maxReorderNs < 0n) throw new SpaoError('BAD_CONFIG', 'maxReorderNs must be a non-negative bigint');
  }

  /** Judges the packet of `sender` sent at `absTimeNs` and, when fresh, remembers it. */
  check(sender: string, absTimeNs: bigint): ReplayVerdict {
    let s = this.senders.get(sender);
    if (s === undefined) {
      s = { top: -1n, floor: this.evictedFloor, recent: [] };
      if (this.senders.size >= this.opts.maxSenders) this.evictOldest();
    } else {
      this.senders.delete(sender); // re-inserted below: the map's order is least recently seen first
    }
    this.senders.set(sender, s);

    if (absTimeNs <= s.floor) return 'too-old';
    if (s.top >= 0n && absTimeNs < s.top - this.opts.maxReorderNs) return 'too-old';
    if (s.recent.includes(absTimeNs)) return 'replayed';

    s.recent.push(absTimeNs);
    if (absTimeNs > s.top) s.top = absTimeNs;
    if (s.recent.length > this.opts.perSender) {
      let min = 0;
      for (let i = 1; i < s.recent.length; i++) if (s.recent[i] < s.recent[min]) min = i;
      if (s.recent[min] > s.floor) s.floor = s.recent[min];
      s.recent.splice(min, 1);
    }
    return 'fresh';
  }

  stats(): ReplayWindowStats {
    return { senders: this.senders.size, evictions: this.evictions, evictedFloor: this.evictedFloor };
  }

  private evictOldest(): void {
    const [name, s] = this.senders.entries().next().value as [string, SenderState];
    this.senders.delete(name);
    this.evictions++;
    // The forgotten sender's old packets could be replayed as if new; refuse anything not
    // newer than what it had sent for every sender that has no state.
    if (s.top > this.evictedFloor) this.evictedFloor = s.top;
  }
}
