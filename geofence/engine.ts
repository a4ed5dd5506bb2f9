// The relay's geofence check of every flow. A fence applies to a flow when its workload
// selector picks the flow's source or its destination; each applicable fence judges the
// flow's path (see verdict.ts) and the strongest verdict is the flow's, naming its fence.
//
// The relay runs hundreds of thousands of flows a second over few distinct paths and
// fences, so everything is cached and a repeated check allocates nothing:
// - per path (keyed by its fingerprint, LRU-bounded), each fence's verdict under the fence
//   generation it was computed with: (fingerprint, fence name, generation). Changing a
//   fence gives it a new generation, so its old verdicts are never read again;
// - per path and set of applicable fences, the combined result, dropped when any fence
//   changes;
// - per (source, destination) workload objects, the applicable fences. Callers pass the
//   same WorkloadLabels object for the same workload (for instance one per identity) and
//   never mutate it; fresh objects each time stay correct, only slower.
// A path's hops are read from the first flow seen with its fingerprint, so the path handed
// in must be one the caller rebuilt from the flow's hop fields (FlowJudge does, through
// paths/verify.ts), never a sender's description: the fingerprint is then the caller's own
// computation and cannot point a path at another path's verdicts. Paths are fixed by their
// interfaces, but an AS may re-announce positions: invalidatePaths() forgets them.
//
// An SRv6 path is judged by its segments instead (hopsFromSrv6Path), keyed by the relay's
// own fingerprint of the segment list together with what the verdict rests on: where the
// list was seen and what its HMAC TLV showed. A change of SID catalogue calls for
// invalidatePaths() too.
import { LRUCache } from 'lru-cache';
import type { Geofence } from '../resources/geofence';
import type { WorkloadLabels } from '../identity/workload_labels';
import { matchesWorkload } from '../resources/selector';
import { ScionObservationPoint, Srv6HmacStatus, type ScionPath, type Srv6Path } from '../proto/gen/flow/flow';
import { defaultCountryLookup, type CountryLookup } from '../geo/country';
import { hopsFromFlowPath, hopsFromSrv6Path, type Hop } from './hops';
import { evaluate, fenceVerdict, strongest, type Evaluation, type FenceVerdict } from './verdict';

export interface FlowContext {
  /** The source workload; undefined when it is not a pod (world, host) or unknown. */
  source: WorkloadLabels | undefined;
  destination: WorkloadLabels | undefined;
  /** The SCION path as rebuilt from the flow's hop fields; undefined when the flow has none. */
  path: ScionPath | undefined;
  /**
   * The SRv6 path as rebuilt from the flow's Segment Routing Header; when set, the flow is
   * judged by it and `path` is not read.
   */
  srv6Path?: Srv6Path;
  /** Where the SRv6 path was seen (the flow's observation point): part of what its verdict rests on. */
  seenAt?: ScionObservationPoint;
  /** Why the path could not be checked against the control plane at all, when it could not. */
  unchecked?: Unchecked;
  /** What exactly was wrong, for `unchecked` (an SRH decode error's code); from a small fixed set. */
  uncheckedDetail?: string;
}

/** Why a flow's SRv6 path could not be checked against the SID catalogue. */
export type Srv6Unchecked = 'noSrh' | 'malformedSrh' | 'noCatalogue' | 'twoPaths';

/** Why a flow's path could not be checked against the control plane (SCION) or the SID catalogue (SRv6). */
export type Unchecked = 'noHopFields' | 'malformed' | 'noControlPlane' | Srv6Unchecked;

export interface FlowCheck {
  /** The flow's verdict: the strongest of `fences`, with the fence that gave it. */
  readonly decision: FenceVerdict;
  /** The verdict of each applicable fence, enforcing fences first, then by name. */
  readonly fences: readonly FenceVerdict[];
}

export interface GeofenceEngineOptions {
  /** Distinct paths whose verdicts are kept; default 16384. */
  maxPaths?: number;
  countries?: CountryLookup;
}

