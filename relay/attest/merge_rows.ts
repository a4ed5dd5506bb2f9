// Several relays' evidence rows merged into one evidence order (time, then line text), each
// flow once: a flow stored by two relays (a collector's batch both took around a failover)
// has the same uuid and time on both, so the copies meet within one instant and only the
// first is kept. Memory: one run per source and the uuids of the current instant.
import type { EvidenceRow } from './evidence_row';
import type { RowSource } from './export';
import type { FenceUse, PathTable } from './predicate';

/** Rows handed on at once. */
const RUN_ROWS = 1024;

interface Cursor {
  source: RowSource;
  run: EvidenceRow[];
  at: number;
  done: boolean;
}

const before = (a: EvidenceRow, b: EvidenceRow): boolean => a.time < b.time || (a.time === b.time && a.line < b.line);

export class MergedRows implements RowSource {
  /** Rows left out because a row of the same uuid came before them. */
  duplicates = 0;
  private readonly cursors: Cursor[];
  private started = false;
  private instant = '';
  private readonly uuids = new Set<string>();

  /**
   * `failed` hears of a source whose next() threw: true merges on without it (the rows it
   * gave stay merged), false fails the merge with that error.
   */
  constructor(sources: RowSource[], private readonly failed: (index: number, err: unknown) => boolean) {
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
        c.done = true;
        c.run = [];
        c.at = 0;
        if (!this.failed(i, e)) throw e;
      }
    }
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
      let best: Cursor | undefined;
      let bi = -1;
      for (let i = 0; i < this.cursors.length; i++) {
        const c = this.cursors[i];
        if (!c.done && (!best || before(c.run[c.at], best.run[best.at]))) {
          best = c;
          bi = i;
        }
      }
      if (!best) break;
      const row = best.run[best.at++];
      if (row.time !== this.instant) {
        this.instant = row.time;
        this.uuids.clear();
      }
      if (this.uuids.has(row.uuid)) this.duplicates++;
      else {
        this.uuids.add(row.uuid);
        out.push(row);
      }
      if (best.at >= best.run.length) await this.fill(bi);
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
