// Hop-field expiry (scion-header.rst, ExpTime): a hop field is valid until
// Timestamp + (1 + ExpTime) * 24h/256, the timestamp taken from its info field. The unit
// is 337.5 s, so absolute expiries are whole or half seconds.
import { ScionError } from '../errors';

export const MAX_TTL_SECONDS = 24 * 60 * 60;
export const EXP_TIME_UNIT_SECONDS = MAX_TTL_SECONDS / 256;

function checkExpTime(expTime: number): void {
  if (!Number.isInteger(expTime) || expTime < 0 || expTime > 0xff) {
    throw new ScionError('BAD_ARGUMENT', `ExpTime ${expTime} is not an 8-bit unsigned integer`);
  }
}

/** Lifetime in seconds that ExpTime encodes, relative to the info field's timestamp. */
export function expTimeToSeconds(expTime: number): number {
  checkExpTime(expTime);
  return (1 + expTime) * EXP_TIME_UNIT_SECONDS;
}

/** Absolute expiry in Unix seconds (possibly ending in .5). */
export function hopFieldExpiry(timestamp: number, expTime: number): number {
  return timestamp + expTimeToSeconds(expTime);
}

/** As the router decides it: expired once the expiry lies strictly before `nowSeconds`. */
export function isHopFieldExpired(timestamp: number, expTime: number, nowSeconds: number): boolean {
  return hopFieldExpiry(timestamp, expTime) < nowSeconds;
}

/**
 * The largest ExpTime whose lifetime does not exceed `seconds`, as SCION's control plane
 * picks it when issuing hop fields; lifetimes outside one unit..24h cannot be encoded.
 */
export function expTimeFromSeconds(seconds: number): number {
  if (!(seconds >= EXP_TIME_UNIT_SECONDS) || seconds > MAX_TTL_SECONDS) {
    throw new ScionError('BAD_ARGUMENT', `lifetime ${seconds}s outside ${EXP_TIME_UNIT_SECONDS}s..${MAX_TTL_SECONDS}s`);
  }
  return Math.floor((seconds * 256) / MAX_TTL_SECONDS) - 1;
}
