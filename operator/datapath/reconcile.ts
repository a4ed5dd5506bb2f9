// Programs the datapath maps from a DesiredState: for each map, add what is missing,
// update what differs, remove what nothing backs. A key that fails keeps its last good
// value and is retried with backoff on later passes; other keys go ahead.
import { CODECS, type MapCodecs, type MapName } from '../../bpf/codecs';
import type { DesiredState } from './desired';

/** What the reconciler needs of a map: the kernel's TypedMap and MemoryMap both are one. */
export interface MapLike<K, V> {
  get(k: K): V | null;
  set(k: K, v: V): void;
  delete(k: K): boolean;
  entries(): Array<[K, V]>;
}

/** A map in memory with the kernel map's byte-level key identity, for tests and dry runs. */
export class MemoryMap<K, V> implements MapLike<K, V> {
  private readonly store = new Map<string, [Buffer, Buffer]>();

  constructor(private readonly codecs: MapCodecs<K, V>) {}

  get(k: K): V | null {
    const e = this.store.get(this.codecs.key.encode(k).toString('hex'));
    return e ? this.codecs.value.decode(e[1]) : null;
  }

  set(k: K, v: V): void {
    const kb = this.codecs.key.encode(k);
    this.store.set(kb.toString('hex'), [kb, this.codecs.value.encode(v)]);
  }

  delete(k: K): boolean {
    return this.store.delete(this.codecs.key.encode(k).toString('hex'));
  }

  entries(): Array<[K, V]> {
    return [...this.store.values()]
      .sort((a, b) => Buffer.compare(a[0], b[0]))
      .map(([kb, vb]) => [this.codecs.key.decode(kb), this.codecs.value.decode(vb)]);
  }
}

/** The edge maps the operator programs, by map name. */
export interface EdgeMaps {
  as_config: MapLike<0, DesiredState['config'][number][1]>;
  interfaces: MapLike<number, DesiredState['interfaces'][number][1]>;
  ifindex_to_ifid: MapLike<number, number>;
  endpoints: MapLike<string, DesiredState['endpoints'][number][1]>;
  paths: MapLike<number, DesiredState['paths'][number][1]>;
  egress_policy: MapLike<DesiredState['egressPolicy'][number][0], number[]>;
  ingress_enforced: MapLike<number, number>;
  ingress_allow: MapLike<DesiredState['ingressAllow'][number][0], number>;
  xpolicy_selected: MapLike<number, number>;
  xpolicy_allow: MapLike<DesiredState['xpolicyAllow'][number][0], number>;
  xpolicy_egress_selected: MapLike<number, number>;
  xpolicy_egress_allow: MapLike<DesiredState['xpolicyAllow'][number][0], number>;
  xpolicy_peers: MapLike<string, number>;
}

export function memoryEdgeMaps(): EdgeMaps {
  return {
    as_config: new MemoryMap(CODECS.as_config),
    interfaces: new MemoryMap(CODECS.interfaces),
    ifindex_to_ifid: new MemoryMap(CODECS.ifindex_to_ifid),
    endpoints: new MemoryMap(CODECS.endpoints),
    paths: new MemoryMap(CODECS.paths),
    egress_policy: new MemoryMap(CODECS.egress_policy),
    ingress_enforced: new MemoryMap(CODECS.ingress_enforced),
    ingress_allow: new MemoryMap(CODECS.ingress_allow),
    xpolicy_selected: new MemoryMap(CODECS.xpolicy_selected),
    xpolicy_allow: new MemoryMap(CODECS.xpolicy_allow),
    xpolicy_egress_selected: new MemoryMap(CODECS.xpolicy_egress_selected),
    xpolicy_egress_allow: new MemoryMap(CODECS.xpolicy_egress_allow),
    xpolicy_peers: new MemoryMap(CODECS.xpolicy_peers),
  };
}

type Desired = Record<MapName, Array<[unknown, unknown]>>;

function desiredByMap(d: DesiredState): Desired {
  return {
    as_config: d.config,
    interfaces: d.interfaces,
    ifindex_to_ifid: d.ifindexToIfid,
    endpoints: d.endpoints,
    paths: d.paths,
    egress_policy: d.egressPolicy,
    ingress_enforced: d.ingressEnforced,
    ingress_allow: d.ingressAllow,
    xpolicy_selected: d.xpolicySelected,
    xpolicy_allow: d.xpolicyAllow,
    xpolicy_egress_selected: d.xpolicyEgressSelected,
    xpolicy_egress_allow: d.xpolicyEgressAllow,
    xpolicy_peers: d.xpolicyPeers,
  };
}

// Upserts go dependencies first (paths before the policies naming them, allowed paths
// before enforcement switches on, a network policy's allow entries and peers before it
// selects an endpoint); removals go the other way round.
const UPSERT_ORDER: MapName[] = [
  'as_config', 'interfaces', 'ifindex_to_ifid', 'endpoints', 'paths', 'ingress_allow', 'egress_policy', 'ingress_enforced',
  'xpolicy_allow', 'xpolicy_selected', 'xpolicy_peers', 'xpolicy_egress_allow', 'xpolicy_egress_selected',
];
const REMOVE_ORDER: MapName[] = [
  'xpolicy_egress_selected', 'xpolicy_egress_allow', 'xpolicy_peers', 'xpolicy_selected', 'xpolicy_allow',
  'ingress_enforced', 'egress_policy', 'ingress_allow', 'paths', 'endpoints', 'ifindex_to_ifid', 'interfaces',
];

