// The relay's flow store: ClickHouse, embedded (chdb on a data directory) or a server by URL,
// same client and SQL either way. Table layout: schema.ts.
import type { ClickHouseClient } from '@clickhouse/client';
import { createHash } from 'node:crypto';
import { Flow } from '../../proto/gen/flow/flow';
import type { ExportCounters } from '../../proto/gen/export/v1/export';
import type { EncodedFlows, FlowHistory, FlowQuery } from '../../observer/history';
import { openClickHouse, type ClickHouseHandle } from './chdb';
import { engineError } from './engine_errors';
import { FlowReader, type FlowPage, type QueryLimits } from './query';
import { pathHeadersBlock, pathsBlock, workloadsBlock } from './dimension_blocks';
import { FlowValueError, flowBlock } from './flow_block';
import { Rollup } from './rollup';
import { encodedResponses } from './response_wire';
import { judgedFromFlows, type SessionBatch } from './from_flows';
import { storedCount, type JudgedBatch, type StoredEndpoint, type StoredPath } from './judged';
import { constIntColumn, intColumn, nativeBlock, stringColumn } from './native';
import {
  LEGACY_FLOWS, NODE_COUNTER_COLUMNS, NODE_COUNTER_VALUES, checkIdentifier, legacyMoveStatements, schemaStatements,
  ttlStatements, upgradeNotes, upgradeStatements,
} from './schema';

export type { SessionBatch };

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

/** A relay taking a collector's session over from another (takeovers in schema.ts). */
export interface TakeoverRow {
  nodeName: string;
  sessionId: string;
  /** The session's position here from now on: what the previous relay acknowledged. */
  afterSequence: bigint;
  previousRelay: string;
  /** Unix milliseconds. */
  takenAt: number;
}

/** What a retraction deleted. */
export interface Retracted {
  flows: bigint;
  /** Uuids of the deleted flows, the most recently received first, at most as many as asked for. */
  uuids: string[];
  /** The range's end actually deleted up to: below a later takeover of the session, if any. */
  through: bigint;
  /** Flows and batch marks in the range received before `receivedSinceMs`, kept. */
  kept: bigint;
}

/** What a retraction may delete besides its range. */
export interface RetractBounds {
  /** Uuids of deleted flows to give back. */
  maxUuids: number;
  /** Unix milliseconds: batches received before it are kept (a node cannot erase its history). */
  receivedSinceMs: number;
}

export interface FlowStore extends FlowHistory {
  /**
   * The query's stored columns, page by page, every workload and path key resolved (see
   * FlowReader.pages): for readers that write flows out without a Flow per row.
   */
  pages(q: FlowQuery): AsyncIterable<FlowPage>;
  /**
   * Stores the kept flows of the batch together with (node, session, sequence), or none of
   * them; the endpoints and paths they reference first. A batch of whole flows (every flow's
   * node_name the batch's) is turned into columns first (from_flows.ts).
   */
  insertBatch(b: JudgedBatch | SessionBatch): Promise<void>;
  /**
   * Stores several batches (of any sessions) in one insert, one part: all of them or none.
   * A batch the table cannot hold (FlowValueError) is left out and gets its error alone
   * (by index in the result); the rest are stored. Rejects when the insert fails, for all.
   */
  insertGroup(batches: readonly JudgedBatch[]): Promise<(Error | undefined)[]>;
  /**
   * Highest sequence stored for the node's session, or taken over at (insertTakeover); 0n
   * when none. Another node's session of the same id is another session.
   */
  position(nodeName: string, sessionId: string): Promise<bigint>;
  /** Records a takeover; the session's position is at least its afterSequence from then on. */
  insertTakeover(t: TakeoverRow): Promise<void>;
  /**
   * Deletes the node's session's batches in (after, through] received since
   * `receivedSinceMs`: flows and batch marks, and their part of flows_1m. `through` is
   * clipped to the lowest takeover of the session above `after`: this store took the
   * session over there later, so what it stored above is its own. Resolves with up to
   * `maxUuids` uuids of the deleted flows.
   */
  retract(nodeName: string, sessionId: string, after: bigint, through: bigint, bounds: RetractBounds): Promise<Retracted>;
  /** Node and uuid of the `limit` most recently captured flows, newest first (what a restarted relay deduplicates against). */
  recentUuids(limit: number): Promise<RecentUuid[]>;
  /** Rolls up into flows_1m every whole minute of arrivals before `until` (default: a minute ago); the store does so by itself each minute. */
  rollUp(until?: Date): Promise<void>;
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
  /** What the store did on its own (an upgrade moving tables aside, a failed rollup); default stderr. */
  log?: (line: string) => void;
}

