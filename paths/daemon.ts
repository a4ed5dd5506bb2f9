// A SCION daemon as a path authority. The daemon hands out paths from its own AS, so the
// relay asks it for the (source, destination) pairs flows name and remembers every path
// it was handed, by hop fields, until some time after the path expired: a flow arriving
// late from a collector's backlog still matches the path it was sent on. A flow into the
// local AS matches when its hop fields are the reverse of a path the daemon hands out (a
// reply, or a path of up and down segments only); other inbound paths the daemon cannot
// vouch for, and they stay not known to the control plane.
import { LRUCache } from 'lru-cache';
import { defaultCountryLookup, type CountryLookup } from '../geo/country';
import type { ControlPlanePath } from '../controlplane/combinator';
import type { ScionPath } from '../proto/gen/flow/flow';
import { formatIA, type IA } from '../scion/isdas';
import { pathFingerprint } from '../scion/path/fingerprint';
import { reversePath } from '../scion/path/reverse';
import type { HopEvidence, PathAuthority } from './authority';
import { describePath } from './describe';
import { hopKey } from './hopfields';

/** What the authority needs of a daemon client (controlplane/daemon_client.ts). */
export interface DaemonPaths {
  readonly address: string;
  local(): Promise<IA>;
  paths(src: IA, dst: IA): Promise<ControlPlanePath[]>;
}

export interface DaemonAuthorityOptions {
  /** Paths remembered at most; default 65536. */
  maxPaths?: number;
  /** How long after its expiry a path still vouches for late flows, seconds; default 86400. */
  graceSeconds?: number;
  /** A pair the daemon was asked about is asked again no sooner than this, ms; default 5000. */
  requeryMs?: number;
  /** Daemon queries one prepare() makes at most; the rest wait for a later batch. Default 8. */
  maxQueries?: number;
  /** Unix seconds; default the system clock. */
  now?: () => number;
  countries?: CountryLookup;
  onError?: (e: Error) => void;
}

interface Remembered {
  path: ScionPath;
  /** Unix seconds after which it vouches for nothing. */
  until: number;
}

/** The same path travelled the other way: reversed hop fields, ASes and metadata. */
export function reverseControlPath(cp: ControlPlanePath): ControlPlanePath {
  const interfaces = [...cp.interfaces].reverse();
  return {
    ...cp,
    src: cp.dst,
    dst: cp.src,
    path: reversePath(cp.path),
    interfaces,
    fingerprint: pathFingerprint(interfaces),
    nextHop: null,
    ases: [...cp.ases].reverse(),
    hopFieldAses: [...cp.hopFieldAses].reverse(),
    latencyMs: [...cp.latencyMs].reverse(),
    bandwidthKbps: [...cp.bandwidthKbps].reverse(),
    geo: [...cp.geo].reverse(),
    linkTypes: [...cp.linkTypes].reverse(),
    linkRelations: [],
    internalHops: [...cp.internalHops].reverse(),
    notes: [...cp.notes].reverse(),
    segments: [],
  };
}

export class DaemonAuthority implements PathAuthority {
  readonly name: string;
  readonly generation = 0;
  private readonly remembered: LRUCache<string, Remembered>;
  private readonly asked: LRUCache<string, number>;
  private readonly grace: number;
  private readonly requeryMs: number;
  private readonly maxQueries: number;
  private readonly now: () => number;
  private readonly countries: CountryLookup;
  private localIA: IA | undefined;
  private localFailedAt = -Infinity;

  constructor(
    private readonly daemon: DaemonPaths,
    private readonly opts: DaemonAuthorityOptions = {},
  ) {
    this.name = `the SCION daemon at ${daemon.address}`;
    this.remembered = new LRUCache({ max: opts.maxPaths ?? 65536 });
    this.asked = new LRUCache({ max: 4096 });
    this.grace = opts.graceSeconds ?? 86400;
    this.requeryMs = opts.requeryMs ?? 5000;
    this.maxQueries = opts.maxQueries ?? 8;
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.countries = opts.countries ?? defaultCountryLookup;
  }

  async prepare(evidence: readonly HopEvidence[]): Promise<void> {
    const local = await this.local();
    if (local === undefined) return;
    const pairs = new Map<string, { src: IA; dst: IA }>();
    for (const e of evidence) {
      if (this.match(e) !== undefined || (e.src !== local && e.dst !== local)) continue;
      const k = `${e.src} ${e.dst}`;
      const last = this.asked.get(k);
      if (last !== undefined && Date.now() - last < this.requeryMs) continue;
      if (pairs.size < this.maxQueries) pairs.set(k, e);
    }
    await Promise.all([...pairs.entries()].map(([k, p]) => this.learn(k, p.src, p.dst, local)));
  }

  match(e: HopEvidence): ScionPath | undefined {
    const r = this.remembered.get(`${e.src} ${e.dst} ${e.key}`);
    return r !== undefined && r.until >= this.now() ? r.path : undefined;
  }

  /** The daemon's AS; asked again after a failure no sooner than the requery interval. */
  private async local(): Promise<IA | undefined> {
    if (this.localIA !== undefined || Date.now() - this.localFailedAt < this.requeryMs) return this.localIA;
    try {
      this.localIA = await this.daemon.local();
    } catch (e) {
      this.localFailedAt = Date.now();
      this.opts.onError?.(e as Error);
    }
    return this.localIA;
  }

  private async learn(k: string, src: IA, dst: IA, local: IA): Promise<void> {
    this.asked.set(k, Date.now());
    const outbound = src === local;
    let found: ControlPlanePath[];
    try {
      found = await this.daemon.paths(outbound ? src : dst, outbound ? dst : src);
    } catch (e) {
      this.opts.onError?.(new Error(`paths ${formatIA(src)} > ${formatIA(dst)}: ${(e as Error).message}`));
      return;
    }
    for (const forward of found) {
      if (forward.path.hopFields.length === 0) continue;
      const cp = outbound ? forward : reverseControlPath(forward);
      this.remembered.set(`${src} ${dst} ${hopKey(cp.path.hopFields)}`, { path: describePath(cp, 0, this.countries), until: cp.expiry + this.grace });
    }
  }
}
