// Several relays' evidence rows merged into one evidence order (time, then line text), each
// flow once: a flow stored by two relays (a collector's batch both took around a failover)
// has the same uuid and time on both, so the copies meet within one instant. The first
// source is the exporting relay's own store: of a flow's copies its own is kept, else the
// first peer's in peer order, never the one whose text happens to sort first, so a peer
// cannot replace what the signing relay holds. Copies may differ in their geofence judgment
// (relays enforcing different fences), counted as conflicts; a peer's copy that differs from
// the relay's own in anything else (the flow's recorded facts) is refused as invalid. Memory: one run per source and the rows of the current
// instant, at most maxInstantFlows of them from each peer.
import type { EvidenceRow } from './evidence_row';
import type { RowSource } from './export';
import type { FenceUse, PathTable } from './predicate';

/** Rows handed on at once. */
const RUN_ROWS = 1024;

/** Why the merge gave up on a peer source (PeerFailureKind's names). */
export class MergeRefusal extends Error {
  constructor(readonly kind: 'invalid' | 'limit', message: string) {
    super(message);
  }
}

interface Cursor {
  source: RowSource;
  run: EvidenceRow[];
  at: number;
  done: boolean;
}

const byLine = (a: EvidenceRow, b: EvidenceRow): number => (a.line < b.line ? -1 : a.line > b.line ? 1 : 0);

/** The line without its geofence judgment: what two relays holding one flow must agree on. */
function facts(line: string): string {
  const flow = JSON.parse(line) as Record<string, unknown>;
  delete flow.fence;
  return JSON.stringify(flow);
}

export class MergedRows implements RowSource {
  /** Rows left out because another copy of the same uuid was kept. */
  duplicates = 0;
  /** Of the duplicates, copies whose line differed from the kept one's. */
  conflicts = 0;
  private readonly cursors: Cursor[];
  private started = false;

  /**
   * `failed` hears of a source whose next() threw or that the merge refused (a MergeRefusal):
   * true merges on without it (the rows it gave before stay merged), false fails the merge
   * with that error. `maxInstantFlows`: rows of one instant a source after the first may send.
   */
  constructor(sources: RowSource[], private readonly failed: (index: number, err: unknown) => boolean, private readonly maxInstantFlows = Infinity) {
    this.cursors = sources.map((source) => ({ source, run: [], at: 0, done: false }));
  }

  private async fill(i: number): Promise<void> {
    const c = this.cursors[i];
    while (!c.done && c.at >= c.run.length) {
      try {
        const run = await c.source.next();
        if (run === undefined) c.done = true;
        else {
          c.run = run;
          c.at = 0;
        }
      } catch (e) {
        this.stop(c);
        if (!this.failed(i, e)) throw e;
      }
    }
  }

  private stop(c: Cursor): void {
    c.done = true;
    c.run = [];
    c.at = 0;
  }

  private refuse(i: number, err: MergeRefusal): void {
    const c = this.cursors[i];
    this.stop(c);
    void c.source.close();
    if (!this.failed(i, err)) throw err;
  }

  /** The time of the next instant, of the sources whose runs are not used up. */
  private nextTime(): string | undefined {
    let time: string | undefined;
    for (const c of this.cursors) if (!c.done && c.at < c.run.length && (time === undefined || c.run[c.at].time < time)) time = c.run[c.at].time;
    return time;
  }

  /** Whether taking the next instant may await a source: a run used up, or ending within it. */
  private mustWait(): boolean {
    const time = this.nextTime();
    return this.cursors.some((c) => !c.done && (c.at >= c.run.length || c.run[c.run.length - 1].time === time));
  }

  /** Each source's rows of the next instant, by source; undefined when every source is done. */
  private async instant(): Promise<EvidenceRow[][] | undefined> {
    for (let i = 0; i < this.cursors.length; i++) await this.fill(i);
    const time = this.nextTime();
    if (time === undefined) return undefined;
    const bySource: EvidenceRow[][] = [];
    for (let i = 0; i < this.cursors.length; i++) {
      const c = this.cursors[i];
      const rows: EvidenceRow[] = [];
      while (!c.done && c.run[c.at].time === time) {
        rows.push(c.run[c.at++]);
        if (i > 0 && rows.length > this.maxInstantFlows) {
          this.refuse(i, new MergeRefusal('limit', `sent more than ${this.maxInstantFlows} flows of one instant (${time})`));
          rows.length = 0;
          break;
        }
        if (c.at >= c.run.length) await this.fill(i);
      }
      bySource.push(rows);
    }
    return bySource;
  }

  /** One instant's rows, each uuid once: the own copy, else the first peer's. */
  private resolve(bySource: EvidenceRow[][]): EvidenceRow[] {
    const kept = new Map<string, { row: EvidenceRow; source: number }>();
    for (let i = 0; i < bySource.length; i++) {
      const rows = bySource[i];
      if (i > 0) {
        const clash = rows.find((r) => {
          const k = kept.get(r.uuid);
          return k !== undefined && k.source === 0 && k.row.line !== r.line && facts(k.row.line) !== facts(r.line);
        });
        if (clash) {
          this.conflicts++;
          this.refuse(i, new MergeRefusal('invalid', `its evidence line of flow ${clash.uuid} differs from the exporting relay's own beyond the geofence judgment`));
          continue;
        }
      }
      for (const r of rows) {
        const k = kept.get(r.uuid);
        if (!k) kept.set(r.uuid, { row: r, source: i });
        else {
          this.duplicates++;
          if (k.row.line !== r.line) this.conflicts++;
        }
      }
    }
    const out = [...kept.values()].map((k) => k.row);
    return bySource.filter((rows) => rows.length > 0).length > 1 ? out.sort(byLine) : out;
  }

  async next(): Promise<EvidenceRow[] | undefined> {
    if (!this.started) {
      this.started = true;
      // Every source at once, and all settled, so a refusal names every source that failed.
      const first = await Promise.allSettled(this.cursors.map((_, i) => this.fill(i)));
      const err = first.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (err) throw err.reason;
    }
    const out: EvidenceRow[] = [];
    while (out.length < RUN_ROWS) {
      // What is merged goes on before a source is awaited, so a slow peer holds back nothing merged.
      if (out.length > 0 && this.mustWait()) break;
      const bySource = await this.instant();
      if (!bySource) break;
      for (const r of this.resolve(bySource)) out.push(r);
    }
    return out.length > 0 ? out : undefined;
  }

  /** The sources' paths, the first source's entry where two differ. */
  get paths(): PathTable {
    const all: PathTable = new Map();
    for (const c of this.cursors) for (const [k, v] of c.source.paths) if (!all.has(k)) all.set(k, v);
    return all;
  }

  /**
   * Every source's geofences, each distinct entry once, by name: a fence two relays enforce
   * with different specs is listed with both; one without a spec only where no source has it.
   */
  geofences(): FenceUse[] {
    const byKey = new Map<string, FenceUse>();
    for (const c of this.cursors) for (const g of c.source.geofences()) byKey.set(`${g.name}\n${g.specSha256 ?? ''}`, g);
    const specified = new Set([...byKey.values()].filter((g) => g.specSha256 !== null).map((g) => g.name));
    const key = (g: FenceUse): string => `${g.name}\n${g.specSha256 ?? ''}`;
    return [...byKey.values()]
      .filter((g) => g.specSha256 !== null || !specified.has(g.name))
      .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.cursors.map((c) => c.source.close()));
  }
}
