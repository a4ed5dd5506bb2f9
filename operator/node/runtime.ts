// One node's share of the operator: the control plane the ClusterAS names (or a SCION
// daemon), the edge datapath loaded and attached to this node's uplinks, the programmer
// that keeps its maps equal to the desired state, and the carrier watch that fails over
// when an uplink goes down. `cillion operator --node` and `cillion agent` both run it.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { EdgeDatapath } from '../../bpf/datapath';
import { deriveHopFieldKey } from '../../scion/mac/keys';
import { DaemonPathService } from '../../controlplane/daemon_client';
import { EmbeddedPathService, type PathService } from '../../controlplane/pathservice';
import type { NodeUplink } from '../datapath/desired';
import type { WorkloadIdentities } from '../datapath/identities';
import type { IdentityDirectory } from '../../resources/identity_directory';
import { memoryEdgeMaps, type EdgeMaps } from '../datapath/reconcile';
import { NodeProgrammer, type RecomputeResult } from '../programmer';
import type { ClusterAS } from '../../resources/clusteras';
import type { ResourceSource } from '../../resources/source';
import type { Workload } from '../../identity/workload';
import { LinkWatch } from './linkwatch';
import { deviceInfo, resolveNextHop } from './srv6_nexthop';
import { discoverUplinks, type UplinkSpec } from './uplinks';
import { Srv6Datapath } from '../../bpf/srv6_datapath';
import type { Srv6Maps } from '../datapath/srv6';
import type { Srv6NodeOptions } from '../programmer';

export interface NodeRuntimeOptions {
  source: ResourceSource;
  cluster: ClusterAS;
  /** This node's workloads, read on every recompute. */
  workloads: () => readonly Workload[];
  /** Uplinks to attach to; none: compute and write status only, against maps in memory. */
  uplinks: readonly UplinkSpec[];
  /** Network namespace of the uplink devices: a name under /var/run/netns or a path. */
  netns?: string;
  /** Pin directory under /sys/fs/bpf/cillion. */
  instance: string;
  /** The workloads' identities: the operator's allocation, read (agents) or allocated in this process. */
  identities: WorkloadIdentities;
  /** Other clusters' identities (their catalogues), for network policies' peer selectors. */
  remoteIdentities?: IdentityDirectory;
  /** A SCION daemon's address instead of the ClusterAS's control plane. */
  daemon?: string;
  /** File with the local AS's master key (base64), to check its own hop fields at ingress. */
  masterKeyFile?: string;
  refreshMs: number;
  /** SPAO authentication of the edge (EdgeLoadOptions.spao); default off. */
  spao?: 'on' | 'off';
  /** The SPAO acceptance window's full width in ns; default 2 s. */
  spaoWindowNs?: bigint;
  writeStatus: boolean | (() => boolean);
  log: (line: string) => void;
  onRecompute?: (result: RecomputeResult) => void;
  /**
   * SRv6 on this node (ClusterAS spec.srv6): `uplink` is the device towards its provider
   * edge, where srv6_endpoint runs and encapsulated packets leave; `node` its name in the
   * SID catalogue. Without an uplink SRv6 is computed into memory only.
   */
  srv6?: { uplink?: string; node?: string; clusterWorkloads?: () => readonly Workload[] };
}

/** The SRv6 datapath in the edge's pin directory, and the devices its programs run on. */
interface Srv6Attached {
  dp: Srv6Datapath;
  encapOn: number[];
  endpointOn: number;
}

export class NodeRuntime {
  private links: LinkWatch | null = null;
  private stopped = false;

  private constructor(
    private readonly opts: NodeRuntimeOptions,
    readonly control: PathService,
    readonly datapath: EdgeDatapath | null,
    readonly uplinks: readonly NodeUplink[],
    readonly programmer: NodeProgrammer,
    readonly srv6: Srv6Attached | null = null,
  ) {}

