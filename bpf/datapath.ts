// Loaders of the two datapath objects (bpf/edge.bpf.c, bpf/router.bpf.c): open with their
// maps pinned under one directory, typed access to every map, attach to devices and
// detach again. A second load with the same pin directory finds the same maps, so an
// agent restart keeps the programmed state and re-attaching replaces the old programs.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { COUNTERS, COUNTER_SLOTS, counterName } from './abi';
import * as m from './maps';
import { BpfObject, ensureBpffs, type BpfMap } from './native';
import { TypedMap, type Codec } from './typed_map';

/** Maps are pinned below this directory, one sub-directory per loaded object. */
export const PIN_BASE = '/sys/fs/bpf/cillion';

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
  return dir;
}

/** Where `make` puts the compiled program of bpf/NAME.bpf.c. */
export function objectFile(name: string): string {
  return join(repoRoot(), 'bpf', 'build', `${name}.bpf.o`);
}

const u32: Codec<number> = { encode: m.u32Value, decode: m.decodeU32 };
const config: Codec<m.AsConfig> = { encode: m.configValue, decode: m.decodeConfig };
const ifindex: Codec<number> = { encode: m.ifindexKey, decode: m.decodeU32 };
const ifid: Codec<number> = { encode: m.ifidKey, decode: m.decodeU32 };
const iface: Codec<m.InterfaceEntry> = { encode: m.interfaceValue, decode: m.decodeInterface };
const zeroKey: Codec<0> = { encode: () => Buffer.alloc(4), decode: () => 0 };

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

export type CounterTotals = Record<string, { packets: bigint; bytes: bigint }>;

/** What edge and router share: the AS config, interfaces, counters and the record ring. */
abstract class Datapath {
  readonly config: TypedMap<0, m.AsConfig>;
  readonly ifindexToIfid: TypedMap<number, number>;
  readonly interfaces: TypedMap<number, m.InterfaceEntry>;
  readonly counters: BpfMap;
  readonly events: BpfMap;
  readonly pinDir: string;

  protected constructor(readonly obj: BpfObject, instance: string) {
    this.pinDir = join(PIN_BASE, instance);
    this.config = new TypedMap(obj.map('as_config'), zeroKey, config);
    this.ifindexToIfid = new TypedMap(obj.map('ifindex_to_ifid'), ifindex, u32);
    this.interfaces = new TypedMap(obj.map('interfaces'), ifid, iface);
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

export class EdgeDatapath extends Datapath {
  readonly endpoints: TypedMap<string, m.Endpoint>;
  readonly egressPolicy: TypedMap<m.EgressKey, number[]>;
  readonly paths: TypedMap<number, m.PathEntry>;
  readonly ingressEnforced: TypedMap<number, number>;
  readonly ingressAllow: TypedMap<m.IngressAllowKey, number>;

  private constructor(obj: BpfObject, instance: string) {
    super(obj, instance);
    this.endpoints = new TypedMap(obj.map('endpoints'), { encode: m.endpointKey, decode: m.decodeEndpointKey }, {
      encode: m.endpointValue,
      decode: m.decodeEndpoint,
    });
    this.egressPolicy = new TypedMap<m.EgressKey, number[]>(obj.map('egress_policy'), { encode: m.egressKey, decode: m.decodeEgressKey }, {
      encode: m.egressValue,
      decode: m.decodeEgressValue,
    });
    this.paths = new TypedMap(obj.map('paths'), { encode: m.pathKey, decode: m.decodePathKey }, {
      encode: m.pathValue,
      decode: m.decodePath,
    });
    this.ingressEnforced = new TypedMap(obj.map('ingress_enforced'), { encode: m.identityKey, decode: m.decodeU32 }, u32);
    this.ingressAllow = new TypedMap(
      obj.map('ingress_allow'),
      { encode: m.ingressAllowKey, decode: m.decodeIngressAllowKey },
      u32,
    );
  }

  static load(opts: LoadOptions): EdgeDatapath {
    return new EdgeDatapath(Datapath.open('edge', opts), opts.instance);
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

export class RouterDatapath extends Datapath {
  private constructor(obj: BpfObject, instance: string) {
    super(obj, instance);
  }

  static load(opts: LoadOptions): RouterDatapath {
    return new RouterDatapath(Datapath.open('router', opts), opts.instance);
  }

  attach(ifindex: number, netns?: string): void {
    this.obj.program('router').attachXdp(ifindex, { netns });
  }

  detach(ifindex: number, netns?: string): void {
    this.obj.program('router').detachXdp(ifindex, { netns });
  }
}
