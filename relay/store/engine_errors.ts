// What the engine says stays in the relay's log: clients get a generic status and an error
// id to quote, never ClickHouse's own text (it names tables, settings and query fragments).
import { randomBytes } from 'node:crypto';
import { HistoryLimitError } from '../../observer/history';

export class EngineError extends Error {
  readonly code = 'ENGINE_ERROR';

  constructor(
    readonly errorId: string,
    readonly detail: string,
    op: string,
  ) {
    super(`${op} failed in the flow store (error id ${errorId})`);
    this.name = 'EngineError';
  }
}

export function errorId(): string {
  return randomBytes(6).toString('hex');
}

interface CodedError {
  code?: unknown;
  type?: unknown;
  message?: unknown;
}

/** ClickHouse's exception type name (TIMEOUT_EXCEEDED...) of an error, when it has one. */
export function engineErrorType(e: unknown): string | undefined {
  const c = e as CodedError;
  if (typeof c?.type === 'string') return c.type;
  const m = typeof c?.message === 'string' ? /\(([A-Z_]+)\)\s*$/.exec(c.message) : null;
  return m?.[1];
}

/** The store's limits as HistoryLimitError, anything else as an EngineError carrying the detail for the log. */
export function engineError(e: unknown, op: string, limits: { timeoutMs: number; maxRowsToRead: number }): Error {
  if (e instanceof HistoryLimitError || e instanceof EngineError) return e;
  switch (engineErrorType(e)) {
    case 'TIMEOUT_EXCEEDED':
      return new HistoryLimitError('query_time', `the flow store query ran into its time limit of ${limits.timeoutMs} ms; narrow since/until or the filters`);
    case 'TOO_MANY_ROWS':
      return new HistoryLimitError('query_rows', `the flow store query would read more than ${limits.maxRowsToRead} rows; narrow since/until or the filters`);
    default:
      return new EngineError(errorId(), e instanceof Error ? e.message : String(e), op);
  }
}
