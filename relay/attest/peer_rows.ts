// A peer relay's evidence as rows to merge: its Attest.Export (local scope, evidence_only)
// read one message at a time. Every line is checked before it is handed on, as verify
// would check it (canonical form, order, window, selector, a path announced before it), so
// what is merged always verifies, even when the peer breaks off half-way. The peer must
// send its next message within timeoutMs whenever one is awaited (relays send progress at
// least every HEARTBEAT_MS while they work, so only a stalled or dead relay misses it), and
// progress alone keeps it for at most progressOnlyTimeouts × timeoutMs of awaiting: a relay
// whose store hangs while its heartbeat runs, or that lies with progress only, cannot hold
// the export open; any evidence (a line, a path entry, its catalogue) renews that bound.
import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { ExportResponse } from '../../proto/gen/attest/v1/attest';
import type { PeerTarget } from '../peers/options';
import { parseCatalogue, parsePathEntry, type StoreCatalogue } from './catalogue';
import { EvidenceLineError, evidenceFields } from './evidence_line';
import type { EvidenceRow } from './evidence_row';
import { fenceUse, type RowSource } from './export';
import { LineRules } from './line_checker';
import { entryOf, type FenceUse, type PathTable, type TallyFlow } from './predicate';

/** How a peer failed; the `reason` label of cillion_attest_peers_missing_total. */
export type PeerFailureKind = 'unreachable' | 'stalled' | 'failed' | 'invalid' | 'limit';

export class PeerFailure extends Error {
  constructor(readonly peer: PeerTarget, readonly kind: PeerFailureKind, message: string) {
    super(message);
  }
}

export interface PeerBounds {
  /** Longest evidence line a peer may send. */
  maxLineBytes: number;
  /** Bytes of path entries and catalogue one peer may send (they are held until the statement is built). */
  maxCatalogueBytes: number;
  /** Flows of one instant a peer may send (the merge holds an instant's uuids to keep each flow once). */
  maxInstantFlows: number;
  /** How many timeouts of awaiting a peer may fill with progress only, sending no evidence. */
  progressOnlyTimeouts: number;
}

export const DEFAULT_PEER_BOUNDS: PeerBounds = { maxLineBytes: 4 << 20, maxCatalogueBytes: 64 << 20, maxInstantFlows: 100_000, progressOnlyTimeouts: 15 };

export interface PeerRowsOptions extends PeerBounds {
  timeoutMs: number;
  window: { from: string; to: string };
  selector: string;
}

/** A copy that does not keep the line it was cut from alive (the flow lists keep a few strings of many flows). */
const own = (s: string): string => (` ${s}`).slice(1);

/** Rows fewer than this are handed on together with the next chunk's. */
const RUN_ROWS = 256;

export class PeerRows implements RowSource {
  readonly paths: PathTable = new Map();
  private readonly it: AsyncIterator<ExportResponse>;
  private readonly rules: LineRules;
  private readonly fileHash = createHash('sha256');
  private readonly applied = new Set<string>();
  private rest: Buffer | undefined;
  private prev: { time: string; line: string } | undefined;
  private lines = 0;
  private held = 0;
  private catalogueParts: Buffer[] = [];
  private answered = false;
  private ended = false;
  private closed = false;
  private cat: StoreCatalogue | undefined;
  private broken: unknown;
  /** Milliseconds spent awaiting the peer since its last message other than progress. */
  private progressOnly = 0;

  constructor(private readonly call: ClientReadableStream<ExportResponse>, readonly target: PeerTarget, private readonly opts: PeerRowsOptions) {
    this.it = (call as unknown as AsyncIterable<ExportResponse>)[Symbol.asyncIterator]();
    this.rules = new LineRules({ window: opts.window, selector: opts.selector, paths: [] });
  }

  /** What the peer said of itself and its evidence; after the last run. */
  get catalogue(): StoreCatalogue | undefined {
    return this.cat;
  }

  private fail(kind: PeerFailureKind, message: string): PeerFailure {
    this.call.cancel();
    return new PeerFailure(this.target, kind, `relay ${this.target.name} (${this.target.address}): ${message}`);
  }

