// The fetching side's Level 1 keys: for each issuing peer AS, the keys of its previous,
// current and next epoch. Rotation is by time: a key is kept through its epoch, the grace
// period and half an acceptance window after (a packet sent at the last valid instant may
// still be in flight), and the next epoch's key is fetched during the prefetch period so
// both are held across the switch.
import type { IA } from '../isdas';
import { checkEpoch, epochContains, GRACE_PERIOD_SECONDS, inPrefetchPeriod, MIN_EPOCH_SECONDS } from './epoch';
import { DrkeyError } from './errors';
import type { Level1Key } from './level1';
import { checkKey } from './prf';

/** How long after its epoch a key stays: the grace period plus half the widest acceptance window. */
export const RETAIN_AFTER_END_SECONDS = GRACE_PERIOD_SECONDS + MIN_EPOCH_SECONDS / 2;
/** Previous, current, next. */
export const KEYS_PER_PEER = 3;
export const DEFAULT_MAX_PEERS = 1024;

export class Level1Store {
  private readonly peers = new Map<IA, Level1Key[]>();

  constructor(
    readonly localIA: IA,
    private readonly maxPeers = DEFAULT_MAX_PEERS,
  ) {}

  /**
   * Adds a key fetched from its issuer. Epochs of one issuer must not overlap (drkey.rst), and
   * an issuer does not change a key once issued, so a different key for a held epoch is refused.
   */
  put(k: Level1Key): void {
    checkEpoch(k.epoch, 'Level 1 epoch');
    checkKey(k.key, 'Level 1 key');
    if (k.dstIA !== this.localIA) throw new DrkeyError('BAD_IA', `key is for ${k.dstIA.toString(16)}, this AS is ${this.localIA.toString(16)}`);
    let held = this.peers.get(k.srcIA);
    if (held === undefined) {
      if (this.peers.size >= this.maxPeers) throw new DrkeyError('TOO_MANY_PEERS', `already holding keys of ${this.maxPeers} peer ASes`);
      held = [];
      this.peers.set(k.srcIA, held);
    }
    for (const h of held) {
      if (h.epoch.begin === k.epoch.begin && h.epoch.end === k.epoch.end) {
        if (Buffer.compare(h.key, k.key) !== 0 || h.protocol !== k.protocol) {
          throw new DrkeyError('BAD_EPOCH', `issuer ${k.srcIA.toString(16)} sent a different key for an epoch already held`);
        }
        return;
      }
      if (k.epoch.begin < h.epoch.end && h.epoch.begin < k.epoch.end) {
        throw new DrkeyError('BAD_EPOCH', `epoch [${k.epoch.begin}, ${k.epoch.end}) overlaps the held [${h.epoch.begin}, ${h.epoch.end})`);
      }
    }
    held.push({ ...k, epoch: { ...k.epoch }, key: new Uint8Array(k.key) });
    held.sort((a, b) => a.epoch.begin - b.epoch.begin);
    if (held.length > KEYS_PER_PEER) held.shift();
  }

  /** Drops keys no packet can be verified with any more; returns how many. */
  prune(nowSeconds: number): number {
    let dropped = 0;
    for (const [ia, held] of this.peers) {
      const keep = held.filter((k) => k.epoch.end + RETAIN_AFTER_END_SECONDS > nowSeconds);
      dropped += held.length - keep.length;
      if (keep.length === 0) this.peers.delete(ia);
      else this.peers.set(ia, keep);
    }
    return dropped;
  }

  /** The held keys of `issuer`, oldest epoch first. */
  keysOf(issuer: IA): readonly Level1Key[] {
    return this.peers.get(issuer) ?? [];
  }

  issuers(): IA[] {
    return [...this.peers.keys()];
  }

  /**
   * Whether the key of `issuer` for the time `nowSeconds` (or, in the prefetch period, for
   * the epoch after it) is missing and should be fetched.
   */
  needsFetch(issuer: IA, nowSeconds: number): boolean {
    const held = this.keysOf(issuer);
    const current = held.find((k) => epochContains(k.epoch, nowSeconds));
    if (current === undefined) return true;
    if (!inPrefetchPeriod(current.epoch, nowSeconds)) return false;
    return !held.some((k) => k.epoch.begin >= current.epoch.end);
  }
}
