// Errors of the SPAO library: stable codes for building and parsing the option. Verifying a
// received packet never throws; it returns a verdict with a drop reason (verify.ts).

export type SpaoErrorCode =
  | 'BAD_SPI'        // SPI 0, or DRKey SPI fields out of range
  | 'BAD_TIMESTAMP'  // relative timestamp negative or not below 2^48
  | 'BAD_OPTION'     // option bytes that are not an SPAO or are cut short
  | 'BAD_HEADER'     // header fields that make no valid MAC input
  | 'BAD_CONFIG';    // verifier limits that would make epoch selection ambiguous or unbounded

export class SpaoError extends Error {
  override readonly name = 'SpaoError';
  constructor(
    readonly code: SpaoErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