  private async read(): Promise<IteratorResult<ExportResponse>> {
    let timer: NodeJS.Timeout | undefined;
    const { timeoutMs } = this.opts;
    const bound = timeoutMs * this.opts.progressOnlyTimeouts;
    const left = Math.max(0, bound - this.progressOnly);
    const t0 = Date.now();
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        if (!this.answered) reject(this.fail('unreachable', `no answer within ${timeoutMs} ms`));
        else if (left < timeoutMs) reject(this.fail('stalled', `sent only progress, no evidence, for ${bound} ms`));
        else reject(this.fail('stalled', `sent nothing for ${timeoutMs} ms`));
      }, Math.min(timeoutMs, left));
    });
    try {
      const r = await Promise.race([this.it.next(), stalled]);
      this.answered = true;
      return r;
    } catch (e) {
      if (e instanceof PeerFailure) throw e;
      const err = e as ServiceError;
      if (this.closed) throw new PeerFailure(this.target, 'failed', `relay ${this.target.name}: closed`);
      const kind = !this.answered && err.code === status.UNAVAILABLE ? 'unreachable' : 'failed';
      throw new PeerFailure(this.target, kind, `relay ${this.target.name} (${this.target.address}): ${status[err.code] ?? 'error'}: ${err.details ?? err.message}`);
    } finally {
      clearTimeout(timer);
      this.progressOnly += Date.now() - t0;
    }
  }

  private hold(bytes: number, what: string): void {
    this.held += bytes;
    if (this.held > this.opts.maxCatalogueBytes) throw this.fail('limit', `${what} brings its path entries and catalogue over ${this.opts.maxCatalogueBytes} bytes`);
  }

  async next(): Promise<EvidenceRow[] | undefined> {
    if (this.broken) throw this.broken;
    if (this.ended) return undefined;
    const rows: EvidenceRow[] = [];
    try {
      return await this.take(rows);
    } catch (e) {
      if (rows.length === 0) throw e;
      // The rows checked before the failure are merged; the failure comes with the next call.
      this.broken = e;
      return rows;
    }
  }

  private async take(rows: EvidenceRow[]): Promise<EvidenceRow[] | undefined> {
    for (;;) {
      const r = await this.read();
      if (r.done) {
        this.finish();
        return rows.length > 0 ? rows : undefined;
      }
      const item = r.value.item;
      if (!item || item.$case === 'progress') continue;
      this.progressOnly = 0;
      if (item.$case === 'path') {
        this.hold(item.value.length, 'a path entry');
        try {
          const listed = parsePathEntry(item.value);
          if (!this.paths.has(listed.fingerprint)) this.paths.set(listed.fingerprint, entryOf(listed));
        } catch (e) {
          throw this.fail('invalid', (e as Error).message);
        }
      } else if (item.$case === 'evidenceChunk') {
        if (this.catalogueParts.length > 0) throw this.fail('invalid', 'sent evidence after its catalogue');
        this.chunk(item.value, rows);
        if (rows.length >= RUN_ROWS) return rows;
      } else if (item.$case === 'catalogueChunk') {
        this.hold(item.value.length, 'a catalogue chunk');
        this.catalogueParts.push(Buffer.from(item.value));
      } else {
        throw this.fail('invalid', `sent a ${item.$case} in an evidence_only export`);
      }
    }
  }

  private chunk(b: Buffer, rows: EvidenceRow[]): void {
    this.fileHash.update(b);
    let at = 0;
    for (let nl = b.indexOf(10); nl >= 0; nl = b.indexOf(10, at)) {
      if (this.rest) {
        const whole = Buffer.concat([this.rest, b.subarray(0, nl)]);
        this.rest = undefined;
        rows.push(this.line(whole, 0, whole.length));
      } else rows.push(this.line(b, at, nl));
      at = nl + 1;
    }
    if (at < b.length) {
      const piece = b.subarray(at);
      if ((this.rest?.length ?? 0) + piece.length > this.opts.maxLineBytes) throw this.fail('limit', `sent a line over ${this.opts.maxLineBytes} bytes`);
      this.rest = this.rest ? Buffer.concat([this.rest, piece]) : Buffer.from(piece);
    }
  }

  private line(buf: Buffer, start: number, end: number): EvidenceRow {
    const n = ++this.lines;
    if (end - start > this.opts.maxLineBytes) throw this.fail('limit', `sent a line over ${this.opts.maxLineBytes} bytes`);
    const text = buf.toString('utf8', start, end);
    if (text.includes('\ufffd') && !isUtf8(buf.subarray(start, end))) throw this.fail('invalid', `evidence line ${n} is not UTF-8`);
    let c: TallyFlow & { srcLabels: string };
    try {
      c = evidenceFields(text);
    } catch (e) {
      if (!(e instanceof EvidenceLineError)) throw e;
      throw this.fail('invalid', `evidence line ${n}: ${e.message}`);
    }
    const prev = this.prev;
    if (prev && (c.time < prev.time || (c.time === prev.time && text < prev.line))) throw this.fail('invalid', `evidence line ${n} is out of order`);
    const w = this.opts.window;
    if (c.time < w.from || c.time >= w.to) throw this.fail('invalid', `evidence line ${n}: time ${c.time} is outside the window [${w.from}, ${w.to})`);
    if (this.rules.selector && !this.rules.selects(c.srcLabels)) throw this.fail('invalid', `evidence line ${n}: source labels do not match "${this.opts.selector}"`);
    if (c.path !== '' && !this.paths.has(c.path)) throw this.fail('invalid', `evidence line ${n} uses path ${c.path}, announced nowhere before it`);
    this.prev = { time: c.time, line: text };
    const f = c.fence;
    if (f) this.applied.add(f.name);
    if (f === null || f.verdict === 'COMPLIANT') return { line: text, time: c.time, uuid: c.uuid, path: c.path, packets: c.packets, bytes: c.bytes, fence: f };
    const fence = { verdict: f.verdict, name: own(f.name), reason: own(f.reason) };
    return { line: text, time: own(c.time), uuid: own(c.uuid), path: c.path, packets: c.packets, bytes: c.bytes, fence };
  }

  private finish(): void {
    this.ended = true;
    if (this.rest) throw this.fail('invalid', 'its evidence ends in the middle of a line');
    if (this.catalogueParts.length === 0) throw this.fail('invalid', 'ended without a catalogue');
    let cat: StoreCatalogue;
    try {
      cat = parseCatalogue(Buffer.concat(this.catalogueParts));
    } catch (e) {
      throw this.fail('invalid', (e as Error).message);
    }
    this.catalogueParts = [];
    const sha = this.fileHash.digest('hex');
    if (cat.evidence.sha256 !== sha || cat.evidence.flows !== this.lines) {
      throw this.fail('invalid', `its catalogue describes ${cat.evidence.flows} lines with SHA-256 ${cat.evidence.sha256}; ${this.lines} lines with ${sha} arrived`);
    }
    this.cat = cat;
  }

  /** The catalogue's geofences, and a spec-less entry for any fence its lines applied that it does not list. */
  geofences(): FenceUse[] {
    const listed = this.cat?.geofences ?? [];
    const names = new Set(listed.map((g) => g.name));
    return [...listed, ...[...this.applied].filter((n) => !names.has(n)).map((n) => fenceUse(n, undefined))];
  }

  async close(): Promise<void> {
    this.closed = true;
    this.call.cancel();
  }
}
