// Builds an attestation from any FlowStore: selects the flows (source label selector, time
// window, optionally one geofence), writes them as canonical evidence lines while hashing
// them into the Merkle tree and the tally, and returns the statement to sign. Memory stays
// flat in the number of flows except for the violation and unverified lists, which the
// predicate must carry anyway.
import { createHash } from 'node:crypto';
import { FlowFilter, ScionObservationPoint, type Flow, type ScionPath } from '../../proto/gen/flow/flow';
import type { Geofence } from '../../operator/resources/geofence';
import { parseLabelSelector } from '../../observer/filters/label_selector';
import type { FlowStore } from '../store/store';
import { canonicalJson, type Json } from './canonical_json';
import { canonicalFlow, canonicalLine, formatDate, type CanonicalFlow } from './canonical_flow';
import { leafHash, MerkleAccumulator } from './merkle';
import { Tally, type FenceUse, type PathTable, type Predicate } from './predicate';
import { buildStatement, EVIDENCE_NAME, type Statement } from './statement';

/**
 * Which records of a flow count. A flow crossing the WAN is reported at the sending edge
 * (encap) and again at the receiving edge (decap), and transit routers report it too;
 * `sent` keeps every record except decap and router ones, so each flow counts once, at its
 * source, and traffic that never entered SCION still shows.
 */
export const RECORD_CHOICES = ['sent', 'received', 'all'] as const;
export type RecordChoice = (typeof RECORD_CHOICES)[number];

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

const CHUNK_BYTES = 1 << 20;
const NEWLINE = Buffer.from('\n');
const PROGRESS_EVERY = 10_000;

export function selectorFilter(selector: string, geofence?: string): FlowFilter {
  return FlowFilter.fromPartial({ sourceLabel: [selector], geofenceName: geofence ? [geofence] : [] });
}

function recordCounts(choice: RecordChoice, f: Flow): boolean {
  const p = f.scionObservationPoint;
  if (choice === 'all') return true;
  if (choice === 'received') return p === ScionObservationPoint.SCION_EDGE_DECAP;
  return p !== ScionObservationPoint.SCION_EDGE_DECAP && p !== ScionObservationPoint.SCION_ROUTER_FORWARD;
}

function pathEntry(p: ScionPath): PathTable extends Map<string, infer V> ? V : never {
  return {
    srcIa: p.srcIa,
    dstIa: p.dstIa,
    knownToControlPlane: p.knownToControlPlane,
    hops: p.hops.map((h) => ({
      isdAs: h.isdAs,
      ingressInterface: h.ingressInterface,
      egressInterface: h.egressInterface,
      country: h.country,
      geo: h.geo ? { latitude: h.geo.latitude, longitude: h.geo.longitude, address: h.geo.address } : null,
    })),
  };
}

/** A fence's spec as canonical JSON (ISD-AS numbers as decimal strings) and its SHA-256. */
export function fenceUse(name: string, fence: Geofence | undefined): FenceUse {
  if (!fence) return { name, spec: null, specSha256: null, mode: null };
  const spec = JSON.parse(JSON.stringify(fence.spec, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as Json;
  return { name, spec, specSha256: createHash('sha256').update(canonicalJson(spec)).digest('hex'), mode: fence.spec.mode };
}

export async function exportAttestation(store: FlowStore, opts: ExportOptions, sink: EvidenceSink): Promise<Exported> {
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

  const merkle = new MerkleAccumulator();
  const fileHash = createHash('sha256');
  const tally = new Tally();
  const paths: PathTable = new Map();
  let pending: Buffer[] = [];
  let leaves: Buffer[] = [];
  let pendingBytes = 0;
  let written = 0;

  const emit = async (line: string, c: CanonicalFlow): Promise<void> => {
    const bytes = Buffer.from(line, 'utf8');
    const leaf = leafHash(bytes);
    merkle.addLeafHash(leaf);
    leaves.push(leaf);
    tally.add(c, written++);
    pending.push(bytes, NEWLINE);
    pendingBytes += bytes.length + 1;
    if (pendingBytes >= CHUNK_BYTES) await flushChunk();
    if (written % PROGRESS_EVERY === 0) opts.onProgress?.(written);
  };
  const flushChunk = async (): Promise<void> => {
    if (pending.length === 0) return;
    const chunk = Buffer.concat(pending, pendingBytes);
    const chunkLeaves = leaves;
    pending = [];
    leaves = [];
    pendingBytes = 0;
    fileHash.update(chunk);
    await sink(chunk, chunkLeaves);
  };

  // Flows of one instant are sorted by their line, so the order is the flows' own.
  let group: { line: string; c: CanonicalFlow }[] = [];
  const flushGroup = async (): Promise<void> => {
    if (group.length > 1) group.sort((a, b) => (a.line < b.line ? -1 : a.line > b.line ? 1 : 0));
    for (const g of group) await emit(g.line, g.c);
    group = [];
  };

  for await (const f of store.query({ since: opts.since, until: opts.until, allow: [filter], deny: [], order: 'asc' })) {
    if (!recordCounts(records, f)) continue;
    const c = canonicalFlow(f);
    if (c.time < from || c.time >= to) continue;
    if (c.path !== '' && !paths.has(c.path) && f.scionPath) paths.set(c.path, pathEntry(f.scionPath));
    if (group.length > 0 && group[0].c.time !== c.time) {
      if (c.time < group[0].c.time) throw new Error('the store returned flows out of time order');
      await flushGroup();
    }
    group.push({ line: canonicalLine(c), c });
  }
  await flushGroup();
  await flushChunk();
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
      sha256: fileHash.digest('hex'),
      merkleRoot: merkle.root().toString('hex'),
      flows: written,
    },
    relay: opts.relay,
    store: opts.store,
    generatedAt: (opts.now ?? new Date()).toISOString(),
  };
  return { statement: buildStatement(predicate) };
}
