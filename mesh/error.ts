// Why a remote catalogue was refused. Each code is counted on its own, so an operator sees
// whether a peer is misconfigured (UNKNOWN_CLUSTER, BAD_SIGNATURE), lying (CLUSTER_ID_MISMATCH,
// FOREIGN_IDENTITY), replaying (STALE), dated ahead (FUTURE), flooding (TOO_LARGE, TOO_MANY) or unreachable (FETCH_FAILED).
export const CATALOGUE_ERROR_CODES = [
  'MALFORMED',
  'UNSIGNED',
  'UNKNOWN_CLUSTER',
  'BAD_SIGNATURE',
  'CLUSTER_ID_MISMATCH',
  'FOREIGN_IDENTITY',
  'TOO_LARGE',
  'TOO_MANY',
  'STALE',
  'FUTURE',
  'FETCH_FAILED',
] as const;

export type CatalogueErrorCode = (typeof CATALOGUE_ERROR_CODES)[number];

export class CatalogueError extends Error {
  override readonly name = 'CatalogueError';
  constructor(
    readonly code: CatalogueErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** A value, or the error a mesh message was refused with: errors as values across the exchange. */
export type Result<T, E extends Error> = { ok: true; value: T } | { ok: false; error: E };

export type CatalogueResult<T> = Result<T, CatalogueError>;

/** A zero count per refusal code, for metrics that show every reason from the start. */
export const zeroCounts = <C extends string>(codes: readonly C[]): Record<C, number> => Object.fromEntries(codes.map((c) => [c, 0])) as Record<C, number>;

export const refuse = <T>(code: CatalogueErrorCode, message: string): CatalogueResult<T> => ({ ok: false, error: new CatalogueError(code, message) });
