// Loader of the SRv6 datapath (bpf/srv6.bpf.c): opens the object with its maps pinned in an
// instance directory under PIN_BASE, typed access to them, and attaches srv6_encap (tc
// egress, ahead of edge_egress) and srv6_endpoint (XDP). Loaded into an edge's own pin
// directory ("edge"), its endpoints, counters and events are that edge's maps: one ring and
// one counter array for SCION and SRv6 alike. A provider node loads its own instance.
import { COUNTERS } from './abi';
import { CODECS, SRV6_CODECS, type MapCodecs } from './codecs';
import { objectFile, PIN_BASE, type CounterTotals, type LoadOptions } from './datapath';
import * as m from './maps';
import { BpfObject, ensureBpffs, TC_DEFAULT_PRIORITY, type BpfMap } from './native';
import { TypedMap } from './typed_map';
import { join } from 'node:path';

/**
 * tc priority of srv6_encap: below the default every other tc program (edge_egress) gets,
 * so a covered packet is encapsulated into SRv6 before the SCION edge sees it, and an
 * uncovered one (TC_ACT_UNSPEC) goes on to edge_egress.
 */
export const SRV6_ENCAP_PRIORITY = TC_DEFAULT_PRIORITY - 1;
/** tc filter handle of srv6_encap. */
export const SRV6_ENCAP_HANDLE = 1;

function typed<K, V>(obj: BpfObject, name: string, c: MapCodecs<K, V>): TypedMap<K, V> {
  return new TypedMap(obj.map(name), c.key, c.value);
}

export interface AttachOptions {
  /** A network namespace path such as /var/run/netns/NAME, entered only for the call. */
  netns?: string;
}

export class Srv6Datapath {
  readonly pinDir: string;
  /** (source identity, IPv4 destination prefix) -> srv6_seglists ids. */
  readonly egress: TypedMap<m.EgressKey, number[]>;
  readonly seglists: TypedMap<number, m.Srv6Seglist>;
  /** SID (IPv6 text) -> its behavior. */
  readonly localSids: TypedMap<string, m.LocalSid>;
  /** Locator prefix -> 1. */
  readonly locators: TypedMap<string, number>;
  readonly tenantRoutes4: TypedMap<m.TenantKey, m.TenantRoute>;
  readonly tenantRoutes6: TypedMap<m.TenantKey, m.TenantRoute>;
  /** Local pods (shared with the edge when loaded into its directory). */
  readonly endpoints: TypedMap<string, m.Endpoint>;
  readonly counters: BpfMap;
  readonly events: BpfMap;

  private constructor(
    readonly obj: BpfObject,
    instance: string,
  ) {
    this.pinDir = join(PIN_BASE, instance);
    this.egress = typed(obj, 'srv6_egress', SRV6_CODECS.srv6_egress);
    this.seglists = typed(obj, 'srv6_seglists', SRV6_CODECS.srv6_seglists);
    this.localSids = typed(obj, 'srv6_local_sids', SRV6_CODECS.srv6_local_sids);
    this.locators = typed(obj, 'srv6_locators', SRV6_CODECS.srv6_locators);
    this.tenantRoutes4 = typed(obj, 'srv6_tenant_routes4', SRV6_CODECS.srv6_tenant_routes4);
    this.tenantRoutes6 = typed(obj, 'srv6_tenant_routes6', SRV6_CODECS.srv6_tenant_routes6);
    this.endpoints = typed(obj, 'endpoints', CODECS.endpoints);
    this.counters = obj.map('counters');
    this.events = obj.map('events');
  }

  /** Loads bpf/build/srv6.bpf.o with its maps pinned (or found pinned) under PIN_BASE/opts.instance. */
  static load(opts: LoadOptions): Srv6Datapath {
    const pinRoot = join(PIN_BASE, opts.instance);
    ensureBpffs(pinRoot);
    const consts: Record<string, Buffer> = { ...opts.consts };
    if (opts.records === false) consts.emit_records = Buffer.alloc(4);
    return new Srv6Datapath(BpfObject.open(opts.file ?? objectFile('srv6'), { pinRoot, consts }), opts.instance);
  }

  /** srv6_encap at tc egress of an uplink, ahead of edge_egress unless `priority` says otherwise. */
  attachEncap(ifindex: number, opts: AttachOptions & { priority?: number } = {}): void {
    this.obj.program('srv6_encap').attachTc(ifindex, 'egress', {
      netns: opts.netns,
      handle: SRV6_ENCAP_HANDLE,
      priority: opts.priority ?? SRV6_ENCAP_PRIORITY,
    });
  }

  detachEncap(ifindex: number, opts: AttachOptions & { priority?: number } = {}): void {
    this.obj.program('srv6_encap').detachTc(ifindex, 'egress', {
      netns: opts.netns,
      handle: SRV6_ENCAP_HANDLE,
      priority: opts.priority ?? SRV6_ENCAP_PRIORITY,
    });
  }

  /** srv6_endpoint as the device's XDP program, replacing what is there. */
  attachEndpoint(ifindex: number, opts: AttachOptions = {}): void {
    this.obj.program('srv6_endpoint').attachXdp(ifindex, { netns: opts.netns });
  }

  detachEndpoint(ifindex: number, opts: AttachOptions = {}): void {
    this.obj.program('srv6_endpoint').detachXdp(ifindex, { netns: opts.netns });
  }

  /** Packets and bytes per counter slot, summed over CPUs; slots never hit are left out. */
  counterTotals(): CounterTotals {
    return m.counterTotals(this.counters);
  }

  counter(name: keyof typeof COUNTERS): bigint {
    return this.counterTotals()[name]?.packets ?? 0n;
  }

  /** Unloads the object; attachments stay until detached, pinned maps stay for the next load. */
  close(): void {
    this.obj.close();
  }
}
