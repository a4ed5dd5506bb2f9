// The relay's flow store: ClickHouse, embedded (chdb on a data directory) or a server by URL,
// same client and SQL either way. Table layout: schema.ts.
import type { ClickHouseClient } from '@clickhouse/client';
import { Flow } from '../../proto/gen/flow/flow';
import type { ExportCounters } from '../../proto/gen/export/v1/export';
import type { FlowHistory, FlowQuery } from '../../observer/history';
import { openClickHouse, type ClickHouseHandle } from './chdb';
import { engineError } from './engine_errors';
import { FlowReader, type QueryLimits } from './query';
import { FLOW_COLUMNS, NODE_COUNTER_COLUMNS, NODE_COUNTER_VALUES, PATH_COLUMNS, checkIdentifier, schemaStatements, ttlStatements, upgradeStatements } from './schema';
import { flowLines, pathRow, type PathRow } from './rows';

export interface SessionBatch {
  sessionId: string;
  sequence: bigint;
  nodeName: string;
  flows: Flow[];
}

/** One batch's cumulative collector counters (node_counters in schema.ts). */
export interface NodeCounterRow {
  /** Unix milliseconds, the relay's clock. */
  receivedAt: number;
  nodeName: string;
  cluster: string;
  sessionId: string;
  sequence: bigint;
  counters: ExportCounters;
  /** Unix milliseconds, the collector's clock; receivedAt when the batch had none. */
  sentAt: number;
}

export type { FlowQuery };

export interface RecentUuid {
  nodeName: string;
  uuid: string;
}

export interface FlowStore extends FlowHistory {
  /** Stores all flows of the batch together with (node, session, sequence), or none of them; every flow's node_name must be the batch's. */
  insertBatch(b: SessionBatch): Promise<void>;
  /** Highest sequence stored for the node's session; 0n when none. Another node's session of the same id is another session. */
  position(nodeName: string, sessionId: string): Promise<bigint>;
  /** Node and uuid of the `limit` most recently captured flows, newest first (what a restarted relay deduplicates against). */
  recentUuids(limit: number): Promise<RecentUuid[]>;
  /** Appends collectors' counter reports, in one insert. */
  insertCounters(rows: NodeCounterRow[]): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** Embedded ClickHouse (chdb) on this directory. */
  dataDir?: string;
  /** A ClickHouse server, e.g. http://clickhouse:8123 (tables must exist or be creatable). */
  url?: string;
  database?: string;
  /** Days flows are kept after arrival; default 7. */
  ttlDays?: number;
  /** Days the per-minute rollups are kept; default ttlDays. */
  rollupTtlDays?: number;
  /** Time and rows one query may take; default 30 s and 500M rows. */
  queryLimits?: Partial<QueryLimits>;
  /** Failures that only the log hears of (a kill that did not land). */
  onError?: (e: Error) => void;
}

const DEFAULT_TTL_DAYS = 7;
/** Fingerprints remembered as already written to `paths`, before the memory starts over. */
const KNOWN_PATHS_LIMIT = 100_000;
/** How often a path in use has its row (and so its last_seen and TTL) rewritten. */
const PATH_REFRESH_S = 3600;

export async function openStore(opts: StoreOptions): Promise<FlowStore> {
  const database = checkIdentifier(opts.database ?? 'cillion');
  const ttlDays = opts.ttlDays ?? DEFAULT_TTL_DAYS;
  const schema = { database, ttlDays, rollupTtlDays: opts.rollupTtlDays ?? ttlDays };
  const ch = openClickHouse(opts);
  try {
    for (const stmt of schemaStatements(schema)) await ch.client.command({ query: stmt });
    if (!(await isDistributed(ch.client, database))) for (const stmt of upgradeStatements(schema)) await ch.client.command({ query: stmt });
    if ((opts.ttlDays !== undefined || opts.rollupTtlDays !== undefined) && !(await isDistributed(ch.client, database))) {
      for (const stmt of ttlStatements(schema)) {
        await ch.client.command({ query: stmt, clickhouse_settings: { materialize_ttl_after_modify: 0 } });
      }
    }
  } catch (err) {
    await ch.close();
    throw err;
  }
  const queryLimits = { timeoutMs: 30_000, maxRowsToRead: 500_000_000, ...opts.queryLimits };
  return new ClickHouseFlowStore(ch, database, queryLimits, opts.onError);
}

