// Picking the DRKey for a received packet from its relative timestamp
// (authenticator-option.rst, "Absolute time and DRKey selection"): add the timestamp to the
// start of the previous, current and next epoch; the one absolute time that falls in the
// acceptance window around the receiver's clock names the epoch, and its key must still be
// valid then (epoch plus grace period). The window is no wider than the shortest epoch, so
// at most one candidate can match.
import { epochAcceptsNanos, type Epoch, MIN_EPOCH_SECONDS, NS } from '../drkey/epoch';
import { SpaoError } from './errors';
import { absoluteTimestamp } from './timestamp';

/** One epoch's key as a receiver holds it. */
export interface EpochKey {
  epoch: Epoch;
  key: Uint8Array;
}

/** SCION's default acceptance window width (private/drkey/drkeyutil DefaultAcceptanceWindow). */
export const DEFAULT_ACCEPTANCE_WINDOW_NS = 5n * 60n * NS;
export const MAX_ACCEPTANCE_WINDOW_NS = BigInt(MIN_EPOCH_SECONDS) * NS;

export function checkAcceptanceWindow(widthNs: bigint): bigint {
  if (typeof widthNs !== 'bigint' || widthNs <= 0n || widthNs > MAX_ACCEPTANCE_WINDOW_NS) {
    throw new SpaoError('BAD_CONFIG', `acceptance window must be 1 ns..${MAX_ACCEPTANCE_WINDOW_NS} ns (the shortest DRKey epoch), got ${String(widthNs)}`);
  }
  return widthNs;
}

export interface Selected {
  key: EpochKey;
  /** When the sender says it sent the packet, Unix ns. */
  absTimeNs: bigint;
}

/** The key whose epoch puts `rel` inside [now - w/2, now + w/2), or undefined (a stale or future packet). */
export function selectEpochKey(keys: readonly EpochKey[], rel: number, nowNs: bigint, widthNs: bigint): Selected | undefined {
  const from = nowNs - widthNs / 2n;
  const to = nowNs + widthNs / 2n;
  for (const k of keys) {
    const at = absoluteTimestamp(k.epoch, rel);
    if (at >= from && at < to && epochAcceptsNanos(k.epoch, at)) return { key: k, absTimeNs: at };
  }
  return undefined;
}