  /** Loads and attaches the datapath (when there are uplinks) and programs it once. */
  static async open(opts: NodeRuntimeOptions): Promise<{ runtime: NodeRuntime; first: RecomputeResult | null }> {
    const { control, hopKey } = controlPlane(opts);
    const netnsName = netnsNameOf(opts.netns);
    let uplinks: NodeUplink[] = [];
    let dp: EdgeDatapath | null = null;
    if (opts.uplinks.length > 0) {
      uplinks = discoverUplinks(opts.cluster, opts.uplinks, netnsName);
      dp = EdgeDatapath.load({ instance: opts.instance, spao: opts.spao, spaoWindowNs: opts.spaoWindowNs });
      opts.log(dp.spao.state === 'on' ? `SPAO authentication on (${dp.spao.driver})` : `SPAO authentication off: ${dp.spao.reason}`);
      for (const u of uplinks) dp.attach(u.ifindex, netnsPathOf(opts.netns));
      opts.log(`edge attached to ${opts.uplinks.map((s) => s.device).join(', ')}${opts.netns ? ` in ${opts.netns}` : ''}`);
    }
    const srv6 = dp ? attachSrv6(opts, uplinks.map((u) => u.ifindex)) : null;
    const netns = netnsNameOf(opts.netns);
    const srv6Options: Srv6NodeOptions = {
      node: opts.srv6?.node,
      clusterWorkloads: opts.srv6?.clusterWorkloads,
      ...(srv6 ? { maps: srv6Maps(srv6.dp), nextHop: (segment: string) => resolveNextHop(segment, { device: opts.srv6?.uplink, netns }) } : {}),
    };
    const programmer = new NodeProgrammer({
      source: opts.source,
      workloads: opts.workloads,
      control,
      maps: dp ? edgeMaps(dp) : memoryEdgeMaps(),
      uplinks,
      identities: opts.identities,
      remoteIdentities: opts.remoteIdentities,
      hopKey,
      refreshMs: opts.refreshMs,
      writeStatus: opts.writeStatus,
      log: opts.log,
      onRecompute: opts.onRecompute,
      srv6: srv6Options,
    });
    const runtime = new NodeRuntime(opts, control, dp, uplinks, programmer, srv6);
    return { runtime, first: await programmer.sync() };
  }

  /** Follows resource changes, the refresh timer and the uplinks' carrier. */
  async start(): Promise<void> {
    this.programmer.start();
    if (this.opts.uplinks.length === 0) return;
    const control = this.control;
    const local = this.opts.cluster.spec.isdAS;
    this.links = new LinkWatch({
      links: this.opts.uplinks,
      netns: netnsNameOf(this.opts.netns),
      onChange: (ifid, up) => {
        this.opts.log(`uplink ${ifid} is ${up ? 'up again' : 'down: failing over'}`);
        // The embedded control plane learns both directions; a SCION daemon relearns an
        // interface that comes back from beaconing by itself.
        if (control instanceof EmbeddedPathService) control.setInterfaceState(local, ifid, up);
        void (up ? this.programmer.recompute() : this.programmer.interfaceDown(ifid));
      },
      onError: (e) => this.opts.log(`uplink watch: ${e.message}`),
    });
    await this.links.start();
  }

  /** Stops following; `detach` also takes the programs off the uplinks (a one-shot run leaves them). */
  async stop(detach: boolean): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.programmer.stop();
    await this.links?.stop();
    if (this.srv6 && detach) {
      for (const ifindex of this.srv6.encapOn) this.srv6.dp.detachEncap(ifindex, { netns: netnsPathOf(this.opts.netns) });
      this.srv6.dp.detachEndpoint(this.srv6.endpointOn, { netns: netnsPathOf(this.opts.netns) });
    }
    this.srv6?.dp.close();
    if (this.datapath && detach) for (const u of this.uplinks) this.datapath.detach(u.ifindex, netnsPathOf(this.opts.netns));
    this.datapath?.close();
    if (this.control instanceof DaemonPathService) this.control.close();
  }
}

