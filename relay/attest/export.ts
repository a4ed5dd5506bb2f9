// Builds an attestation from a flow store: selects the flows (source label selector, time
// window, optionally one geofence), writes them as canonical evidence lines while hashing
// them into the Merkle tree and the tally, and returns the statement to sign. Memory stays
// flat in the number of flows except for the violation and unverified lists, which the
// predicate must carry anyway. The rows come from a RowSource: one store's (storeRows), or
// several relays' merged (gather.ts).
import { createHash } from 'node:crypto';
import { FlowFilter, type Flow } from '../../proto/gen/flow/flow';
import type { Geofence } from '../../resources/geofence';
import { parseLabelSelector } from '../../observer/filters/label_selector';
import type { FlowPage } from '../store/query';
import { pushdownIsExact } from '../store/sql_filters';
import type { FlowQuery } from '../store/store';
import { canonicalJson, type Json } from './canonical_json';
import { formatDate } from './canonical_flow';
import { ColumnRows } from './column_rows';
import type { EvidenceRow, RecordChoice } from './evidence_row';
import { EvidenceWriter } from './evidence_writer';
import { flowRows } from './flow_rows';
import { PredicateTally, type OmitEach, type Coverage, type FenceUse, type PathTable, type PathUse, type AttestationPredicate, type RelayRef } from './predicate';
import { buildStatement, EVIDENCE_NAME, type Statement } from './statement';

export { RECORD_CHOICES, type RecordChoice } from './evidence_row';

export interface StoreIdentity {
  kind: 'chdb' | 'clickhouse' | string;
  location: string;
  database: string;
}

/** How attestations name a store: the embedded one by directory, a server by URL without its user and password. */
export function storeIdentity(where: { dataDir?: string; url?: string; database: string }): StoreIdentity {
  if (where.dataDir !== undefined) return { kind: 'chdb', location: where.dataDir, database: where.database };
  const url = new URL(where.url ?? '');
  url.username = '';
  url.password = '';
  return { kind: 'clickhouse', location: url.toString(), database: where.database };
}

/** What is selected, as the request says it. */
export interface ExportSelection {
  /** Kubernetes label selector over the flows' source workloads, e.g. "app=replication". */
  selector: string;
  since: Date;
  /** Inclusive, to the end of its millisecond (as FlowQuery.until). */
  until: Date;
  /** Only flows this geofence decided. */
  geofence?: string;
  records?: RecordChoice;
}

export interface ExportOptions extends ExportSelection {
  /** The Geofence resources known to the exporter, to record each applied fence's spec. */
  fences?: (name: string) => Geofence | undefined;
  /** The exporting relay; cluster "" when it serves none. */
  relay: Omit<RelayRef, 'cluster'> & { cluster?: string };
  store: StoreIdentity;
  /** The id of the key the relay signs the statement with; null (default) when its client signs. */
  signingKey?: string | null;
  /** Replicas sharing this store (--shared-store), so covered by it. */
  sharedStoreWith?: string[];
  /** Called with the number of evidence lines written so far, every few thousand and at the end. */
  onProgress?: (flows: number) => void;
  /** Called with the number of evidence lines written so far after every run of rows (nothing is sent: heartbeats carry it). */
  onWritten?: (flows: number) => void;
  /**
   * Called with paths new to the evidence before the sink gets the first chunk that uses
   * them (how a relay answers a peer: evidence_only).
   */
  onPaths?: (paths: ListedPath[]) => Promise<void>;
  /** For reproducible output in tests; default now. */
  now?: Date;
}

/** A path as the predicate lists it, without its counts. */
export type ListedPath = OmitEach<PathUse, 'counts'>;

/**
 * Receives the evidence file in order; awaiting it gives backpressure. `leaves`, when given,
 * are the Merkle leaf hashes of the chunk's lines, so a sink in the same process need not
 * hash them again.
 */
export type EvidenceSink = (chunk: Buffer, leaves?: Buffer[]) => Promise<void>;

export interface Exported {
  statement: Statement;
}

export class ExportUsageError extends Error {}

const PROGRESS_EVERY = 10_000;

