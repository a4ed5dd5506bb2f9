// The Timestamp / Sequence Number field under a DRKey SPI: nanoseconds since the start of
// the key's epoch (authenticator-option.rst). 48 bits cover the longest epoch (3 days) plus
// the grace period at 1 ns resolution.
import { type Epoch, NS } from '../drkey/epoch';
import { SpaoError } from './errors';

export const MAX_TIMESTAMP = 2 ** 48 - 1;

/** RelTime of a packet sent at `unixNanos` under a key of `epoch`. */
export function relativeTimestamp(epoch: Epoch, unixNanos: bigint): number {
  const rel = unixNanos - BigInt(epoch.begin) * NS;
  if (rel < 0n || rel > BigInt(MAX_TIMESTAMP)) {
    throw new SpaoError('BAD_TIMESTAMP', `send time is ${rel} ns from the epoch start; it must be in 0..2^48-1`);
  }
  return Number(rel);
}

/** AbsTime in Unix nanoseconds of a packet whose RelTime is `rel` under `epoch`. */
export function absoluteTimestamp(epoch: Epoch, rel: number): bigint {
  return BigInt(epoch.begin) * NS + BigInt(rel);
}

/**
 * Hands out strictly increasing send times so that no two packets of one sender share an
 * AbsTime, which the receiver's replay window relies on (the spec lets a coarse clock fill
 * its low bits with a counter; this is the same idea).
 */
export class SendClock {
  private last = -1n;

  constructor(private readonly nowNanos: () => bigint = () => BigInt(Date.now()) * 1_000_000n) {}

  next(): bigint {
    const now = this.nowNanos();
    this.last = now > this.last ? now : this.last + 1n;
    return this.last;
  }
}
