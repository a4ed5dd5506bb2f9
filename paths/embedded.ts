// The embedded control plane as a path authority. EmbeddedPathService beacons in shared
// rounds whose SegIDs are seeded from the round's start, so any process over the same
// topology rebuilds the exact hop fields of any round. A flow's info-field timestamp names
// its round; a flow arriving late from a collector's backlog is checked against the round
// it was sent in, as long as that round is recent enough.
import { LRUCache } from 'lru-cache';
import { defaultCountryLookup, type CountryLookup } from '../geo/country';
import { combine } from '../controlplane/combinator';
import type { EmbeddedPathService } from '../controlplane/pathservice';
import type { SegmentSet } from '../controlplane/beaconing';
import type { ScionPath } from '../proto/gen/flow/flow';
import type { HopEvidence, PathAuthority } from './authority';
import { describePath } from './describe';
import { hopKey } from './hopfields';

export interface EmbeddedAuthorityOptions {
  /** Rounds (newest first, the current one included) whose paths are accepted; default 16. */
  maxRounds?: number;
  /**
   * (round, source, destination) path sets kept; default 2048, every pair of the example
   * topology in every admissible round (about 30 KB each), so no flood of flows naming
   * other pairs or rounds can make it recompute one again and again.
   */
  maxPairs?: number;
  /** Seconds a round may start ahead of this clock (another process's clock runs fast); default 60. */
  clockSkewSeconds?: number;
  countries?: CountryLookup;
}

export class EmbeddedAuthority implements PathAuthority {
  readonly name: string;
  readonly generation = 0;
  private readonly maxRounds: number;
  private readonly skew: number;
  private readonly countries: CountryLookup;
  /** Holds every admissible round, so no sequence of flows makes it beacon a round twice in a row. */
  private readonly rounds: LRUCache<number, SegmentSet>;
  private readonly pairs: LRUCache<string, Map<string, ScionPath>>;

  constructor(
    private readonly service: EmbeddedPathService,
    opts: EmbeddedAuthorityOptions = {},
  ) {
    this.maxRounds = opts.maxRounds ?? 16;
    this.skew = opts.clockSkewSeconds ?? 60;
    this.countries = opts.countries ?? defaultCountryLookup;
    this.rounds = new LRUCache({ max: this.maxRounds + 1 });
    this.pairs = new LRUCache({ max: opts.maxPairs ?? 2048 });
    this.name = `the embedded control plane (${service.topology.ases.size} ASes)`;
  }

  match(e: HopEvidence): ScionPath | undefined {
    const ases = this.service.topology.ases;
    if (!ases.has(e.src) || !ases.has(e.dst)) return undefined;
    const start = e.wire.infoFields[0]?.timestamp;
    if (start === undefined || e.wire.infoFields.some((f) => f.timestamp !== start)) return undefined;
    const segments = this.round(start);
    if (segments === undefined) return undefined;
    const pairKey = `${start} ${e.src} ${e.dst}`;
    let paths = this.pairs.get(pairKey);
    if (paths === undefined) {
      paths = new Map();
      for (const cp of combine(e.src, e.dst, segments)) {
        if (cp.path.hopFields.length > 0) paths.set(hopKey(cp.path.hopFields), describePath(cp, 0, this.countries));
      }
      this.pairs.set(pairKey, paths);
    }
    return paths.get(e.key);
  }

  /** The round starting at `start`, if it is one of the admissible ones. */
  private round(start: number): SegmentSet | undefined {
    const period = this.service.roundPeriod;
    if (period === undefined) {
      const current = this.service.segments();
      return current.timestamp === start ? current : undefined;
    }
    if (start % period !== 0) return undefined;
    const newest = this.service.roundStart(this.service.nowSeconds() + this.skew)!;
    if (start > newest || start <= newest - this.maxRounds * period) return undefined;
    let segments = this.rounds.get(start);
    if (segments === undefined) {
      segments = this.service.roundAt(start);
      this.rounds.set(start, segments);
    }
    return segments;
  }
}