export interface GeofenceEngineStats {
  /** Paths currently cached. */
  paths: number;
  /** Times a fence was evaluated against a path, i.e. per-fence cache misses. */
  evaluations: number;
}

interface FenceState {
  fence: Geofence;
  /** Engine-wide counter, so a fence removed and added again never reuses a generation. */
  generation: number;
  specKey: string;
}

/** Why a flow's path cannot be checked at all. */
type Unknown = 'noPath' | 'notInControlPlane' | 'noHops' | Unchecked;

const UNKNOWN_REASON: Record<Unknown, string> = {
  noPath: 'the flow carries no SCION path',
  notInControlPlane: 'the path is not known to the control plane: its hop fields match no segment it handed out',
  noHops: 'the path has no hops to check',
  noHopFields: 'the flow carries no hop fields',
  malformed: "the flow's path bytes or ISD-ASes do not decode",
  noControlPlane: 'no control plane to check the hop fields against (the relay runs without --topology or --daemon)',
  noSrh: 'the flow names an SRv6 path but carries no Segment Routing Header',
  malformedSrh: "the flow's Segment Routing Header does not decode",
  noCatalogue: 'no SID catalogue to place the segments (the relay runs without --srv6-catalogue)',
  twoPaths: 'the flow carries both a SCION path and an SRv6 path, and a packet takes one WAN path',
};

/** Where an SRv6 segment list was seen, as its verdict says. */
const SEEN_AT: Partial<Record<ScionObservationPoint, string>> = {
  [ScionObservationPoint.SCION_EDGE_ENCAP]: 'as the encapsulating edge wrote it',
  [ScionObservationPoint.SCION_ROUTER_FORWARD]: 'as a transit node we run saw it',
  [ScionObservationPoint.SCION_EDGE_DECAP]: 'as the decapsulating edge received it',
};

/** What an SRv6 verdict rests on, and why a path inside the fence still cannot be called compliant. */
interface Srv6Basis {
  basis: string;
  /** Set when the HMAC TLV shows the segment list is not what a key holder wrote. */
  refuted?: string;
}

function srv6Basis(p: Srv6Path, seenAt: ScionObservationPoint | undefined): Srv6Basis {
  const seen = (seenAt !== undefined ? SEEN_AT[seenAt] : undefined) ?? 'as reported';
  const key = p.hmac?.keyId ?? 0;
  let hmac: string;
  let refuted: string | undefined;
  switch (p.hmac?.status) {
    case Srv6HmacStatus.SRV6_HMAC_VERIFIED:
      hmac = `its HMAC (key ${key}) verifies`;
      break;
    case Srv6HmacStatus.SRV6_HMAC_NO_KEY:
      hmac = `HMAC key ${key} is unknown to this relay, not checked`;
      break;
    case Srv6HmacStatus.SRV6_HMAC_MISMATCH:
      hmac = `its HMAC (key ${key}) does not verify`;
      refuted = `the SRH's HMAC (key ${key}) does not verify: the segment list or source is not what the key holder wrote`;
      break;
    case Srv6HmacStatus.SRV6_HMAC_MALFORMED:
      hmac = 'its HMAC TLV is malformed';
      refuted = "the SRH's HMAC TLV is malformed, so the segment list cannot be vouched for";
      break;
    default:
      hmac = 'no HMAC';
  }
  return { basis: `by the SID catalogue's geo for the segment list ${seen}, not a per-hop proof; ${hmac}`, refuted };
}

/** The fences that apply to one (source, destination) pair, interned per distinct set. */
interface FenceSet {
  states: readonly FenceState[];
  fences: readonly Geofence[];
  /** Results for paths that cannot be checked, by reason and detail. */
  unknown: Map<string, FlowCheck>;
}

interface CachedVerdict {
  generation: number;
  verdict: FenceVerdict;
}

interface PathEntry {
  hops: readonly Hop[];
  byFence: Map<string, CachedVerdict>;
  /** Combined results, valid for `epoch` only. */
  combined: Map<FenceSet, FlowCheck>;
  epoch: number;
  /** SRv6 paths: what every verdict on them rests on. */
  srv6?: Srv6Basis;
}

