// Timestamps as the protos carry them, compared at full nanosecond precision.
import type { Timestamp } from '../proto/gen/google/protobuf/timestamp';

const NS_PER_S = 1_000_000_000n;

export function timestampNs(ts: Timestamp | undefined): bigint | undefined {
  return ts === undefined ? undefined : ts.seconds * NS_PER_S + BigInt(ts.nanos);
}

export function nsTimestamp(ns: bigint): Timestamp {
  const seconds = ns / NS_PER_S;
  const nanos = Number(ns - seconds * NS_PER_S);
  return nanos < 0 ? { seconds: seconds - 1n, nanos: nanos + 1_000_000_000 } : { seconds, nanos };
}

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** The Date holding `ns`, rounded down to its millisecond. */
export function nsDate(ns: bigint): Date {
  const ms = ns / 1_000_000n;
  return new Date(Number(ns < 0n && ms * 1_000_000n !== ns ? ms - 1n : ms));
}
