// The control-plane face the operator programs paths from. Two implementations share it:
// EmbeddedPathService below, which beacons over a topology file in-process, and a client of
// the SCION daemon's gRPC API (daemon.v1 Paths, AS, Interfaces, NotifyInterfaceDown).
import { formatIA, type IA } from '../scion/isdas';
import { beacon, seededSegIds, type SegIdSource, type SegmentSet } from './beaconing';
import { combine, type ControlPlanePath } from './combinator';
import { formatInterface, loadTopology, type GeoLocation, type InterfaceRef, type LinkTo, type Topology } from './topology';

export interface PathQuery {
  /** Re-beacon before answering (daemon.v1 PathsRequest.refresh). */
  refresh?: boolean;
  /** Return at most this many paths, best first. */
  maxPaths?: number;
}

/** daemon.v1 ASResponse, with the descriptive fields the embedded topology also knows. */
export interface AsInfo {
  ia: IA;
  core: boolean;
  mtu: number;
  name?: string;
  city?: string;
  country?: string;
}

/** daemon.v1 Interface (the underlay), with what the embedded topology also knows. */
export interface InterfaceInfo {
  ifid: number;
  underlay?: string;
  remote?: InterfaceRef;
  linkTo?: LinkTo;
  geo?: GeoLocation;
  /** False after notifyInterfaceDown until the interface is brought up again. */
  up: boolean;
}

export interface PathService {
  /** Paths from src to dst, best first (fewest ASes, then lowest latency). */
  paths(src: IA, dst: IA, opts?: PathQuery): Promise<ControlPlanePath[]>;
  asInfo(ia: IA): Promise<AsInfo>;
  /** The interfaces of `ia` by interface ID (the daemon answers only for its local AS). */
  interfaces(ia: IA): Promise<Map<number, InterfaceInfo>>;
  /** Reports a failed interface; paths across it are no longer returned. */
  notifyInterfaceDown(ia: IA, ifid: number): Promise<void>;
}

export type PathServiceErrorCode = 'UNKNOWN_AS' | 'UNKNOWN_INTERFACE';

