// Loaders of the two datapath objects (bpf/edge.bpf.c, bpf/router.bpf.c): open with their
// maps pinned under one directory, typed access to every map, attach to devices and
// detach again. A second load with the same pin directory finds the same maps, so an
// agent restart keeps the programmed state and re-attaching replaces the old programs.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { COUNTERS, COUNTER_SLOTS, counterName } from './abi';
import * as m from './maps';
import { BpfObject, ensureBpffs, type BpfMap } from './native';
import { CODECS, type MapCodecs } from './codecs';
import { HopCipher, KeyedConfig, kernelEcbAesDriver, type HopMacReport } from './hop_cipher';
import { kernelCbcAesDriver, SpaoKeyTable, type SpaoReport } from './spao_keys';
import { TypedMap } from './typed_map';
import { repoRoot } from './repo_root';

/** Maps are pinned below this directory, one sub-directory per loaded object. */
export const PIN_BASE = '/sys/fs/bpf/cillion';

/** Where `make` puts the compiled program of bpf/NAME.bpf.c. */
export function objectFile(name: string): string {
  return join(repoRoot(), 'bpf', 'build', `${name}.bpf.o`);
}

export interface LoadOptions {
  /** Directory under PIN_BASE that holds this instance's maps, e.g. "edge" or "router-64-2_0_10". */
  instance: string;
  /** Emit ring records (default true); off only for the benchmark's baseline. */
  records?: boolean;
  /** Object file, default objectFile(<kind>). */
  file?: string;
  /** Other `const volatile` tunables by name (for example ring_wakeup_bytes). */
  consts?: Record<string, Buffer>;
}

function typed<K, V>(obj: BpfObject, name: string, c: MapCodecs<K, V>): TypedMap<K, V> {
  return new TypedMap(obj.map(name), c.key, c.value);
}

export type CounterTotals = Record<string, { packets: bigint; bytes: bigint }>;

/** What edge and router share: the AS config, interfaces, counters and the record ring. */
abstract class Datapath {
  readonly config: TypedMap<0, m.AsConfig>;
  readonly ifindexToIfid: TypedMap<number, number>;
  readonly interfaces: TypedMap<number, m.InterfaceEntry>;
  readonly counters: BpfMap;
  readonly events: BpfMap;
  readonly pinDir: string;

  protected constructor(readonly obj: BpfObject, instance: string, config?: TypedMap<0, m.AsConfig>) {
    this.pinDir = join(PIN_BASE, instance);
    this.config = config ?? typed(obj, 'as_config', CODECS.as_config);
    this.ifindexToIfid = typed(obj, 'ifindex_to_ifid', CODECS.ifindex_to_ifid);
    this.interfaces = typed(obj, 'interfaces', CODECS.interfaces);
    this.counters = obj.map('counters');
    this.events = obj.map('events');
  }

  protected static open(kind: string, opts: LoadOptions): BpfObject {
    const pinRoot = join(PIN_BASE, opts.instance);
    ensureBpffs(pinRoot);
    const consts: Record<string, Buffer> = { ...opts.consts };
    if (opts.records === false) consts.emit_records = Buffer.alloc(4);
    return BpfObject.open(opts.file ?? objectFile(kind), { pinRoot, consts });
  }

  /** Packets and bytes per counter slot, summed over CPUs; slots never hit are left out. */
  counterTotals(): CounterTotals {
    const out: CounterTotals = {};
    for (let i = 1; i < COUNTER_SLOTS; i++) {
      const raw = this.counters.lookup(Buffer.from(Uint32Array.of(i).buffer));
      if (raw === null) continue;
      const t = m.sumCounter(raw, this.counters.possibleCpus);
      if (t.packets > 0n) out[counterName(i)] = t;
    }
    return out;
  }

  counter(name: keyof typeof COUNTERS): bigint {
    return this.counterTotals()[name]?.packets ?? 0n;
  }

  close(): void {
    this.obj.close();
  }
}

export interface EdgeLoadOptions extends LoadOptions {
  /**
   * 'on': SPAO authentication (edge_kfunc.bpf.o): seal every packet to a peer AS, verify
   * every packet from one; where the kernel refuses the crypto kfuncs the edge loads without
   * it and edge.spao says why. 'off' (default): edge.bpf.o, no authentication.
   */
  spao?: 'on' | 'off';
  /** The acceptance window's full width in ns (default 2 s). */
  spaoWindowNs?: bigint;
}

/** Default acceptance window: AbsTime within 1 s either side of the receiver's clock. */
export const SPAO_WINDOW_NS = 2_000_000_000n;

export class EdgeDatapath extends Datapath {
  readonly endpoints: TypedMap<string, m.Endpoint>;
  readonly egressPolicy: TypedMap<m.EgressKey, number[]>;
  readonly paths: TypedMap<number, m.PathEntry>;
  readonly ingressEnforced: TypedMap<number, number>;
  readonly ingressAllow: TypedMap<m.IngressAllowKey, number>;
  readonly xpolicySelected: TypedMap<number, number>;
  readonly xpolicyAllow: TypedMap<m.XPolicyKey, number>;
  readonly xpolicyEgressSelected: TypedMap<number, number>;
  readonly xpolicyEgressAllow: TypedMap<m.XPolicyKey, number>;
  readonly xpolicyPeers: TypedMap<string, number>;