const NOBODY: WorkloadLabels = Object.freeze({ namespaceLabels: {}, podLabels: {} });

/** Deterministic text of a spec (ISD-AS values are bigints) to tell a real change from a resync. */
const specKeyOf = (f: Geofence): string => JSON.stringify(f.spec, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

export class GeofenceEngine {
  private readonly byName = new Map<string, FenceState>();
  private ordered: FenceState[] = [];
  private generations = 0;
  /** Bumped on every fence change; drops selections and combined results. */
  private epoch = 0;
  private selections = new WeakMap<WorkloadLabels, WeakMap<WorkloadLabels, FenceSet>>();
  private sets = new Map<string, FenceSet>();
  private readonly paths: LRUCache<string, PathEntry>;
  private readonly countries: CountryLookup;
  private evaluations = 0;

  constructor(opts: GeofenceEngineOptions = {}) {
    this.paths = new LRUCache({ max: opts.maxPaths ?? 16384 });
    this.countries = opts.countries ?? defaultCountryLookup;
  }

  /**
   * Adds a fence or replaces the one of the same name. A fence whose spec is unchanged (a
   * resync) is left as it is, cached verdicts included, and false is returned.
   */
  upsert(fence: Geofence): boolean {
    const name = fence.metadata.name;
    const specKey = specKeyOf(fence);
    if (this.byName.get(name)?.specKey === specKey) return false;
    this.byName.set(name, { fence, generation: ++this.generations, specKey });
    this.changed();
    return true;
  }

  remove(name: string): boolean {
    if (!this.byName.delete(name)) return false;
    this.changed();
    return true;
  }

  get(name: string): Geofence | undefined {
    return this.byName.get(name)?.fence;
  }

  /** All fences, enforcing first, then by name. */
  list(): Geofence[] {
    return this.ordered.map((s) => s.fence);
  }

  /** The fences that select the source or the destination workload, enforcing first, then by name. */
  fencesFor(source: WorkloadLabels | undefined, destination: WorkloadLabels | undefined): readonly Geofence[] {
    return this.selection(source, destination).fences;
  }

  /** The flow's geofence result; undefined when no fence applies to it. */
  check(ctx: FlowContext): FlowCheck | undefined {
    const set = this.selection(ctx.source, ctx.destination);
    if (set.states.length === 0) return undefined;
    if (ctx.srv6Path !== undefined) return this.checkSrv6(set, ctx.srv6Path, ctx);
    const p = ctx.path;
    if (p === undefined) return this.unknown(set, 'noPath');
    if (ctx.unchecked !== undefined) return this.unknown(set, ctx.unchecked);
    if (!p.knownToControlPlane) return this.unknown(set, 'notInControlPlane');
    if (p.hops.length === 0) return this.unknown(set, 'noHops');
    // Only the empty path has no fingerprint; it is rare enough to judge afresh.
    if (p.fingerprint === '') return this.judge(set, this.entry(hopsFromFlowPath(p)));
    let entry = this.paths.get(p.fingerprint);
    if (entry === undefined) {
      entry = this.entry(hopsFromFlowPath(p));
      this.paths.set(p.fingerprint, entry);
    } else if (entry.epoch !== this.epoch) {
      entry.combined.clear();
      entry.epoch = this.epoch;
    }
    let result = entry.combined.get(set);
    if (result === undefined) {
      result = this.judge(set, entry);
      entry.combined.set(set, result);
    }
    return result;
  }

  private checkSrv6(set: FenceSet, p: Srv6Path, ctx: FlowContext): FlowCheck {
    if (ctx.unchecked !== undefined) return this.unknown(set, ctx.unchecked, ctx.uncheckedDetail);
    if (p.hops.length === 0) return this.unknown(set, 'noHops');
    // SCION fingerprints are keyed bare; the prefix keeps the two kinds apart.
    const key = `srv6 ${ctx.seenAt ?? 0} ${p.hmac?.status ?? 0} ${p.hmac?.keyId ?? 0} ${p.fingerprint}`;
    let entry = this.paths.get(key);
    if (entry === undefined) {
      entry = { ...this.entry(hopsFromSrv6Path(p)), srv6: srv6Basis(p, ctx.seenAt) };
      this.paths.set(key, entry);
    } else if (entry.epoch !== this.epoch) {
      entry.combined.clear();
      entry.epoch = this.epoch;
    }
    let result = entry.combined.get(set);
    if (result === undefined) {
      result = this.judge(set, entry);
      entry.combined.set(set, result);
    }
    return result;
  }

  /** Forgets every cached path verdict, for when the control plane's path metadata changed. */
  invalidatePaths(): void {
    this.paths.clear();
  }

  stats(): GeofenceEngineStats {
    return { paths: this.paths.size, evaluations: this.evaluations };
  }

  private changed(): void {
    this.ordered = [...this.byName.values()].sort(
      (a, b) => Number(b.fence.spec.mode === 'enforce') - Number(a.fence.spec.mode === 'enforce') || (a.fence.metadata.name < b.fence.metadata.name ? -1 : 1),
    );
    this.epoch++;
    this.selections = new WeakMap();
    this.sets = new Map();
  }

  private selection(source: WorkloadLabels | undefined, destination: WorkloadLabels | undefined): FenceSet {
    const src = source ?? NOBODY;
    const dst = destination ?? NOBODY;
    let inner = this.selections.get(src);
    if (inner === undefined) {
      inner = new WeakMap();
      this.selections.set(src, inner);
    }
    let set = inner.get(dst);
    if (set === undefined) {
      const states = this.ordered.filter(
        (s) => (source !== undefined && matchesWorkload(s.fence.spec.workloadSelector, source)) || (destination !== undefined && matchesWorkload(s.fence.spec.workloadSelector, destination)),
      );
      const key = states.map((s) => s.generation).join(',');
      set = this.sets.get(key);
      if (set === undefined) {
        set = { states, fences: states.map((s) => s.fence), unknown: new Map() };
        this.sets.set(key, set);
      }
      inner.set(dst, set);
    }
    return set;
  }

  private entry(hops: readonly Hop[]): PathEntry {
    return { hops, byFence: new Map(), combined: new Map(), epoch: this.epoch };
  }

  private unknown(set: FenceSet, why: Unknown, detail?: string): FlowCheck {
    const key = detail === undefined ? why : `${why} ${detail}`;
    let result = set.unknown.get(key);
    if (result === undefined) {
      const reason = detail === undefined ? UNKNOWN_REASON[why] : `${UNKNOWN_REASON[why]} (${detail})`;
      result = combine(set.states.map((s) => fenceVerdict(s.fence, { verdict: 'UNVERIFIED', reason })));
      set.unknown.set(key, result);
    }
    return result;
  }

  private judge(set: FenceSet, entry: PathEntry): FlowCheck {
    return combine(set.states.map((s) => this.verdict(s, entry)));
  }

  private verdict(s: FenceState, entry: PathEntry): FenceVerdict {
    const name = s.fence.metadata.name;
    const cached = entry.byFence.get(name);
    if (cached !== undefined && cached.generation === s.generation) return cached.verdict;
    this.evaluations++;
    const verdict = fenceVerdict(s.fence, withBasis(evaluate(s.fence.spec, entry.hops, this.countries), entry.srv6));
    entry.byFence.set(name, { generation: s.generation, verdict });
    return verdict;
  }
}

/** An SRv6 evaluation saying what it rests on; a refuted HMAC leaves no path compliant. */
function withBasis(e: Evaluation, srv6: Srv6Basis | undefined): Evaluation {
  if (srv6 === undefined) return e;
  if (e.verdict === 'COMPLIANT' && srv6.refuted !== undefined) return { verdict: 'UNVERIFIED', reason: `${srv6.refuted} (${srv6.basis})` };
  return { ...e, reason: `${e.reason} (${srv6.basis})` };
}

function combine(fences: FenceVerdict[]): FlowCheck {
  return { decision: strongest(fences)!, fences };
}
