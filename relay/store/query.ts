// Streams flows out of the flows table in pages, newest or oldest first. Each page is a
// bounded SELECT (two for a large page: see readPage) continuing after the last row of the
// previous one (keyset paging on the row's unique sort position), so memory stays flat
// however many flows match, and the Observer's "last N matching" reads backwards in key
// order and stops early. A page comes in ClickHouse's Native format and each Flow is
// rebuilt from its columns (stored_flow.ts), its endpoints and path from the store's
// reference caches (references.ts).
//
// Every query of a page is under the store's time and row limits and tagged (its
// log_comment) with the call's id, so a caller that goes away (GetFlows cancelled, its
// deadline passed) stops the engine too: the abort kills whatever runs under the tag.
import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Flow } from '../../proto/gen/flow/flow';
import { flowMatcher, validateFilters } from '../../observer/filters/index';
import { Params, filtersWhere, pushdownIsExact } from './sql_filters';
import type { FlowQuery } from './store';
import { engineError } from './engine_errors';
import { readNative, type BigArray, type NativeBlock } from './native_reader';
import { ReferenceCache, type ReferenceLimits } from './references';
import { pickedBlock, sortedBlock } from './block_order';
import { TimeWindows, type WindowBounds } from './time_windows';
import { RowCache, rowKey, rowKeys, type CachedRow } from './row_cache';
import { PAGE_COLUMNS, blockFlows, blockKeys, cursorOf, type Cursor, type PageRefs } from './stored_flow';

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

/** Rows per page; the first page asks for the limit when it is smaller, later ones twice as many as the one before. */
const MAX_PAGE_ROWS = 20_000;

/** From this many rows a page is put in order here rather than by the engine (readPage). */
const SORT_HERE_ROWS = 2048;

/** One page of a query: Native blocks, every workload and path key they hold resolved. */
export interface FlowPage {
  blocks: NativeBlock[];
  refs: PageRefs;
}