  private constructor(
    obj: BpfObject,
    instance: string,
    /** Whether this edge authenticates, and why not. */
    readonly spao: SpaoReport,
    /** The SPAO keys; undefined when authentication is off. */
    readonly keys?: SpaoKeyTable,
  ) {
    super(obj, instance);
    this.endpoints = typed(obj, 'endpoints', CODECS.endpoints);
    this.egressPolicy = typed(obj, 'egress_policy', CODECS.egress_policy);
    this.paths = typed(obj, 'paths', CODECS.paths);
    this.ingressEnforced = typed(obj, 'ingress_enforced', CODECS.ingress_enforced);
    this.ingressAllow = typed(obj, 'ingress_allow', CODECS.ingress_allow);
    this.xpolicySelected = typed(obj, 'xpolicy_selected', CODECS.xpolicy_selected);
    this.xpolicyAllow = typed(obj, 'xpolicy_allow', CODECS.xpolicy_allow);
    this.xpolicyEgressSelected = typed(obj, 'xpolicy_egress_selected', CODECS.xpolicy_egress_selected);
    this.xpolicyEgressAllow = typed(obj, 'xpolicy_egress_allow', CODECS.xpolicy_egress_allow);
    this.xpolicyPeers = typed(obj, 'xpolicy_peers', CODECS.xpolicy_peers);
  }

  static load(opts: EdgeLoadOptions): EdgeDatapath {
    let reason = 'turned off (--spao off)';
    if (opts.spao === 'on') {
      const on = EdgeDatapath.loadSpao(opts);
      if (on instanceof EdgeDatapath) return on;
      reason = on.message;
    }
    return new EdgeDatapath(Datapath.open('edge', opts), opts.instance, { state: 'off', reason });
  }

  private static loadSpao(opts: EdgeLoadOptions): EdgeDatapath | Error {
    let obj: BpfObject | undefined;
    const windowNs = opts.spaoWindowNs ?? SPAO_WINDOW_NS;
    try {
      if (windowNs <= 0n) throw new RangeError(`acceptance window must be positive, got ${windowNs} ns`);
      const enabled = Buffer.alloc(4);
      enabled.writeUInt32LE(1);
      const window = Buffer.alloc(8);
      window.writeBigUInt64LE(windowNs);
      obj = Datapath.open('edge', { ...opts, file: opts.file ?? objectFile('edge_kfunc'), consts: { ...opts.consts, spao_enabled: enabled, spao_window_ns: window } });
      const keys = new SpaoKeyTable(obj);
      keys.selfTest();
      keys.clear();
      return new EdgeDatapath(obj, opts.instance, { state: 'on', driver: kernelCbcAesDriver() ?? 'unknown', windowNs }, keys);
    } catch (e) {
      obj?.close();
      // Only the SPAO object has these maps; the plain edge must not find them pinned.
      for (const m of ['spao_keys', 'spao_seen']) rmSync(join(PIN_BASE, opts.instance, m), { force: true });
      return e as Error;
    }
  }

  /** tc egress and XDP ingress on an uplink device; replaces programs already there. */
  attach(ifindex: number, netns?: string): void {
    this.obj.program('edge_egress').attachTc(ifindex, 'egress', { netns });
    this.obj.program('edge_ingress').attachXdp(ifindex, { netns });
  }

  detach(ifindex: number, netns?: string): void {
    this.obj.program('edge_egress').detachTc(ifindex, 'egress', { netns });
    this.obj.program('edge_ingress').detachXdp(ifindex, { netns });
  }
}

export interface RouterLoadOptions extends LoadOptions {
  /**
   * 'auto' (default): hop-field MACs through the kernel's BPF crypto kfuncs when the kernel
   * allows them from XDP and passes the self-test, else the table AES; 'table' forces the
   * table AES (the fallback, for tests and comparisons). Unset: CILLION_HOP_MAC=table in
   * the environment forces the fallback too, so whole test suites can run on it.
   */
  hopMac?: 'auto' | 'table';
}

export class RouterDatapath extends Datapath {
  private constructor(
    obj: BpfObject,
    instance: string,
    /** Which hop-field MAC the loaded program runs, and why. */
    readonly hopMac: HopMacReport,
    cipher?: HopCipher,
  ) {
    super(obj, instance, cipher ? new KeyedConfig(typed(obj, 'as_config', CODECS.as_config), cipher) : undefined);
  }

  /** Loads the kfunc router where the kernel takes it (router.hopMac says which loaded). */
  static load(opts: RouterLoadOptions): RouterDatapath {
    const env = process.env.CILLION_HOP_MAC;
    const forced = opts.hopMac === 'table' || (opts.hopMac === undefined && env === 'table');
    let reason = opts.hopMac === 'table' ? 'forced by the loader option' : 'forced by CILLION_HOP_MAC=table';
    if (!forced) {
      const kfunc = RouterDatapath.loadKfunc(opts);
      if (kfunc instanceof RouterDatapath) return kfunc;
      reason = kfunc.message;
    }
    return new RouterDatapath(Datapath.open('router', opts), opts.instance, { method: 'table', reason });
  }

  private static loadKfunc(opts: RouterLoadOptions): RouterDatapath | Error {
    let obj: BpfObject | undefined;
    try {
      obj = Datapath.open('router', { ...opts, file: opts.file ?? objectFile('router_kfunc') });
      const cipher = new HopCipher(obj);
      cipher.selfTest();
      return new RouterDatapath(obj, opts.instance, { method: 'kfunc', driver: kernelEcbAesDriver() ?? 'unknown' }, cipher);
    } catch (e) {
      obj?.close();
      // Only the kfunc object has this map; the table object must not find it pinned.
      rmSync(join(PIN_BASE, opts.instance, 'hop_cipher'), { force: true });
      return e as Error;
    }
  }

  attach(ifindex: number, netns?: string): void {
    this.obj.program('router').attachXdp(ifindex, { netns });
  }

  detach(ifindex: number, netns?: string): void {
    this.obj.program('router').detachXdp(ifindex, { netns });
  }
}