export interface KeyFailure {
  map: string;
  key: string;
  op: 'set' | 'delete';
  error: string;
  attempts: number;
}

export interface ReconcileReport {
  added: number;
  updated: number;
  removed: number;
  unchanged: number;
  failed: KeyFailure[];
  /** Failed keys skipped this pass because their retry is not due yet. */
  deferred: number;
}

export interface ReconcilerOptions {
  now?: () => number;
  /** First retry delay of a failed key; doubles per failure up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
}

/** A set of maps to keep equal to desired entries: each map's codecs and the order to write them in. */
export interface MapSet<N extends string> {
  maps: Record<N, MapLike<unknown, unknown>>;
  codecs: Record<N, MapCodecs<unknown, unknown>>;
  upsertOrder: readonly N[];
  removeOrder: readonly N[];
}

/** The map diff itself, over any set of maps: what Reconciler (the edge) and the SRv6 maps share. */
export class MapReconciler<N extends string> {
  private readonly failures = new Map<string, { attempts: number; dueAt: number }>();
  private readonly now: () => number;
  private readonly retryMs: number;
  private readonly maxRetryMs: number;

  constructor(
    private readonly set: MapSet<N>,
    opts: ReconcilerOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.retryMs = opts.retryMs ?? 500;
    this.maxRetryMs = opts.maxRetryMs ?? 30000;
  }

  /** When the next failed key is due, or null when nothing failed. */
  nextRetryAt(): number | null {
    const due = [...this.failures.values()].map((f) => f.dueAt);
    return due.length === 0 ? null : Math.min(...due);
  }

  apply(want: Record<N, ReadonlyArray<readonly [unknown, unknown]>>): ReconcileReport {
    const report: ReconcileReport = { added: 0, updated: 0, removed: 0, unchanged: 0, failed: [], deferred: 0 };
    const current = new Map<N, Map<string, Buffer>>();
    for (const name of this.set.upsertOrder) {
      const codecs = this.set.codecs[name];
      const map = this.set.maps[name];
      const have = new Map(map.entries().map(([k, v]) => [codecs.key.encode(k).toString('hex'), codecs.value.encode(v)]));
      current.set(name, have);
      for (const [k, v] of want[name]) {
        const kh = codecs.key.encode(k).toString('hex');
        const old = have.get(kh);
        if (old && old.equals(codecs.value.encode(v))) {
          report.unchanged++;
          this.failures.delete(`${name} ${kh}`);
          continue;
        }
        if (this.attempt(report, name, kh, 'set', () => map.set(k, v))) {
          if (old) report.updated++;
          else report.added++;
        }
      }
    }
    for (const name of this.set.removeOrder) {
      const codecs = this.set.codecs[name];
      const map = this.set.maps[name];
      const keep = new Set(want[name].map(([k]) => codecs.key.encode(k).toString('hex')));
      for (const kh of current.get(name)?.keys() ?? []) {
        if (keep.has(kh)) continue;
        const k = codecs.key.decode(Buffer.from(kh, 'hex'));
        if (this.attempt(report, name, kh, 'delete', () => map.delete(k))) report.removed++;
      }
    }
    return report;
  }

  private attempt(report: ReconcileReport, map: N, kh: string, op: 'set' | 'delete', fn: () => unknown): boolean {
    const id = `${map} ${kh}`;
    const failed = this.failures.get(id);
    if (failed && failed.dueAt > this.now()) {
      report.deferred++;
      return false;
    }
    try {
      fn();
      this.failures.delete(id);
      return true;
    } catch (e) {
      const attempts = (failed?.attempts ?? 0) + 1;
      this.failures.set(id, { attempts, dueAt: this.now() + Math.min(this.maxRetryMs, this.retryMs * 2 ** (attempts - 1)) });
      report.failed.push({ map, key: kh, op, error: (e as Error).message, attempts });
      return false;
    }
  }
}

/** The edge's maps kept equal to a DesiredState. */
export class Reconciler {
  private readonly diff: MapReconciler<MapName>;

  constructor(
    readonly maps: EdgeMaps,
    opts: ReconcilerOptions = {},
  ) {
    this.diff = new MapReconciler<MapName>(
      { maps: maps as unknown as Record<MapName, MapLike<unknown, unknown>>, codecs: CODECS as unknown as Record<MapName, MapCodecs<unknown, unknown>>, upsertOrder: UPSERT_ORDER, removeOrder: REMOVE_ORDER },
      opts,
    );
  }

  nextRetryAt(): number | null {
    return this.diff.nextRetryAt();
  }

  apply(desired: DesiredState): ReconcileReport {
    return this.diff.apply(desiredByMap(desired));
  }
}