const DEFAULT_TTL_DAYS = 7;
/** Keys remembered as already written to a dimension table, before the memory starts over. */
const KNOWN_LIMIT = 100_000;
/** How often an endpoint or path in use has its row (and so its last_seen and TTL) rewritten. */
const REFRESH_S = 3600;

export async function openStore(opts: StoreOptions): Promise<FlowStore> {
  const database = checkIdentifier(opts.database ?? 'cillion');
  const ttlDays = opts.ttlDays ?? DEFAULT_TTL_DAYS;
  const schema = { database, ttlDays, rollupTtlDays: opts.rollupTtlDays ?? ttlDays };
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const ch = openClickHouse(opts);
  try {
    const [createDatabase, ...tables] = schemaStatements(schema);
    await ch.client.command({ query: createDatabase });
    await moveLegacyFlows(ch.client, schema, log);
    for (const stmt of tables) await ch.client.command({ query: stmt });
    if (!(await isDistributed(ch.client, database))) {
      const stored = await storedFlowColumns(ch.client, database);
      for (const stmt of upgradeStatements(schema, stored)) await ch.client.command({ query: stmt });
      for (const line of upgradeNotes(schema, stored)) log(line);
    }
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
  const rollup = new Rollup(ch.client, database, opts.onError ?? ((e) => log(`store: rolling up flows_1m failed: ${e.message}`)));
  rollup.start();
  return new ClickHouseFlowStore(ch, database, queryLimits, rollup, opts.onError);
}

/** The columns the flows table stores (not its ALIAS columns). */
async function storedFlowColumns(client: ClickHouseClient, database: string): Promise<Set<string>> {
  const result = await client.query({
    query: `SELECT name FROM system.columns WHERE database = {db:String} AND table = 'flows' AND default_kind != 'ALIAS'`,
    query_params: { db: database },
    format: 'JSONEachRow',
  });
  return new Set((await result.json<{ name: string }>()).map((r) => r.name));
}

/**
 * A store of the layout before typed columns has flows with a `flow` blob: it moves to
 * flows_v1 (still readable with SQL), and new flows start in the new tables.
 */
async function moveLegacyFlows(client: ClickHouseClient, schema: { database: string; ttlDays: number; rollupTtlDays: number }, log: (line: string) => void): Promise<void> {
  const result = await client.query({
    query: `SELECT table, name FROM system.columns WHERE database = {db:String} AND ((table = 'flows' AND name = 'flow') OR table = {legacy:String}) LIMIT 2`,
    query_params: { db: schema.database, legacy: LEGACY_FLOWS },
    format: 'JSONEachRow',
  });
  const rows = await result.json<{ table: string }>();
  if (!rows.some((r) => r.table === 'flows')) return;
  if (rows.some((r) => r.table === LEGACY_FLOWS)) {
    throw new Error(`${schema.database}.flows has the layout before typed columns and ${schema.database}.${LEGACY_FLOWS} exists already: drop or rename ${LEGACY_FLOWS} to upgrade`);
  }
  for (const stmt of legacyMoveStatements(schema)) await client.command({ query: stmt });
  log(`store: upgraded ${schema.database}: flows of the layout before typed columns moved to ${schema.database}.${LEGACY_FLOWS} (rollup view dropped); new flows go to a new ${schema.database}.flows`);
}

/**
 * Blocks of one insert squashed into one before the engine writes them, so that several
 * batches become one part (all-or-nothing, under one deduplication token).
 */
const SQUASH_ALL = { min_insert_block_size_rows: 1_000_000_000, min_insert_block_size_bytes: 1_000_000_000_000 };

/**
 * A group's deduplication token, the same whenever the same batches are inserted together:
 * a batch alone keeps the token it always had, [node, session, sequence]; a group's is the
 * hash of its batches' tokens in order. A session that had batches retracted here has its
 * retraction count in its batches' tokens: a batch stored again under a deleted sequence
 * is another insert, not the deleted one's retry.
 */
function groupToken(batches: readonly { nodeName: string; sessionId: string; sequence: bigint }[], retractions: (session: string) => number): string {
  const tokens = batches.map((b) => {
    const session = JSON.stringify([b.nodeName, b.sessionId]);
    const n = retractions(session);
    return JSON.stringify(n === 0 ? [b.nodeName, b.sessionId, b.sequence.toString()] : [b.nodeName, b.sessionId, b.sequence.toString(), n]);
  });
  if (tokens.length === 1) return tokens[0];
  return `group:${createHash('sha256').update(`[${tokens.join(',')}]`).digest('hex')}`;
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

/** Dimension keys written and when, forgotten all at once when too many. */
class Written<K> {
  private readonly at = new Map<K, number>();

  /** Whether `key` needs (re)writing at `now`. */
  stale(key: K, now: number): boolean {
    const t = this.at.get(key);
    return t === undefined || now - t >= REFRESH_S;
  }

  remember(keys: Iterable<K>, now: number): void {
    for (const k of keys) {
      if (this.at.size >= KNOWN_LIMIT) this.at.clear();
      this.at.set(k, now);
    }
  }
}

class ClickHouseFlowStore implements FlowStore {
  private readonly client: ClickHouseClient;
  private readonly workloads = new Written<bigint>();
  private readonly pathHeaders = new Written<bigint>();
  /** By fingerprint, for `paths`. */
  private readonly paths = new Written<string>();
  private readonly reader: FlowReader;
  private closed = false;
  /** Retractions that deleted something, per [node, session] (JSON), since the store opened. */
  private readonly retractions = new Map<string, number>();

  constructor(
    private readonly ch: ClickHouseHandle,
    private readonly db: string,
    private readonly limits: QueryLimits,
    private readonly rollup: Rollup,
    onError?: (e: Error) => void,
  ) {
    this.client = ch.client;
    this.reader = new FlowReader(ch.client, db, { limits, kill: (tag) => ch.kill(tag), onKillError: onError });
  }

  rollUp(until?: Date): Promise<void> {
    return this.engine('rolling up flows', () => this.rollup.rollUp(until?.getTime()));
  }

  /** Engine failures become EngineError (detail for the log, an id for the client). */
  private async engine<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      // A value the table cannot hold is the batch's fault, not the engine's: said as it is.
      if (e instanceof FlowValueError) throw e;
      throw engineError(e, op, this.limits);
    }
  }

  async insertBatch(b: JudgedBatch | SessionBatch): Promise<void> {
    const [err] = await this.insertGroup(['flows' in b ? judgedFromFlows(b) : b]);
    if (err) throw err;
  }

  insertGroup(batches: readonly JudgedBatch[]): Promise<(Error | undefined)[]> {
    return this.engine('storing flows', () => this.insertJudged(batches));
  }

  private async insertJudged(batches: readonly JudgedBatch[]): Promise<(Error | undefined)[]> {
    const receivedAt = Math.floor(Date.now() / 1000);
    const outcome: (Error | undefined)[] = batches.map(() => undefined);
    const blocks: Buffer[] = [];
    const withFlows: JudgedBatch[] = [];
    const empty: JudgedBatch[] = [];
    /** Sessions with a refused batch: their later batches of the group must not pass it. */
    const refused = new Map<string, FlowValueError>();
    batches.forEach((b, i) => {
      const session = JSON.stringify([b.nodeName, b.sessionId]);
      const before = refused.get(session);
      if (before) {
        outcome[i] = new FlowValueError(`batch ${b.sequence} follows a refused batch of its session: ${before.message}`);
        return;
      }
      if (storedCount(b) === 0) return void empty.push(b);
      try {
        blocks.push(flowBlock(b, receivedAt));
        withFlows.push(b);
      } catch (e) {
        // A value the table cannot hold is the batch's fault: it fails alone.
        if (!(e instanceof FlowValueError)) throw e;
        outcome[i] = e;
        refused.set(session, e);
      }
    });
    // A retried insert of the same batches inserts nothing twice, also if the caller did not
    // check position(). The token names each batch's node: another node's batch of the same
    // session id and sequence is another batch, never taken for this one's duplicate.
    // Synchronous distributed inserts: on a cluster the batches are on their shard when this resolves.
    const settings = (group: readonly JudgedBatch[]) => ({
      insert_deduplication_token: groupToken(group, (session) => this.retractions.get(session) ?? 0),
      insert_select_deduplicate: 1,
      insert_distributed_sync: 1,
    });
    if (withFlows.length > 0) {
      // Dimensions first, so that every stored flow's references resolve.
      await this.insertDimensions(withFlows, receivedAt);
      await this.ch.insertNative({
        table: `${this.db}.flows`,
        // The batches' blocks squashed into one block, one part: the insert is all-or-nothing.
        body: blocks.length === 1 ? blocks[0] : Buffer.concat(blocks),
        settings: { ...settings(withFlows), max_insert_threads: 1, ...SQUASH_ALL },
      });
    }
    // After the flows: a session's empty batch must not advance its position past a batch whose flows failed.
    if (empty.length > 0) {
      await this.ch.insertNative({
        table: `${this.db}.batch_marks`,
        body: nativeBlock([
          ['session_id', stringColumn(empty.map((b) => b.sessionId))],
          ['sequence', intColumn('UInt64', empty.map((b) => b.sequence))],
          ['node_name', stringColumn(empty.map((b) => b.nodeName))],
          ['received_at', constIntColumn("DateTime('UTC')", receivedAt, empty.length)],
        ]),
        settings: { ...settings(empty), ...SQUASH_ALL },
      });
    }
    return outcome;
  }

  /** The endpoints and paths of kept flows not written within the hour. */
  private async insertDimensions(batches: readonly JudgedBatch[], now: number): Promise<void> {
    const eps = new Map<bigint, StoredEndpoint>();
    const hdrs = new Map<bigint, StoredPath>();
    const fps = new Map<string, StoredPath>();
    for (const b of batches) this.staleDimensions(b, now, eps, hdrs, fps);
    if (eps.size > 0) await this.ch.insertNative({ table: `${this.db}.workloads`, body: workloadsBlock([...eps.values()], now), settings: { insert_distributed_sync: 1 } });
    if (hdrs.size > 0) await this.ch.insertNative({ table: `${this.db}.path_headers`, body: pathHeadersBlock([...hdrs.values()], now), settings: { insert_distributed_sync: 1 } });
    if (fps.size > 0) await this.ch.insertNative({ table: `${this.db}.paths`, body: pathsBlock([...fps.values()].map((p) => p.path), now), settings: { insert_distributed_sync: 1 } });
    this.workloads.remember(eps.keys(), now);
    this.pathHeaders.remember(hdrs.keys(), now);
    this.paths.remember(fps.keys(), now);
  }

  /** Adds the batch's endpoints and paths in use that are due (re)writing. */
  private staleDimensions(b: JudgedBatch, now: number, eps: Map<bigint, StoredEndpoint>, hdrs: Map<bigint, StoredPath>, fps: Map<string, StoredPath>): void {
    const src = b.columns.u32('sourceEndpoint');
    const dst = b.columns.u32('destinationEndpoint');
    const path = b.columns.u32('path');
    const usedEp = new Uint8Array(b.endpoints.length);
    const usedPath = new Uint8Array(b.paths.length);
    const count = storedCount(b);
    for (let j = 0; j < count; j++) {
      const i = b.keep ? b.keep[j] : j;
      usedEp[src[i]] = 1;
      usedEp[dst[i]] = 1;
      usedPath[path[i]] = 1;
    }
    b.endpoints.forEach((e, i) => {
      if (e && usedEp[i] && this.workloads.stale(e.key, now)) eps.set(e.key, e);
    });
    b.paths.forEach((p, i) => {
      if (!p || !usedPath[i]) return;
      if (this.pathHeaders.stale(p.key, now)) hdrs.set(p.key, p);
      const fp = p.path.fingerprint.toLowerCase();
      if (fp !== '' && this.paths.stale(fp, now) && !fps.has(fp)) fps.set(fp, p);
    });
  }

  position(nodeName: string, sessionId: string): Promise<bigint> {
    return this.engine('reading a session position', () => this.positionRaw(nodeName, sessionId));
  }

  private async positionRaw(nodeName: string, sessionId: string): Promise<bigint> {
    const result = await this.client.query({
      query: `SELECT toString(greatest(
  (SELECT max(sequence) FROM ${this.db}.flows WHERE node_name = {n:String} AND session_id = {s:String}),
  (SELECT max(sequence) FROM ${this.db}.batch_marks WHERE node_name = {n:String} AND session_id = {s:String}),
  (SELECT max(after_sequence) FROM ${this.db}.takeovers WHERE node_name = {n:String} AND session_id = {s:String}))) AS n`,
      query_params: { n: nodeName, s: sessionId },
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ n: string }>();
    return BigInt(row.n);
  }

  insertTakeover(t: TakeoverRow): Promise<void> {
    return this.engine('recording a takeover', async () => {
      await this.client.insert({
        table: `${this.db}.takeovers`,
        columns: ['node_name', 'session_id', 'after_sequence', 'previous_relay', 'taken_at'],
        values: [[t.nodeName, t.sessionId, t.afterSequence.toString(), t.previousRelay, unixMs(t.takenAt)]],
        format: 'JSONCompactEachRow',
        clickhouse_settings: { insert_distributed_sync: 1 },
      });
    });
  }

  retract(nodeName: string, sessionId: string, after: bigint, through: bigint, bounds: RetractBounds): Promise<Retracted> {
    return this.engine('retracting batches', async () => {
      const key = { n: nodeName, s: sessionId, a: after.toString() };
      const session = 'node_name = {n:String} AND session_id = {s:String}';
      let out: Retracted = { flows: 0n, uuids: [], through, kept: 0n };
      // Between rollups: a minute rolled up with the flows in it is rolled up again without them.
      await this.rollup.change(nodeName, async () => {
        const clip = await this.client.query({
          query: `SELECT toString(min(after_sequence)) AS t, count() AS c FROM ${this.db}.takeovers WHERE ${session} AND after_sequence > {a:UInt64}`,
          query_params: key,
          format: 'JSONEachRow',
        });
        const [taken] = await clip.json<{ t: string; c: number | string }>();
        const upTo = Number(taken.c) > 0 && BigInt(taken.t) < through ? BigInt(taken.t) : through;
        out.through = upTo;
        if (upTo <= after) return undefined;
        const params = { ...key, t: upTo.toString(), r: Math.max(0, Math.floor(bounds.receivedSinceMs / 1000)) };
        const inRange = `${session} AND sequence > {a:UInt64} AND sequence <= {t:UInt64}`;
        const range = `${inRange} AND received_at >= toDateTime({r:UInt32}, 'UTC')`;
        const span = await this.client.query({
          query: `SELECT toString(countIf(received_at >= toDateTime({r:UInt32}, 'UTC'))) AS n, toString(countIf(received_at < toDateTime({r:UInt32}, 'UTC'))) AS old,
  toUInt32(minIf(time, received_at >= toDateTime({r:UInt32}, 'UTC'))) AS f, toUInt32(maxIf(time, received_at >= toDateTime({r:UInt32}, 'UTC'))) AS l,
  toUInt32(minIf(received_at, received_at >= toDateTime({r:UInt32}, 'UTC'))) AS fr,
  (SELECT countIf(received_at >= toDateTime({r:UInt32}, 'UTC')) FROM ${this.db}.batch_marks WHERE ${inRange}) AS marks,
  (SELECT countIf(received_at < toDateTime({r:UInt32}, 'UTC')) FROM ${this.db}.batch_marks WHERE ${inRange}) AS old_marks
FROM ${this.db}.flows WHERE ${inRange}`,
          query_params: params,
          format: 'JSONEachRow',
        });
        const [row] = await span.json<{ n: string; old: string; f: number; l: number; fr: number; marks: number | string; old_marks: number | string }>();
        const flows = BigInt(row.n);
        out = { ...out, flows, kept: BigInt(row.old) + BigInt(row.old_marks) };
        // Nothing of the range here (a retraction sent again): no mutation.
        if (flows === 0n && Number(row.marks) === 0) return undefined;
        // Newest first: the duplicate window holds the most recently received uuids.
        const uuids = await this.client.query({
          query: `SELECT toString(uuid) FROM ${this.db}.flows WHERE ${range} ORDER BY received_at DESC, time DESC LIMIT {m:UInt32}`,
          query_params: { ...params, m: bounds.maxUuids },
          format: 'JSONCompactEachRow',
        });
        out.uuids = (await uuids.json<[string]>()).map(([u]) => u);
        // Mutations, waited for: the rows are gone when the relay acknowledges.
        const tokenKey = JSON.stringify([nodeName, sessionId]);
        this.retractions.set(tokenKey, (this.retractions.get(tokenKey) ?? 0) + 1);
        for (const table of ['flows', 'batch_marks']) {
          await this.client.command({ query: `ALTER TABLE ${this.db}.${table} DELETE WHERE ${range} SETTINGS mutations_sync = 2`, query_params: params });
        }
        return flows === 0n ? undefined : { fromS: Number(row.f), toS: Number(row.l), firstReceivedS: Number(row.fr) };
      });
      return out;
    });
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

  pages(q: FlowQuery): AsyncIterable<FlowPage> {
    return this.reader.pages(q);
  }

  encoded(q: FlowQuery): AsyncIterable<EncodedFlows> | undefined {
    return encodedResponses(this.reader, q);
  }

  count(): Promise<bigint> {
    return this.engine('counting flows', () => this.countRaw());
  }

  recentUuids(limit: number): Promise<RecentUuid[]> {
    return this.engine('reading recent uuids', async () => {
      // Newest first in key order: the engine reads backwards and stops at the limit.
      const result = await this.client.query({
        query: `SELECT node_name, toString(uuid) FROM ${this.db}.flows ORDER BY time DESC LIMIT {n:UInt32}`,
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
    await this.rollup.stop().catch(() => undefined);
    await this.ch.close();
  }
}
