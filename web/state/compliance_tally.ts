// The compliance view's figures, kept incrementally: per geofence the flows compliant,
// violating and unverified, in total and per time bucket (by the flow's own time), and the
// violating paths by how many flows took them. Bounded: a fence keeps its newest buckets, and
// fences and paths past their bound are counted as overflow.
import type { GeofenceVerdictWord } from '../../observer/filters/flags';
import { nsDate, timestampNs } from '../../observer/time';
import { WanPathType, type Flow } from '../../proto/gen/flow/flow';
import { pathVerdict } from './verdicts';

export interface FenceCounts {
  fence: string;
  namespace: string;
  totals: Record<GeofenceVerdictWord, number>;
  /** Bucket start (ms since the epoch) → counts. */
  buckets: Map<number, Record<GeofenceVerdictWord, number>>;
}

export interface ViolatingPath {
  fence: string;
  kind: 'SCION' | 'SRv6';
  /** ISD-ASes of a SCION path; an SRv6 path's segments by node (SID when the catalogue does not know it). */
  hops: string[];
  /** The offending hop as `hops` names it. */
  offendingIa: string;
  offendingCountry: string;
  flows: number;
}

const zero = (): Record<GeofenceVerdictWord, number> => ({ compliant: 0, violation: 0, unverified: 0 });

export class ComplianceTally {
  readonly fences = new Map<string, FenceCounts>();
  readonly paths = new Map<string, ViolatingPath>();
  overflow = 0;

  constructor(
    readonly bucketMs = 10_000,
    private readonly maxBuckets = 90,
    private readonly maxFences = 100,
    private readonly maxPaths = 1000,
  ) {}

  add(flow: Flow): void {
    const verdict = pathVerdict(flow);
    const g = flow.geofence;
    if (verdict === 'none' || !g) return;
    let fc = this.fences.get(g.name);
    if (!fc) {
      if (this.fences.size >= this.maxFences) {
        this.overflow++;
        return;
      }
      fc = { fence: g.name, namespace: g.namespace, totals: zero(), buckets: new Map() };
      this.fences.set(g.name, fc);
    }
    fc.totals[verdict]++;
    const ns = timestampNs(flow.time);
    const ms = ns === undefined ? Date.now() : nsDate(ns).getTime();
    const start = ms - (ms % this.bucketMs);
    let b = fc.buckets.get(start);
    if (!b) {
      b = zero();
      fc.buckets.set(start, b);
      if (fc.buckets.size > this.maxBuckets) fc.buckets.delete(Math.min(...fc.buckets.keys()));
    }
    b[verdict]++;
    if (verdict !== 'violation') return;
    const srv6 = flow.pathType === WanPathType.WAN_PATH_SRV6;
    const segs = flow.srv6Path?.hops ?? [];
    const hops = srv6 ? segs.map((h) => h.node || h.sid) : (flow.scionPath?.hops ?? []).map((h) => h.isdAs);
    const offending = srv6 ? (g.offendingHop !== undefined ? hops[g.offendingHop] ?? g.offendingSid : g.offendingSid) : g.offendingIsdAs;
    const key = `${g.name}|${srv6 ? 'srv6' : 'scion'}|${hops.join('>')}`;
    const p = this.paths.get(key);
    if (p) p.flows++;
    else if (this.paths.size < this.maxPaths) this.paths.set(key, { fence: g.name, kind: srv6 ? 'SRv6' : 'SCION', hops, offendingIa: offending, offendingCountry: g.offendingCountry, flows: 1 });
    else this.overflow++;
  }

  /** The `n` violating paths most flows took, most first (ties by fence and hops, stable). */
  topPaths(n: number): ViolatingPath[] {
    return [...this.paths.values()]
      .sort((a, b) => b.flows - a.flows || a.fence.localeCompare(b.fence) || a.hops.join('>').localeCompare(b.hops.join('>')))
      .slice(0, n);
  }
}
