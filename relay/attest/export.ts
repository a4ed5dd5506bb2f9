// Builds an attestation from a flow store: selects the flows (source label selector, time
// window, optionally one geofence), writes them as canonical evidence lines while hashing
// them into the Merkle tree and the tally, and returns the statement to sign. Memory stays
// flat in the number of flows except for the violation and unverified lists, which the
// predicate must carry anyway.
import { createHash } from 'node:crypto';
import { FlowFilter, type Flow } from '../../proto/gen/flow/flow';
import type { Geofence } from '../../operator/resources/geofence';
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
import { Tally, type FenceUse, type PathTable, type Predicate } from './predicate';
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

export interface ExportOptions {
  /** Kubernetes label selector over the flows' source workloads, e.g. "app=replication". */
  selector: string;
  since: Date;
  /** Inclusive, to the end of its millisecond (as FlowQuery.until). */
  until: Date;
  /** Only flows this geofence decided. */
  geofence?: string;
  records?: RecordChoice;
  /** The Geofence resources known to the exporter, to record each applied fence's spec. */
  fences?: (name: string) => Geofence | undefined;
  relay: { name: string; version: string };
  store: StoreIdentity;
  /** Called with the number of evidence lines written so far, every few thousand and at the end. */
  onProgress?: (flows: number) => void;
  /** For reproducible output in tests; default now. */
  now?: Date;
}

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

export async function exportAttestation(store: EvidenceSource, opts: ExportOptions, sink: EvidenceSink): Promise<Exported> {
  try {
    parseLabelSelector(opts.selector);
  } catch (e) {
    throw new ExportUsageError((e as Error).message);
  }
  if (opts.until.getTime() < opts.since.getTime()) throw new ExportUsageError('--until is before --since');
  const records = opts.records ?? 'sent';
  const filter = selectorFilter(opts.selector, opts.geofence);
  const from = formatDate(opts.since);
  const to = formatDate(new Date(opts.until.getTime() + 1));

  const out = new EvidenceWriter(sink);
  const tally = new Tally();
  const paths: PathTable = new Map();
  const emit = (r: EvidenceRow): void => {
    tally.add(r, out.lines);
    out.add(r.line);
    if (out.lines % PROGRESS_EVERY === 0) opts.onProgress?.(out.lines);
  };

  // Flows of one instant are sorted by their line, so the order is the flows' own.
  let group: EvidenceRow[] = [];
  const flushGroup = (): void => {
    if (group.length > 1) group.sort((a, b) => (a.line < b.line ? -1 : a.line > b.line ? 1 : 0));
    for (const g of group) emit(g);
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
  const q = { since: opts.since, until: opts.until, allow: [filter], deny: [], order: 'asc' as const };
  for await (const _ of selectRows(store, q, { selector: opts.selector, geofence: opts.geofence, records }, paths, accept)) {
    if (out.ready) await out.drain();
  }
  flushGroup();
  const evidence = await out.end();
  const written = out.lines;
  opts.onProgress?.(written);

  const fenceNames = new Set(tally.fences);
  if (opts.geofence) fenceNames.add(opts.geofence);
  const predicate: Predicate = {
    window: { from, to },
    selector: opts.selector,
    query: {
      allow: [FlowFilter.toJSON(filter) as Json],
      deny: [],
      since: opts.since.toISOString(),
      until: opts.until.toISOString(),
      records,
      order: 'asc',
    },
    geofences: [...fenceNames].sort().map((n) => fenceUse(n, opts.fences?.(n))),
    ...tally.summary(paths),
    evidence: {
      name: EVIDENCE_NAME,
      mediaType: 'application/x-ndjson',
      sha256: evidence.sha256,
      merkleRoot: evidence.merkleRoot,
      flows: written,
    },
    relay: opts.relay,
    store: opts.store,
    generatedAt: (opts.now ?? new Date()).toISOString(),
  };
  return { statement: buildStatement(predicate) };
}