export class PathServiceError extends Error {
  override readonly name = 'PathServiceError';
  constructor(
    readonly code: PathServiceErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export interface EmbeddedOptions {
  /** Clock in Unix seconds; defaults to the system clock. */
  now?: () => number;
  /**
   * Seed for the SegIDs, for reproducible tests. Without one, every beaconing round starts
   * at a multiple of the refresh period and seeds its SegIDs from that start, so every
   * process over the same topology builds the same segments in the same period, as the ASes
   * of one SCION network share one set of beacons (a sending and a receiving agent then
   * agree on hop fields).
   */
  seed?: number;
  /**
   * Fraction of the hop-field lifetime after which segments are re-beaconed on the next
   * query (SCION re-originates well before expiry so paths never lapse); default 0.5.
   */
  refreshAfter?: number;
}

export class EmbeddedPathService implements PathService {
  private readonly now: () => number;
  private readonly segIds: SegIdSource | null;
  private readonly refreshAfter: number;
  private readonly down = new Set<string>();
  private current: SegmentSet;

  constructor(
    readonly topology: Topology,
    opts: EmbeddedOptions = {},
  ) {
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.segIds = opts.seed === undefined ? null : seededSegIds(opts.seed);
    this.refreshAfter = opts.refreshAfter ?? 0.5;
    if (!(this.refreshAfter > 0 && this.refreshAfter <= 1)) throw new RangeError(`refreshAfter ${this.refreshAfter} outside (0, 1]`);
    this.current = this.refresh();
  }

  static fromFile(file: string, opts: EmbeddedOptions = {}): EmbeddedPathService {
    return new EmbeddedPathService(loadTopology(file), opts);
  }

  /** Re-beacons now: every segment gets a fresh timestamp, SegID and MACs (shared rounds: those of the current period). */
  refresh(): SegmentSet {
    if (this.segIds) {
      this.current = beacon(this.topology, { timestamp: this.now(), segIds: this.segIds });
      return this.current;
    }
    this.current = this.roundAt(this.roundStart(this.now())!);
    return this.current;
  }

  /** Seconds between shared beaconing rounds; undefined with a fixed seed, whose rounds are not shared. */
  get roundPeriod(): number | undefined {
    return this.segIds ? undefined : Math.max(1, Math.floor(this.topology.segments.lifetimeSeconds * this.refreshAfter));
  }

  /** Start of the shared round that Unix time `t` falls in; undefined with a fixed seed. */
  roundStart(t: number): number | undefined {
    const period = this.roundPeriod;
    return period === undefined ? undefined : Math.floor(t / period) * period;
  }

  /**
   * The segments of the shared round starting at `start` (a multiple of roundPeriod), as
   * every process over this topology builds them; the current segments are not changed.
   */
  roundAt(start: number): SegmentSet {
    if (start === this.current?.timestamp) return this.current;
    return beacon(this.topology, { timestamp: start, segIds: seededSegIds(start) });
  }

  /** The clock the service runs on, Unix seconds. */
  nowSeconds(): number {
    return this.now();
  }

  /** The current segments, re-beaconed first if they are due. */
  segments(): SegmentSet {
    const due = this.current.timestamp + this.topology.segments.lifetimeSeconds * this.refreshAfter;
    if (this.now() >= due) this.refresh();
    return this.current;
  }

  pathsSync(src: IA, dst: IA, opts: PathQuery = {}): ControlPlanePath[] {
    const srcAS = this.as(src);
    this.as(dst);
    if (opts.refresh) this.refresh();
    const now = this.now();
    const found = combine(src, dst, this.segments(), {
      localMtu: srcAS.mtu,
      underlayOf: (ia, ifid) => this.topology.ases.get(ia)?.interfaces.get(ifid)?.underlay,
    }).filter((p) => p.expiry >= now && !p.interfaces.some((i) => this.down.has(formatInterface(i))));
    return opts.maxPaths === undefined ? found : found.slice(0, opts.maxPaths);
  }

  async paths(src: IA, dst: IA, opts: PathQuery = {}): Promise<ControlPlanePath[]> {
    return this.pathsSync(src, dst, opts);
  }

  async asInfo(ia: IA): Promise<AsInfo> {
    const as = this.as(ia);
    return {
      ia,
      core: as.core,
      mtu: as.mtu,
      name: as.name,
      ...(as.city ? { city: as.city } : {}),
      ...(as.country ? { country: as.country } : {}),
    };
  }

  async interfaces(ia: IA): Promise<Map<number, InterfaceInfo>> {
    const as = this.as(ia);
    return new Map(
      [...as.interfaces.values()]
        .sort((a, b) => a.ifid - b.ifid)
        .map((f) => [
          f.ifid,
          {
            ifid: f.ifid,
            ...(f.underlay ? { underlay: f.underlay } : {}),
            remote: f.remote,
            linkTo: f.linkTo,
            ...(f.geo ? { geo: f.geo } : {}),
            up: !this.down.has(formatInterface({ ia, ifid: f.ifid })),
          },
        ]),
    );
  }

  async notifyInterfaceDown(ia: IA, ifid: number): Promise<void> {
    this.setInterfaceState(ia, ifid, false);
  }

  /** Marks an interface down (paths across it disappear) or up again. */
  setInterfaceState(ia: IA, ifid: number, up: boolean): void {
    const intf = this.as(ia).interfaces.get(ifid);
    if (!intf) throw new PathServiceError('UNKNOWN_INTERFACE', `${formatInterface({ ia, ifid })} is not in the topology`);
    // A link fails as a whole, so both of its ends go down together.
    for (const ref of [{ ia, ifid }, intf.remote]) {
      if (up) this.down.delete(formatInterface(ref));
      else this.down.add(formatInterface(ref));
    }
  }

  private as(ia: IA) {
    const as = this.topology.ases.get(ia);
    if (!as) throw new PathServiceError('UNKNOWN_AS', `${formatIA(ia)} is not in the topology`);
    return as;
  }
}