function netnsNameOf(netns: string | undefined): string | undefined {
  return netns && !netns.includes('/') ? netns : undefined;
}

function netnsPathOf(netns: string | undefined): string | undefined {
  if (!netns) return undefined;
  return netns.includes('/') ? netns : `/var/run/netns/${netns}`;
}

function controlPlane(opts: NodeRuntimeOptions): { control: PathService; hopKey: Uint8Array | null } {
  const masterKey = opts.masterKeyFile ? Buffer.from(readFileSync(opts.masterKeyFile, 'utf8').trim(), 'base64') : null;
  const cp = opts.cluster.spec.controlPlane;
  if (opts.daemon || cp.kind === 'daemon') {
    return { control: new DaemonPathService(opts.daemon ?? (cp.kind === 'daemon' ? cp.address : '')), hopKey: masterKey ? deriveHopFieldKey(masterKey) : null };
  }
  const file = isAbsolute(cp.topology) ? cp.topology : resolve(cp.topology);
  const control = EmbeddedPathService.fromFile(file);
  return { control, hopKey: masterKey ? deriveHopFieldKey(masterKey) : (control.topology.ases.get(opts.cluster.spec.isdAS)?.hopKey ?? null) };
}

function edgeMaps(dp: EdgeDatapath): EdgeMaps {
  return {
    as_config: dp.config, interfaces: dp.interfaces, ifindex_to_ifid: dp.ifindexToIfid, endpoints: dp.endpoints,
    paths: dp.paths, egress_policy: dp.egressPolicy, ingress_enforced: dp.ingressEnforced, ingress_allow: dp.ingressAllow,
    xpolicy_selected: dp.xpolicySelected, xpolicy_allow: dp.xpolicyAllow,
    xpolicy_egress_selected: dp.xpolicyEgressSelected, xpolicy_egress_allow: dp.xpolicyEgressAllow, xpolicy_peers: dp.xpolicyPeers,
  };
}

/**
 * Loads the SRv6 datapath into the edge's pin directory (sharing its endpoints, counters and
 * ring) when an SRv6 uplink is given: srv6_encap at tc egress of every uplink, ahead of
 * edge_egress (a pod's packet leaves by whichever device the kernel routes it to), and
 * srv6_endpoint as the SRv6 uplink's XDP program.
 */
function attachSrv6(opts: NodeRuntimeOptions, scionUplinks: readonly number[]): Srv6Attached | null {
  const dev = opts.srv6?.uplink;
  if (!dev) return null;
  if (!opts.cluster.spec.srv6) throw new Error(`--srv6-uplink ${dev}: ClusterAS ${opts.cluster.metadata.name} has no spec.srv6.catalogue`);
  const endpointOn = deviceInfo(dev, netnsNameOf(opts.netns)).ifindex;
  const dp = Srv6Datapath.load({ instance: opts.instance });
  const netns = netnsPathOf(opts.netns);
  const encapOn = [...new Set([...scionUplinks, endpointOn])];
  for (const ifindex of encapOn) dp.attachEncap(ifindex, { netns });
  dp.attachEndpoint(endpointOn, { netns });
  opts.log(`SRv6 encap attached ahead of the edge on ifindex ${encapOn.join(', ')}, endpoint on ${dev}${opts.netns ? ` in ${opts.netns}` : ''}`);
  return { dp, encapOn, endpointOn };
}

/** The SRv6 datapath's maps as the reconciler sees them. */
export function srv6Maps(dp: Srv6Datapath): Srv6Maps {
  return {
    srv6_egress: dp.egress, srv6_seglists: dp.seglists, srv6_local_sids: dp.localSids, srv6_locators: dp.locators,
    srv6_tenant_routes4: dp.tenantRoutes4, srv6_tenant_routes6: dp.tenantRoutes6,
  } as unknown as Srv6Maps;
}
