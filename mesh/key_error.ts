// Why a Level 1 key request or answer was refused. Each code is counted on its own, on both
// sides: a peer that is misconfigured (UNKNOWN_CLUSTER, BAD_SIGNATURE), replaying (STALE,
// REPLAYED), asking for what it may not have (BAD_EPOCH), flooding (TOO_LARGE, BUSY,
// TIMEOUT), answering for someone else (WRONG_ANSWER) or unreachable (FETCH_FAILED).
import { zeroCounts, type Result } from './error';

export const KEY_EXCHANGE_ERROR_CODES = [
  'MALFORMED',
  'UNSIGNED',
  'UNKNOWN_CLUSTER',
  'BAD_SIGNATURE',
  'STALE',
  'REPLAYED',
  'BAD_EPOCH',
  'WRONG_ANSWER',
  'TOO_LARGE',
  'BUSY',
  'TIMEOUT',
  'FETCH_FAILED',
] as const;

export type KeyExchangeErrorCode = (typeof KEY_EXCHANGE_ERROR_CODES)[number];

export class KeyExchangeError extends Error {
  override readonly name = 'KeyExchangeError';
  constructor(
    readonly code: KeyExchangeErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export type KeyResult<T> = Result<T, KeyExchangeError>;

export const refuseKey = <T>(code: KeyExchangeErrorCode, message: string): KeyResult<T> => ({ ok: false, error: new KeyExchangeError(code, message) });

export const zeroKeyCounts = (): Record<KeyExchangeErrorCode, number> => zeroCounts(KEY_EXCHANGE_ERROR_CODES);