export function selectorFilter(selector: string, geofence?: string): FlowFilter {
  return FlowFilter.fromPartial({ sourceLabel: [selector], geofenceName: geofence ? [geofence] : [] });
}

/** A fence's spec as canonical JSON (ISD-AS numbers as decimal strings) and its SHA-256. */
export function fenceUse(name: string, fence: Geofence | undefined): FenceUse {
  if (!fence) return { name, spec: null, specSha256: null, mode: null };
  const spec = JSON.parse(JSON.stringify(fence.spec, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as Json;
  return { name, spec, specSha256: createHash('sha256').update(canonicalJson(spec)).digest('hex'), mode: fence.spec.mode };
}

/**
 * What export reads: flows one at a time, and, when the store has them, its stored columns
 * page by page (FlowReader.pages), which export turns into evidence without a Flow per row.
 */
export interface EvidenceSource {
  query(q: FlowQuery): AsyncIterable<Flow>;
  pages?(q: FlowQuery): AsyncIterable<FlowPage>;
}

/** Evidence rows in evidence order (time, then line text), a run at a time. */
export interface RowSource {
  /** The next run of rows; undefined after the last. */
  next(): Promise<EvidenceRow[] | undefined>;
  /** The entry of every path the rows handed out so far carry (and maybe more). */
  readonly paths: PathTable;
  /** After the last run: the geofences the rows applied (and the one asked for), with specs as this source knows them. */
  geofences(): FenceUse[];
  /** Stops reading now; next() gives undefined or throws after it. */
  close(): Promise<void>;
}

/**
 * Hands the rows of the selection to `accept` and yields between runs of them. From the
 * stored columns where the store has them and the engine decides every part of the
 * selection but the label selector exactly (the selector is decided here, once per source
 * workload); otherwise one Flow at a time.
 */
function selectRows(
  source: EvidenceSource, q: FlowQuery, opts: { selector: string; geofence?: string; records: RecordChoice }, paths: PathTable,
  accept: (r: EvidenceRow) => void,
): AsyncIterable<void> {
  const rest = FlowFilter.fromPartial({ geofenceName: opts.geofence ? [opts.geofence] : [] });
  if (!source.pages || !pushdownIsExact([rest], [])) return flowRows(source, q, opts.records, paths, accept);
  const rows = new ColumnRows({ selector: parseLabelSelector(opts.selector), records: opts.records }, paths);
  const pages = source.pages(q);
  return (async function* () {
    for await (const page of pages) yield rows.page(page, accept);
  })();
}

/** The window of the evidence: from (inclusive) and to (exclusive), in the evidence's time form. */
export function evidenceWindow(sel: ExportSelection): { from: string; to: string } {
  return { from: formatDate(sel.since), to: formatDate(new Date(sel.until.getTime() + 1)) };
}

/** Throws ExportUsageError on a selection no store can answer. */
function checkSelection(sel: ExportSelection): void {
  try {
    parseLabelSelector(sel.selector);
  } catch (e) {
    throw new ExportUsageError((e as Error).message);
  }
  if (sel.until.getTime() < sel.since.getTime()) throw new ExportUsageError('--until is before --since');
}

/** The selection's rows of one store, in evidence order. */
export function storeRows(store: EvidenceSource, sel: ExportSelection, fences?: (name: string) => Geofence | undefined): RowSource {
  checkSelection(sel);
  const records = sel.records ?? 'sent';
  const { from, to } = evidenceWindow(sel);
  const paths: PathTable = new Map();
  const applied = new Set<string>();
  let ready: EvidenceRow[] = [];
  // Flows of one instant are sorted by their line, so the order is the flows' own.
  let group: EvidenceRow[] = [];
  const flushGroup = (): void => {
    if (group.length > 1) group.sort((a, b) => (a.line < b.line ? -1 : a.line > b.line ? 1 : 0));
    for (const g of group) {
      if (g.fence) applied.add(g.fence.name);
      ready.push(g);
    }
    group = [];
  };
  const accept = (r: EvidenceRow): void => {
    if (r.time < from || r.time >= to) return;
    if (group.length > 0 && group[0].time !== r.time) {
      if (r.time < group[0].time) throw new Error('the store returned flows out of time order');
      flushGroup();
    }
    group.push(r);
  };
  const abort = new AbortController();
  const q = { since: sel.since, until: sel.until, allow: [selectorFilter(sel.selector, sel.geofence)], deny: [], order: 'asc' as const, signal: abort.signal };
  const runs = (async function* () {
    for await (const _ of selectRows(store, q, { selector: sel.selector, geofence: sel.geofence, records }, paths, accept)) {
      if (ready.length === 0) continue;
      const run = ready;
      ready = [];
      yield run;
    }
    flushGroup();
    if (ready.length > 0) yield ready;
  })();
  return {
    next: async () => (await runs.next()).value ?? undefined,
    paths,
    geofences: () => {
      if (sel.geofence) applied.add(sel.geofence);
      return [...applied].sort().map((n) => fenceUse(n, fences?.(n)));
    },
    close: async () => {
      abort.abort();
      await runs.return(undefined).catch(() => undefined);
    },
  };
}

/** The predicate's query: the exact store query the selection is. */
function queryOf(sel: ExportSelection): Json {
  return {
    allow: [FlowFilter.toJSON(selectorFilter(sel.selector, sel.geofence)) as Json],
    deny: [],
    since: sel.since.toISOString(),
    until: sel.until.toISOString(),
    records: sel.records ?? 'sent',
    order: 'asc',
  };
}

/**
 * Writes the rows of `source` as the evidence to `sink` while tallying them, and returns
 * the statement over them. `coverage` is asked once the rows have ended.
 */
export async function attestRows(source: RowSource, opts: ExportOptions, coverage: () => Coverage, sink: EvidenceSink): Promise<Exported> {
  const out = new EvidenceWriter(sink);
  const tally = new PredicateTally();
  let announced = 0;
  // Paths the source learnt since the last call, before the chunks that use them go out.
  const announce = async (): Promise<void> => {
    if (!opts.onPaths || source.paths.size === announced) return;
    const fresh: ListedPath[] = [];
    let i = 0;
    for (const [fingerprint, entry] of source.paths) if (i++ >= announced) fresh.push({ fingerprint, ...entry });
    announced = source.paths.size;
    await opts.onPaths(fresh);
  };
  try {
    for (let run = await source.next(); run !== undefined; run = await source.next()) {
      for (const r of run) {
        tally.add(r, out.lines);
        out.add(r.line);
        if (out.lines % PROGRESS_EVERY === 0) opts.onProgress?.(out.lines);
      }
      opts.onWritten?.(out.lines);
      if (out.ready) {
        await announce();
        await out.drain();
      }
    }
  } finally {
    await source.close();
  }
  await announce();
  const evidence = await out.end();
  const written = out.lines;
  opts.onProgress?.(written);

  const relay = { name: opts.relay.name, cluster: opts.relay.cluster ?? '', version: opts.relay.version };
  const predicate: AttestationPredicate = {
    window: evidenceWindow(opts),
    selector: opts.selector,
    query: queryOf(opts),
    geofences: source.geofences(),
    ...tally.summary(source.paths),
    evidence: {
      name: EVIDENCE_NAME,
      mediaType: 'application/x-ndjson',
      sha256: evidence.sha256,
      merkleRoot: evidence.merkleRoot,
      flows: written,
    },
    relay: { ...relay, signingKey: opts.signingKey ?? null },
    store: opts.store,
    relays: coverage(),
    generatedAt: (opts.now ?? new Date()).toISOString(),
  };
  return { statement: buildStatement(predicate) };
}

/** The coverage of an export from this relay's own store alone. */
export function ownCoverage(opts: ExportOptions): Coverage {
  return {
    covered: [{ name: opts.relay.name, cluster: opts.relay.cluster ?? '', version: opts.relay.version, store: opts.store }],
    sharedStoreWith: opts.sharedStoreWith ?? [],
    missing: [],
    duplicates: 0,
    conflicts: 0,
  };
}

export async function exportAttestation(store: EvidenceSource, opts: ExportOptions, sink: EvidenceSink): Promise<Exported> {
  return attestRows(storeRows(store, opts, opts.fences), opts, () => ownCoverage(opts), sink);
}