/** Reads flows out of one database's flows table, rebuilding each from its columns. */
export class FlowReader {
  private readonly refs: ReferenceCache;
  private readonly rowCache: RowCache;
  /**
   * About the newest time stored, where newest-first reads start their windows: the newest
   * flow such a read has seen. Rows stored since are newer still and inside any window.
   */
  private newestNs: bigint | undefined;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly db: string,
    private readonly ctl: QueryControl,
    referenceLimits?: ReferenceLimits,
    /** Bytes of fetched rows kept for later reads (row_cache.ts); 0 keeps none. */
    rowCacheBytes?: number,
  ) {
    this.refs = new ReferenceCache(db, referenceLimits);
    this.rowCache = new RowCache(rowCacheBytes);
  }

  /**
   * Flows one at a time, rebuilt from their columns; filters the engine cannot decide
   * exactly are checked here on the rebuilt Flow.
   */
  async *query(q: FlowQuery): AsyncGenerator<Flow> {
    const matches = pushdownIsExact(q.allow, q.deny) ? undefined : flowMatcher(q.allow, q.deny);
    const limit = q.limit ?? Infinity;
    let emitted = 0;
    for await (const page of this.pages(q, matches === undefined)) {
      for (const block of page.blocks) {
        const flowAt = blockFlows(block, page.refs);
        for (let i = 0; i < block.rows; i++) {
          if (q.signal?.aborted) throw new QueryAbortedError();
          const flow = flowAt(i);
          if (matches && !matches(flow)) continue;
          yield flow;
          if (++emitted >= limit) return;
        }
      }
    }
  }

  /**
   * The query's rows as pages of Native blocks with their references resolved, for readers
   * that turn columns into something other than Flow objects. With `exact`, every row of
   * every page matches and the pages hold at most `limit` rows together; without it (the
   * filters are not all decided by the engine, see pushdownIsExact) the caller filters and
   * counts, and paging goes on until the caller stops.
   *
   * Pages come one after the other; while one is handed on, the engine already reads the
   * next (its cursor is the page's last row), unless the limit is sure to be reached first.
   */
  async *pages(q: FlowQuery, exact = pushdownIsExact(q.allow, q.deny)): AsyncGenerator<FlowPage> {
    validateFilters(q.allow, q.deny);
    const limit = exact ? (q.limit ?? Infinity) : Infinity;
    if ((q.limit ?? Infinity) <= 0) return;
    const tag = `cq-${randomUUID()}`;
    const signal = q.signal;
    const onAbort = (): void => {
      this.ctl.kill(tag).catch((e: unknown) => this.ctl.onKillError?.(e as Error));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let pageRows = Math.min(q.limit ?? Infinity, MAX_PAGE_ROWS);
    let asked = pageRows;
    let handed = 0;
    let cursor: Cursor | undefined;
    let next: Promise<NativeBlock[]> | undefined;
    try {
      const windows = q.order === 'desc' ? await this.windows(q, tag) : undefined;
      next = this.readPage(q, undefined, windows, asked, tag);
      while (next) {
        let blocks = await next;
        next = undefined;
        const rows = blocks.reduce((n, b) => n + b.rows, 0);
        const refs = await this.resolve(blocks, tag);
        if (rows > 0 && windows && cursor === undefined) this.sawNewest(BigInt(cursorOf(blocks[0], 0).timeNs));
        const last = blocks[blocks.length - 1];
        if (rows > 0) cursor = cursorOf(last, last.rows - 1);
        // A short page was the last; after a full one, matches are sparser than the SQL suggests.
        const more = rows >= asked;
        pageRows = Math.min(pageRows * 2, MAX_PAGE_ROWS);
        handed += rows;
        asked = Math.min(pageRows, limit - handed);
        // Read ahead only when the caller is sure to want the next page.
        const ahead = more && limit - handed > 0 && (exact || q.limit === undefined);
        if (ahead) next = this.readPage(q, cursor, windows, asked, tag);
        if (signal?.aborted) throw new QueryAbortedError();
        blocks = blocks.filter((b) => b.rows > 0);
        if (blocks.length > 0) yield { blocks, refs };
        if (handed >= limit) return;
        if (more && !next) next = this.readPage(q, cursor, windows, asked, tag);
      }
    } catch (e) {
      if (signal?.aborted) throw new QueryAbortedError();
      throw engineError(e, 'reading flows', this.ctl.limits);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // A page read ahead that nobody will take: its failure is nobody's either.
      next?.catch(() => undefined);
    }
  }

  /**
   * The rows of one page. The engine reads the wide columns of only the rows the LIMIT
   * keeps (its lazy materialization), so a "last 100" reads the filtered and key columns of
   * the granules it walks through and every column of 100 rows. A larger page is read in
   * two steps: the key of its last row (ordering only the key columns), then its rows
   * unordered up to that key, put in order here (block_order.ts): the engine merging its
   * parts' sorted streams of every column costs several times the read itself.
   */
  private async readPage(q: FlowQuery, cursor: Cursor | undefined, windows: TimeWindows | undefined, rows: number, tag: string): Promise<NativeBlock[]> {
    if (q.signal?.aborted) throw new QueryAbortedError();
    const at = { cursor, window: undefined };
    if (rows < SORT_HERE_ROWS) {
      if (windows) return this.recentPage(q, cursor, windows, rows, tag);
      const { sql, params } = this.pageSql(q, at, undefined, rows);
      return readNative(await this.select(sql, params, tag));
    }
    // The key of the page's last row: the `rows`-th past the cursor (none when fewer are left).
    const { sql: lastSql, params: lastParams } = this.keysSql(q, at, 1, rows - 1);
    const [lastRow] = await this.rows<KeyRow>(lastSql, tag, lastParams);
    const last = lastRow && keyCursor(lastRow);
    const { sql, params } = this.pageSql(q, at, last, undefined);
    const blocks = readNative(await this.select(sql, params, tag)).filter((b) => b.rows > 0);
    // Rows stored meanwhile may fall in the range too: the page keeps the first `rows`.
    return blocks.length === 0 ? [] : [sortedBlock(blocks, q.order === 'desc', rows)];
  }

  /**
   * A newest-first page of fewer than SORT_HERE_ROWS rows in two steps. First the keys of its
   * rows, reading only the key and filter columns, one time window after the other (each
   * from where the one before ended; the windows left over stay for the next page). Then
   * the columns of those rows: from the row cache where an earlier page fetched them, the
   * rest in one read of the key range they span, unordered, put in the keys' order here.
   */
  private async recentPage(q: FlowQuery, cursor: Cursor | undefined, windows: TimeWindows, rows: number, tag: string): Promise<NativeBlock[]> {
    const keys: KeyRow[] = [];
    for (;;) {
      const { sql, params } = this.keysSql(q, { cursor, window: windows.bounds }, rows - keys.length, 0);
      keys.push(...await this.rows<KeyRow>(sql, tag, params));
      if (keys.length >= rows || windows.unbounded) break;
      windows.widen();
    }
    if (keys.length === 0) return [];
    const ids = keys.map((k) => rowKey(k.t, k.s, k.q, k.i, k.nd));
    // In one query: two stored rows with one identity (neither the cache nor a key range
    // tells them apart), or a row gone between the two steps (its TTL ran out), whose place
    // the next row takes.
    const inOneQuery = async (): Promise<NativeBlock[]> => {
      const { sql, params } = this.pageSql(q, { cursor, window: undefined }, undefined, rows);
      return readNative(await this.select(sql, params, tag));
    };
    if (new Set(ids).size < ids.length) return inOneQuery();
    const found = new Map<string, CachedRow>();
    const missing: number[] = [];
    ids.forEach((id, j) => {
      const hit = this.rowCache.get(id);
      if (hit) found.set(id, hit);
      else missing.push(j);
    });
    if (missing.length > 0) {
      const newest = keyCursor(keys[missing[0]]);
      const oldest = keyCursor(keys[missing[missing.length - 1]]);
      const { sql, params } = this.rangeSql(q, oldest, newest);
      for (const block of readNative(await this.select(sql, params, tag))) {
        if (block.rows === 0) continue;
        const blockKeys = rowKeys(block);
        blockKeys.forEach((k, i) => found.set(k, { block, row: i }));
        this.rowCache.add(block, blockKeys);
      }
    }
    const picks = ids.map((id) => found.get(id)).filter((r): r is CachedRow => r !== undefined);
    if (picks.length < ids.length) return inOneQuery();
    const blocks = [...new Set(picks.map((r) => r.block))];
    const index = new Map(blocks.map((b, k) => [b, k]));
    return [pickedBlock(blocks, Uint32Array.from(picks, (r) => index.get(r.block)!), Uint32Array.from(picks, (r) => r.row))];
  }

  /** Every page is one engine query under the store's limits, tagged for the kill. */
  private async select(sql: string, params: Record<string, unknown>, tag: string, extra = ''): Promise<Buffer> {
    const limits = this.ctl.limits;
    const settings = `SETTINGS log_comment = '${tag}', max_execution_time = ${Math.max(0.001, limits.timeoutMs / 1000)},
  timeout_overflow_mode = 'throw', max_rows_to_read = ${limits.maxRowsToRead}, read_overflow_mode = 'throw',
  max_block_size = ${CANCEL_BLOCK_ROWS}, read_in_order_use_virtual_row = 1${extra}`;
    // No abort_signal: embedded, it only stops the waiting. The query waits for the engine,
    // which the kill ends within a block.
    const at = sql.lastIndexOf('\nFORMAT ');
    const result = await this.client.exec({ query: `${sql.slice(0, at)}\n${settings}${sql.slice(at)}`, query_params: params });
    const chunks: Buffer[] = [];
    for await (const c of result.stream) chunks.push(c as Buffer);
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  }

  /** A lookup as JSON rows, under the same limits and tag as the pages. */
  private async rows<T>(sql: string, tag: string, params: Record<string, unknown> = {}): Promise<T[]> {
    // 64-bit integers as text, whatever the engine's default: JSON numbers lose their low bits.
    const text = (await this.select(`${sql}\nFORMAT JSONEachRow`, params, tag, ', output_format_json_quote_64bit_integers = 1')).toString('utf8');
    return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as T);
  }

  /** Rows past the cursor, up to and including the key `last` when given, at most `rows` (in order) when given. */
  private pageSql(q: FlowQuery, at: PageStart, last: Cursor | undefined, rows: number | undefined): { sql: string; params: Record<string, unknown> } {
    const desc = q.order === 'desc';
    const p = new Params();
    const where = this.where(q, at, p);
    if (last) where.push(...upTo(last, desc, p));
    const order = rows === undefined ? '' : `\n${orderBy(desc)}\nLIMIT ${rows}`;
    const sql = `SELECT ${PAGE_COLUMNS}
FROM ${this.db}.flows
WHERE ${where.join(' AND ')}${order}
FORMAT Native`;
    return { sql, params: p.values };
  }

  /** The keys of `rows` rows past the cursor inside the window (after skipping `offset`), in the query's order. */
  private keysSql(q: FlowQuery, at: PageStart, rows: number, offset: number): { sql: string; params: Record<string, unknown> } {
    const p = new Params();
    // Aliases apart from the column names: an alias would stand for its column in WHERE.
    const sql = `SELECT toString(toUnixTimestamp64Nano(time)) AS t, session_id AS s, toString(sequence) AS q, batch_index AS i,
  node_name AS nd
FROM ${this.db}.flows
WHERE ${this.where(q, at, p).join(' AND ')}
${orderBy(q.order === 'desc')}
LIMIT ${rows}${offset > 0 ? ` OFFSET ${offset}` : ''}`;
    return { sql, params: p.values };
  }

  /** The matching rows with keys from `oldest` to `newest`, both included, in no order. */
  private rangeSql(q: FlowQuery, oldest: Cursor, newest: Cursor): { sql: string; params: Record<string, unknown> } {
    const p = new Params();
    const where = [filtersWhere(q.allow, q.deny, p, this.db), ...upTo(oldest, true, p), ...upTo(newest, false, p)];
    const sql = `SELECT ${PAGE_COLUMNS}
FROM ${this.db}.flows
WHERE ${where.join(' AND ')}
FORMAT Native`;
    return { sql, params: p.values };
  }

  private where(q: FlowQuery, at: PageStart, p: Params): string[] {
    const { cursor, window } = at;
    const where = [filtersWhere(q.allow, q.deny, p, this.db)];
    if (window?.lo !== undefined) where.push(`time >= ${nsTime(window.lo, p)}`);
    if (window?.hi !== undefined) where.push(`time < ${nsTime(window.hi, p)}`);
    if (q.since) where.push(`time >= ${nsTime(dateNs(q.since), p)}`);
    if (q.until) where.push(`time < ${nsTime(untilNs(q.until), p)}`);
    if (cursor) where.push(...after(cursor, q.order === 'desc', p));
    return where;
  }

  /**
   * The time windows of a newest-first read, from the newest time this reader has seen or,
   * the first time, the newest stored (none when nothing is stored). Before `until` when
   * the query ends there.
   */
  private async windows(q: FlowQuery, tag: string): Promise<TimeWindows | undefined> {
    if (this.newestNs === undefined) {
      const [row] = await this.rows<{ newest_ns: string }>(`SELECT toString(toUnixTimestamp64Nano(time)) AS newest_ns
FROM ${this.db}.flows ORDER BY time DESC LIMIT 1`, tag);
      if (!row) return undefined;
      this.sawNewest(BigInt(row.newest_ns));
    }
    // Not past a minute from now: one flow a collector dated in 2262 must not leave every
    // later read starting its windows there. A window bounds time only from below, so flows
    // newer than the anchor are still read.
    const ceiling = BigInt(Date.now() + 60_000) * 1_000_000n;
    const newest = (this.newestNs as bigint) < ceiling ? (this.newestNs as bigint) : ceiling;
    const until = q.until ? untilNs(q.until) : undefined;
    const anchor = until !== undefined && until < newest ? until : newest;
    return new TimeWindows(anchor, q.since ? dateNs(q.since) : undefined);
  }

  private sawNewest(ns: bigint): void {
    if (this.newestNs === undefined || ns > this.newestNs) this.newestNs = ns;
  }

  private resolve(blocks: NativeBlock[], tag: string): Promise<PageRefs> {
    const endpoints: BigArray[] = [];
    const paths: BigArray[] = [];
    for (const b of blocks) {
      const keys = blockKeys(b);
      endpoints.push(...keys.endpoints);
      paths.push(keys.paths);
    }
    return this.refs.resolve(endpoints, paths, (sql) => this.rows(sql, tag));
  }
}

