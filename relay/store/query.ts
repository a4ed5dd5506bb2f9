// Streams flows out of the flows table in pages, newest or oldest first. Each page is one
// bounded SELECT continuing after the last row of the previous one (keyset paging on the
// row's unique sort position), so memory stays flat however many flows match, and the
// Observer's "last N matching" reads backwards in key order and stops early.
//
// Every page is one engine query under the store's time and row limits and tagged (its
// log_comment) with the call's id, so a caller that goes away (GetFlows cancelled, its
// deadline passed) stops the engine too: the abort kills whatever runs under the tag.
import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Flow } from '../../proto/gen/flow/flow';
import { flowMatcher, validateFilters } from '../../observer/filters/index';
import { decodeFlow } from './rows';
import { Params, filtersWhere, pushdownIsExact } from './sql_filters';
import type { FlowQuery } from './store';
import { engineError } from './engine_errors';

export interface QueryLimits {
  /** Per page: ClickHouse max_execution_time. */
  timeoutMs: number;
  /** Per page: ClickHouse max_rows_to_read. */
  maxRowsToRead: number;
}

export interface QueryControl {
  limits: QueryLimits;
  /** Stops the engine's queries tagged `tag`. */
  kill(tag: string): Promise<void>;
  /** A kill that failed, for the log; the caller has gone either way. */
  onKillError?: (e: Error) => void;
}

/** Raised in place of the engine's error when the caller's signal aborted the query. */
export class QueryAbortedError extends Error {
  readonly code = 'QUERY_ABORTED';

  constructor() {
    super('flow query aborted by its caller');
    this.name = 'QueryAbortedError';
  }
}

/**
 * The engine notices a kill or its time limit between blocks, and an expensive WHERE can
 * spend a second on one block of the default 65536 rows; smaller blocks keep a cancel
 * well inside a second.
 */
const CANCEL_BLOCK_ROWS = 8192;

/** Rows per page once the matcher has rejected some; the first page asks for the limit. */
const MAX_PAGE_ROWS = 5000;

interface PageRow {
  t: string;
  s: string;
  q: string;
  i: number;
  f: string;
}

interface Cursor {
  timeNs: string;
  sessionId: string;
  sequence: string;
  index: number;
}

export async function* queryFlows(client: ClickHouseClient, db: string, q: FlowQuery, ctl: QueryControl): AsyncGenerator<Flow> {
  validateFilters(q.allow, q.deny);
  const tag = `cq-${randomUUID()}`;
  const signal = q.signal;
  const onAbort = (): void => {
    ctl.kill(tag).catch((e: unknown) => ctl.onKillError?.(e as Error));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    yield* pages(client, db, q, ctl.limits, tag);
  } catch (e) {
    if (signal?.aborted) throw new QueryAbortedError();
    throw engineError(e, 'reading flows', ctl.limits);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

async function* pages(client: ClickHouseClient, db: string, q: FlowQuery, limits: QueryLimits, tag: string): AsyncGenerator<Flow> {
  const exact = pushdownIsExact(q.allow, q.deny);
  const matches = exact ? undefined : flowMatcher(q.allow, q.deny);
  const limit = q.limit ?? Infinity;
  if (limit <= 0) return;
  const desc = q.order === 'desc';
  let pageRows = Math.min(limit, MAX_PAGE_ROWS);
  let emitted = 0;
  let cursor: Cursor | undefined;
  for (;;) {
    const p = new Params();
    const where = [filtersWhere(q.allow, q.deny, p)];
    if (q.since) where.push(`time >= fromUnixTimestamp64Nano(${p.bind(dateNs(q.since).toString(), 'Int64')}, 'UTC')`);
    // A Date holds milliseconds, so `until` covers the whole of its last millisecond.
    if (q.until) where.push(`time < fromUnixTimestamp64Nano(${p.bind((dateNs(q.until) + 1_000_000n).toString(), 'Int64')}, 'UTC')`);
    if (cursor) where.push(...after(cursor, desc, p));
    const dir = desc ? 'DESC' : 'ASC';
    const sql = `SELECT toString(toUnixTimestamp64Nano(time)) AS t, session_id AS s,
  toString(sequence) AS q, batch_index AS i, base64Encode(flow) AS f
FROM ${db}.flows
WHERE ${where.join(' AND ')}
ORDER BY time ${dir}, session_id ${dir}, sequence ${dir}, batch_index ${dir}
LIMIT ${pageRows}
SETTINGS log_comment = '${tag}', max_execution_time = ${Math.max(0.001, limits.timeoutMs / 1000)},
  timeout_overflow_mode = 'throw', max_rows_to_read = ${limits.maxRowsToRead}, read_overflow_mode = 'throw',
  max_block_size = ${CANCEL_BLOCK_ROWS}`;
    if (q.signal?.aborted) throw new QueryAbortedError();
    // No abort_signal: embedded, it only stops the waiting. The page waits for the engine,
    // which the kill ends within a block.
    const result = await client.query({ query: sql, query_params: p.values, format: 'JSONEachRow' });
    const rows = await result.json<PageRow>();
    for (const row of rows) {
      const flow = decodeFlow(row.f);
      if (matches && !matches(flow)) continue;
      yield flow;
      if (++emitted >= limit) return;
    }
    if (rows.length < pageRows) return;
    const last = rows[rows.length - 1];
    cursor = { timeNs: last.t, sessionId: last.s, sequence: last.q, index: last.i };
    // The matcher rejected some rows, so matches are sparser than the SQL suggests.
    pageRows = Math.min(pageRows * 2, MAX_PAGE_ROWS);
  }
}

/** Rows strictly past the cursor in the scan direction. */
function after(c: Cursor, desc: boolean, p: Params): string[] {
  const t = `fromUnixTimestamp64Nano(${p.bind(c.timeNs, 'Int64')}, 'UTC')`;
  const key = `(time, session_id, sequence, batch_index)`;
  const at = `(${t}, ${p.bind(c.sessionId, 'String')}, ${p.bind(c.sequence, 'UInt64')}, ${p.bind(c.index, 'UInt32')})`;
  // The plain time bound lets the primary key skip what the tuple comparison cannot.
  return desc ? [`time <= ${t}`, `${key} < ${at}`] : [`time >= ${t}`, `${key} > ${at}`];
}

function dateNs(d: Date): bigint {
  return BigInt(d.getTime()) * 1_000_000n;
}