/** Unix milliseconds as DateTime64(3) input text: seconds with three decimals. */
function unixMs(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** On a cluster (deploy/clickhouse) TTLs belong to the *_local tables, set by the DDL there. */
async function isDistributed(client: ClickHouseClient, database: string): Promise<boolean> {
  const result = await client.query({
    query: `SELECT engine FROM system.tables WHERE database = {db:String} AND name = 'flows'`,
    query_params: { db: database },
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ engine: string }>();
  return rows.some((r) => r.engine === 'Distributed');
}

class ClickHouseFlowStore implements FlowStore {
  private readonly client: ClickHouseClient;
  /** Fingerprint -> when its row was last written. */
  private readonly knownPaths = new Map<string, number>();
  private readonly reader: FlowReader;
  private closed = false;

  constructor(
    private readonly ch: ClickHouseHandle,
    private readonly db: string,
    private readonly limits: QueryLimits,
    onError?: (e: Error) => void,
  ) {
    this.client = ch.client;
    this.reader = new FlowReader(ch.client, db, { limits, kill: (tag) => ch.kill(tag), onKillError: onError });
  }

  /** Engine failures become EngineError (detail for the log, an id for the client). */
  private async engine<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw engineError(e, op, this.limits);
    }
  }

  insertBatch(b: SessionBatch): Promise<void> {
    return this.engine('storing flows', () => this.insertBatchRaw(b));
  }

  private async insertBatchRaw(b: SessionBatch): Promise<void> {
    const receivedAt = Math.floor(Date.now() / 1000);
    // A retried batch inserts nothing twice, also if the caller did not check position().
    // The token names the node: another node's batch of the same session id and sequence
    // is another batch, never taken for this one's duplicate.
    // Synchronous distributed inserts: on a cluster the batch is on its shard when this resolves.
    const settings = {
      insert_deduplication_token: JSON.stringify([b.nodeName, b.sessionId, b.sequence.toString()]),
      deduplicate_blocks_in_dependent_materialized_views: 1 as const,
      insert_distributed_sync: 1 as const,
    };
    if (b.flows.length === 0) {
      await this.client.insert({
        table: `${this.db}.batch_marks`,
        values: [{ session_id: b.sessionId, sequence: b.sequence.toString(), node_name: b.nodeName, received_at: receivedAt }],
        format: 'JSONEachRow',
        clickhouse_settings: settings,
      });
      return;
    }
    // Paths first, so that every stored flow's fingerprint resolves in `paths`.
    await this.insertNewPaths(b.flows, receivedAt);
    const body = flowLines(b.flows, { sessionId: b.sessionId, sequence: b.sequence, receivedAt });
    await this.ch.insertRaw({
      table: `${this.db}.flows`,
      columns: FLOW_COLUMNS,
      format: 'JSONCompactEachRow',
      body,
      // Parsed as one block, written as one part: the insert is all-or-nothing.
      settings: {
        ...settings,
        input_format_parallel_parsing: 0,
        max_insert_block_size: Math.max(b.flows.length + 1, 1_048_576),
      },
    });
  }

  private async insertNewPaths(flows: Flow[], seenAt: number): Promise<void> {
    const fresh = new Map<string, PathRow>();
    for (const f of flows) {
      const path = f.scionPath;
      if (!path || path.fingerprint === '') continue;
      const fp = path.fingerprint.toLowerCase();
      const written = this.knownPaths.get(fp);
      const stale = written === undefined || seenAt - written >= PATH_REFRESH_S;
      if (stale && !fresh.has(fp)) fresh.set(fp, pathRow(path, seenAt));
    }
    if (fresh.size === 0) return;
    await this.client.insert({
      table: `${this.db}.paths`,
      columns: [...PATH_COLUMNS],
      values: [...fresh.values()],
      format: 'JSONEachRow',
    });
    if (this.knownPaths.size + fresh.size > KNOWN_PATHS_LIMIT) this.knownPaths.clear();
    for (const fp of fresh.keys()) this.knownPaths.set(fp, seenAt);
  }

  position(nodeName: string, sessionId: string): Promise<bigint> {
    return this.engine('reading a session position', () => this.positionRaw(nodeName, sessionId));
  }

  private async positionRaw(nodeName: string, sessionId: string): Promise<bigint> {
    const result = await this.client.query({
      query: `SELECT toString(greatest(
  (SELECT max(sequence) FROM ${this.db}.flows WHERE node_name = {n:String} AND session_id = {s:String}),
  (SELECT max(sequence) FROM ${this.db}.batch_marks WHERE node_name = {n:String} AND session_id = {s:String}))) AS n`,
      query_params: { n: nodeName, s: sessionId },
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ n: string }>();
    return BigInt(row.n);
  }

  async insertCounters(rows: NodeCounterRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.client.insert({
      table: `${this.db}.node_counters`,
      columns: [...NODE_COUNTER_COLUMNS],
      values: rows.map((r) => [
        unixMs(r.receivedAt), r.nodeName, r.cluster, r.sessionId, r.sequence.toString(),
        ...Object.values(NODE_COUNTER_VALUES).map((k) => r.counters[k].toString()),
        unixMs(r.sentAt),
      ]),
      format: 'JSONCompactEachRow',
      clickhouse_settings: { insert_distributed_sync: 1 },
    });
  }

  query(q: FlowQuery): AsyncIterable<Flow> {
    return this.reader.query(q);
  }

  count(): Promise<bigint> {
    return this.engine('counting flows', () => this.countRaw());
  }

  recentUuids(limit: number): Promise<RecentUuid[]> {
    return this.engine('reading recent uuids', async () => {
      // Newest first in key order: the engine reads backwards and stops at the limit.
      const result = await this.client.query({
        query: `SELECT node_name, uuid FROM ${this.db}.flows ORDER BY time DESC LIMIT {n:UInt32}`,
        query_params: { n: limit },
        format: 'JSONCompactEachRow',
      });
      const rows = await result.json<[string, string]>();
      return rows.map(([nodeName, uuid]) => ({ nodeName, uuid }));
    });
  }

  private async countRaw(): Promise<bigint> {
    const result = await this.client.query({
      query: `SELECT toString(count()) AS n FROM ${this.db}.flows`,
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ n: string }>();
    return BigInt(row.n);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ch.close();
  }
}