/** A row's key and node as keysSql gives them. */
interface KeyRow {
  t: string;
  s: string;
  q: string;
  i: number;
  nd: string;
}

function keyCursor(k: KeyRow): Cursor {
  return { timeNs: k.t, sessionId: k.s, sequence: k.q, index: k.i };
}

/** Where a page starts: past the cursor, inside the time window. */
interface PageStart {
  cursor: Cursor | undefined;
  window: WindowBounds | undefined;
}

function nsTime(ns: bigint | string, p: Params): string {
  return `fromUnixTimestamp64Nano(${p.bind(ns.toString(), 'Int64')}, 'UTC')`;
}

const SORT_KEY = '(time, session_id, sequence, batch_index)';

function orderBy(desc: boolean): string {
  const dir = desc ? 'DESC' : 'ASC';
  return `ORDER BY time ${dir}, session_id ${dir}, sequence ${dir}, batch_index ${dir}`;
}

/** The cursor's time and its sort key as bound values. */
function keyAt(c: Cursor, p: Params): { t: string; at: string } {
  const t = nsTime(c.timeNs, p);
  return { t, at: `(${t}, ${p.bind(c.sessionId, 'String')}, ${p.bind(c.sequence, 'UInt64')}, ${p.bind(c.index, 'UInt32')})` };
}

/** Rows strictly past the cursor in the scan direction. */
function after(c: Cursor, desc: boolean, p: Params): string[] {
  const { t, at } = keyAt(c, p);
  // The plain time bound lets the primary key skip what the tuple comparison cannot.
  return desc ? [`time <= ${t}`, `${SORT_KEY} < ${at}`] : [`time >= ${t}`, `${SORT_KEY} > ${at}`];
}

/** Rows up to and including the key `c` in the scan direction. */
function upTo(c: Cursor, desc: boolean, p: Params): string[] {
  const { t, at } = keyAt(c, p);
  return desc ? [`time >= ${t}`, `${SORT_KEY} >= ${at}`] : [`time <= ${t}`, `${SORT_KEY} <= ${at}`];
}

function dateNs(d: Date): bigint {
  return BigInt(d.getTime()) * 1_000_000n;
}

/** Where a read up to `until` stops, exclusive: a Date holds milliseconds, so `until` covers the whole of its last one. */
function untilNs(d: Date): bigint {
  return dateNs(d) + 1_000_000n;
}
