// DRKey epochs (drkey.rst, "Key Validity time"): an issuer AS cuts time into
// non-overlapping epochs, one secret value each. A key stays acceptable for a short grace
// period after its epoch ends so a packet sent just before the switch still verifies, and
// subject ASes fetch the next epoch's key during a prefetching period before the switch.
import { DrkeyError } from './errors';

/** Seconds; bounds from drkey.rst. */
export const MIN_EPOCH_SECONDS = 6 * 60;
export const MAX_EPOCH_SECONDS = 3 * 24 * 3600;
export const GRACE_PERIOD_SECONDS = 5;
export const PREFETCH_PERIOD_SECONDS = 30 * 60;
/** SCION's control service default (private/drkey/drkeyutil DefaultEpochDuration). */
export const DEFAULT_EPOCH_SECONDS = 24 * 3600;

const U32_MAX = 0xffff_ffff;
export const NS = 1_000_000_000n;

/** [begin, end) in Unix seconds, each a uint32 as the SV derivation encodes them. */
export interface Epoch {
  begin: number;
  end: number;
}

export function checkEpoch(e: Epoch, what = 'epoch'): Epoch {
  for (const [name, v] of [['begin', e?.begin], ['end', e?.end]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > U32_MAX) {
      throw new DrkeyError('BAD_EPOCH', `${what}.${name} must be a uint32 of Unix seconds, got ${String(v)}`);
    }
  }
  if (e.end <= e.begin) throw new DrkeyError('BAD_EPOCH', `${what} ends (${e.end}) before it begins (${e.begin})`);
  return e;
}

export function checkEpochLength(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < MIN_EPOCH_SECONDS || seconds > MAX_EPOCH_SECONDS) {
    throw new DrkeyError('BAD_EPOCH', `epoch length ${seconds} s is outside ${MIN_EPOCH_SECONDS}..${MAX_EPOCH_SECONDS} s`);
  }
  return seconds;
}

/** An epoch whose length respects the spec's lower and upper bound, for epochs this project issues. */
export function checkIssuedEpoch(e: Epoch, what = 'epoch'): Epoch {
  checkEpoch(e, what);
  checkEpochLength(e.end - e.begin);
  return e;
}

/**
 * The epoch of a fixed grid of `lengthSeconds`-long epochs starting at the Unix epoch that
 * contains `unixSeconds` (as SCION's control service cuts them), shifted by `offset` epochs.
 */
export function gridEpoch(unixSeconds: number, lengthSeconds: number, offset = 0): Epoch {
  checkEpochLength(lengthSeconds);
  const index = Math.floor(unixSeconds / lengthSeconds) + offset;
  return checkEpoch({ begin: index * lengthSeconds, end: (index + 1) * lengthSeconds });
}

/** Whether `unixSeconds` lies in the epoch itself. */
export function epochContains(e: Epoch, unixSeconds: number): boolean {
  return unixSeconds >= e.begin && unixSeconds < e.end;
}

/** Whether a key of epoch `e` may still authenticate a packet sent at `unixNanos` (epoch plus grace). */
export function epochAcceptsNanos(e: Epoch, unixNanos: bigint): boolean {
  return unixNanos >= BigInt(e.begin) * NS && unixNanos < BigInt(e.end + GRACE_PERIOD_SECONDS) * NS;
}

/** Whether a subject AS should be fetching the key of the epoch after `e` at `unixSeconds`. */
export function inPrefetchPeriod(e: Epoch, unixSeconds: number): boolean {
  return unixSeconds >= e.end - PREFETCH_PERIOD_SECONDS && unixSeconds < e.end;
}
