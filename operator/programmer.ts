// The operator's loop for one node: resources and workloads in, datapath maps and status
// out. It recomputes on every resource change and on a refresh timer (so paths are
// replaced before their hop fields expire and after an interface goes down), reconciles
// the maps, and writes each resource's status conditions.
import { realtimeOffsetNs } from '../bpf/clock';
import { formatIA } from '../scion/isdas';
import type { PathService } from '../controlplane/pathservice';
import { buildDesired, describeSelection, PathIds, type DesiredState, type NodeUplink, type PolicyOutcome } from './datapath/desired';
import { IdentityBook, type WorkloadIdentities } from './datapath/identities';
import { Reconciler, type EdgeMaps, type ReconcileReport } from './datapath/reconcile';
import { groupResources } from './datapath/resources';
import { LocalIdentityDirectory, unionDirectories, type IdentityDirectory } from '../resources/identity_directory';
import { PolicyIds, type XPolicyOutcome } from './datapath/xpolicy';
import { keyString, type ResourceKey } from '../resources/resource';
import { selectedPath, setCondition, type Condition, type ConditionUpdate, type ResourceStatus } from '../resources/status';
import type { ResourceSource, SourceEntry } from '../resources/source';
import type { Workload } from '../identity/workload';
import { isAbsolute, resolve } from 'node:path';
import type { ClusterAS } from '../resources/clusteras';
import type { ResourceSet } from './datapath/resources';
import { loadSidCatalogue } from '../srv6/catalogue';
import { buildSrv6Desired, emptySrv6Desired, memorySrv6Maps, Srv6Reconciler, type Srv6DesiredState, type Srv6Maps, type Srv6NextHop, type Srv6PolicyOutcome, type Srv6TenantOutcome } from './datapath/srv6';

/** This node's part in SRv6 (ClusterAS spec.srv6): its maps and how it reaches first segments. */
export interface Srv6NodeOptions {
  /** The loaded SRv6 datapath's maps; absent: computed into memory (status only). */
  maps?: Srv6Maps;
  /** This node's name in the SID catalogue; default: the cluster's first edge node there, by name. */
  node?: string;
  /** Every pod of the cluster, for the decapsulating side's tenant tables; default: this node's. */
  clusterWorkloads?: () => readonly Workload[];
  nextHop?: (firstSegment: string) => Srv6NextHop;
}

export interface ProgrammerOptions {
  source: ResourceSource;
  /** The workloads on this node, read on every recompute. */
  workloads: () => readonly Workload[];
  control: PathService;
  maps: EdgeMaps;
  uplinks: readonly NodeUplink[];
  /** Each workload's identity: read from the cluster's allocation (IdentityLookup) or allocated here (IdentityBook). */
  identities: WorkloadIdentities;
  /** Other clusters' identities (their catalogues), for network policies' peer selectors; default: none. */
  remoteIdentities?: IdentityDirectory;
  hopKey: Uint8Array | null;
  underlayMtu?: number;
  /** Recompute at least this often (default 30 s), well inside a hop field's lifetime. */
  refreshMs?: number;
  /** Only the leader writes status (asked on every recompute); every node programs its own maps. */
  writeStatus?: boolean | (() => boolean);
  log?: (line: string) => void;
  now?: () => Date;
  /** Told of every recompute's outcome, after the maps are reconciled (the collector's path catalog). */
  onRecompute?: (result: RecomputeResult) => void;
  srv6?: Srv6NodeOptions;
}

export interface RecomputeResult {
  desired: DesiredState;
  report: ReconcileReport;
  /** Null when the cluster uses no SRv6 and no SRv6 resource exists. */
  srv6: { desired: Srv6DesiredState; report: ReconcileReport | null } | null;
}

export class NodeProgrammer {
  private readonly pathIds = new PathIds();
  private readonly srv6Ids = new PathIds();
  private readonly srv6Reconciler: Srv6Reconciler;
  private srv6Logged = '';
  private readonly policyIds = new PolicyIds();
  private loggedProblems = new Map<string, string>();
  private readonly reconciler: Reconciler;
  private readonly statuses = new Map<string, ResourceStatus>();
  private entries: SourceEntry[] = [];
  private stopWatch: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private pending: Promise<RecomputeResult | null> | null = null;
  private again = false;
  private readonly log: (line: string) => void;
  private readonly now: () => Date;

  constructor(private readonly opts: ProgrammerOptions) {
    this.reconciler = new Reconciler(opts.maps);
    this.srv6Reconciler = new Srv6Reconciler(opts.srv6?.maps ?? memorySrv6Maps());
    this.log = opts.log ?? (() => undefined);
    this.now = opts.now ?? (() => new Date());
  }

  /** Watches the source and recomputes on changes and on the refresh timer. */
  start(): void {
    this.stopWatch = this.opts.source.watch(() => {
      void this.opts.source.list().then((entries) => {
        this.entries = entries;
        void this.recompute();
      });
    });
    this.timer = setInterval(() => void this.recompute(), this.opts.refreshMs ?? 30000);
  }

  stop(): void {
    this.stopWatch?.();
    this.stopWatch = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Marks an uplink's link down in the control plane and fails over at once. */
  async interfaceDown(ifid: number): Promise<RecomputeResult | null> {
    const cluster = groupResources(this.entries).clusters[0];
    if (cluster) await this.opts.control.notifyInterfaceDown(cluster.spec.isdAS, ifid);
    return this.recompute();
  }

  /** Reads the source now and recomputes (what start() does on each change). */
  async sync(): Promise<RecomputeResult | null> {
    this.entries = await this.opts.source.list();
    return this.recompute();
  }

  /** One recompute at a time; a request during one runs once more after it. */
  recompute(): Promise<RecomputeResult | null> {
    if (this.pending) {
      this.again = true;
      return this.pending;
    }
    this.pending = this.run().finally(() => {
      this.pending = null;
      if (this.again) {
        this.again = false;
        void this.recompute();
      }
    });
    return this.pending;
  }

  private async run(): Promise<RecomputeResult | null> {
    const set = groupResources(this.entries);
    const cluster = set.clusters[0];
    const ws = this.opts.writeStatus ?? true;
    // Asked when writing: leadership may change while paths are computed.
    const writing = (): boolean => (typeof ws === 'function' ? ws() : ws);
    if (!cluster) {
      this.log('no valid ClusterAS yet: nothing to program');
      // An invalid ClusterAS (a bad clusterId, say) still learns what is wrong with it.
      if (writing()) await this.writeStatuses(null, null);
      return null;
    }
    const all = this.opts.workloads();
    const identities = this.opts.identities.sync(all);
    // A pod the operator has not numbered yet stays unprogrammed until it has (a change of the allocation recomputes).
    const workloads = all.filter((w) => identities.has(IdentityBook.key(w)));
    if (workloads.length < all.length) this.log(`${all.length - workloads.length} of ${all.length} pods wait for their identity from the operator`);
    const desired = await buildDesired(
      {
        cluster, policies: set.policies, fences: set.fences, remotes: set.remotes, workloads,
        networkPolicies: set.networkPolicies, peers: this.peers(cluster.metadata.name),
        identities, uplinks: this.opts.uplinks, control: this.opts.control,
        hopKey: this.opts.hopKey, realtimeOffsetNs: realtimeOffsetNs(), underlayMtu: this.opts.underlayMtu ?? 1472,
      },
      this.pathIds,
      this.policyIds,
    );
    const report = this.reconciler.apply(desired);
    if (report.added + report.updated + report.removed > 0 || report.failed.length > 0) {
      this.log(`programmed: ${report.added} added, ${report.updated} updated, ${report.removed} removed, ${report.failed.length} failed`);
    }
    for (const f of report.failed) this.log(`map ${f.map} ${f.op} ${f.key}: ${f.error} (attempt ${f.attempts}, will retry)`);
    this.logNetworkPolicyProblems(desired);
    const srv6 = this.srv6Pass(cluster, set, workloads, identities);
    if (writing()) await this.writeStatuses(desired, report, srv6);
    const result = { desired, report, srv6 };
    this.opts.onRecompute?.(result);
    return result;
  }

  /**
   * The SRv6 maps from the cluster's SID catalogue. A catalogue that cannot be read keeps the
   * maps as they are (the last good state) and says why in every SRv6 resource's status; a
   * cluster without spec.srv6 has its SRv6 maps emptied.
   */
  private srv6Pass(cluster: ClusterAS, set: ResourceSet, workloads: readonly Workload[], identities: ReadonlyMap<string, number>): RecomputeResult['srv6'] {
    const file = cluster.spec.srv6?.catalogue;
    if (file === undefined) {
      if (set.tenants.length + set.srv6Policies.length === 0) return null;
      const desired = unprogrammable(set, 'NoCatalogue', `ClusterAS ${cluster.metadata.name} has no spec.srv6.catalogue`);
      return { desired, report: this.srv6Reconciler.apply(desired) };
    }
    let catalogue;
    try {
      catalogue = loadSidCatalogue(isAbsolute(file) ? file : resolve(file));
    } catch (e) {
      const message = `SID catalogue ${file}: ${(e as Error).message}`;
      if (this.srv6Logged !== message) this.log(message);
      this.srv6Logged = message;
      return { desired: unprogrammable(set, 'CatalogueInvalid', message), report: null };
    }
    const srv6 = this.opts.srv6 ?? {};
    const node = srv6.node ?? catalogue.edgeNodes(cluster.metadata.name)[0]?.name ?? '';
    const view = this.opts.identities.view;
    const desired = buildSrv6Desired({
      catalogue, node, tenants: set.tenants, policies: set.srv6Policies, remotes: set.remotes, workloads,
      clusterWorkloads: srv6.clusterWorkloads?.() ?? workloads,
      identityOf: (w) => identities.get(IdentityBook.key(w)) ?? view.lookupByLabels(w.namespace, w.labels)?.id,
      nextHop: srv6.nextHop,
    }, this.srv6Ids);
    const report = this.srv6Reconciler.apply(desired);
    const line = desired.problem ?? `SRv6 ${node}: ${desired.seglists.length} segment lists, ${desired.egress.length} egress entries, ${desired.localSids.length} local SIDs, ${desired.tenantRoutes4.length} tenant routes`;
    if (line !== this.srv6Logged) this.log(line);
    this.srv6Logged = line;
    for (const f of report.failed) this.log(`map ${f.map} ${f.op} ${f.key}: ${f.error} (attempt ${f.attempts}, will retry)`);
    return { desired, report };
  }

  /** A network policy's problem is logged when it appears or changes, not on every recompute (its status holds it meanwhile). */
  private logNetworkPolicyProblems(desired: DesiredState): void {
    const now = new Map(desired.networkPolicyOutcomes.flatMap((o) => (o.problem ? [[o.policy.metadata.name, o.problem.message] as const] : [])));
    for (const [name, message] of now) if (this.loggedProblems.get(name) !== message) this.log(`CillionNetworkPolicy ${name}: ${message}`);
    for (const name of this.loggedProblems.keys()) if (!now.has(name)) this.log(`CillionNetworkPolicy ${name}: programmed`);
    this.loggedProblems = now;
  }

  private peers(cluster: string): IdentityDirectory {
    const local = new LocalIdentityDirectory(this.opts.identities.view, cluster);
    return this.opts.remoteIdentities ? unionDirectories(local, this.opts.remoteIdentities) : local;
  }

  /** Every resource's Valid condition, and with a desired state each policy's Programmed one. */
  private async writeStatuses(desired: DesiredState | null, report: ReconcileReport | null, srv6: RecomputeResult['srv6'] = null): Promise<void> {
    const outcomes = new Map((desired?.outcomes ?? []).map((o) => [o.policy.metadata.name, o]));
    const srv6Policies = new Map((srv6?.desired.policies ?? []).map((o) => [o.policy.metadata.name, o]));
    const srv6Tenants = new Map((srv6?.desired.tenants ?? []).map((o) => [o.tenant.metadata.name, o]));
    const networkOutcomes = new Map((desired?.networkPolicyOutcomes ?? []).map((o) => [o.policy.metadata.name, o]));
    for (const entry of this.entries) {
      const conditions: ConditionUpdate[] = [];
      const gen = entry.generation;
      let paths: ResourceStatus['paths'];
      let segmentLists: ResourceStatus['segmentLists'];
      if (!entry.result.ok) {
        conditions.push(invalidCondition(entry));
      } else {
        conditions.push({ type: 'Valid', status: 'True', reason: 'Valid', message: '', observedGeneration: gen });
        const outcome = entry.key.kind === 'WANPathPolicy' ? outcomes.get(entry.key.name) : undefined;
        if (outcome && report) {
          conditions.push(programmedCondition(outcome, report, gen));
          paths = outcome.destinations.flatMap((d) => d.selection.selected.map(selectedPath));
        }
        const network = entry.key.kind === 'CillionNetworkPolicy' ? networkOutcomes.get(entry.key.name) : undefined;
        if (network && report) conditions.push(networkProgrammedCondition(network, report, gen));
        const s6 = entry.key.kind === 'SRv6PathPolicy' ? srv6Policies.get(entry.key.name) : undefined;
        if (s6 && srv6) {
          conditions.push(srv6ProgrammedCondition(s6, srv6.report, gen));
          segmentLists = s6.destinations.flatMap((d) => d.lists);
        }
        const tenant = entry.key.kind === 'SRv6Tenant' ? srv6Tenants.get(entry.key.name) : undefined;
        if (tenant) conditions.push(tenantProgrammedCondition(tenant, srv6?.desired.problem, gen));
      }
      await this.write(entry.key, conditions, paths, gen, segmentLists);
    }
  }

  private async write(key: ResourceKey, updates: ConditionUpdate[], paths: ResourceStatus['paths'], gen: number, segmentLists?: ResourceStatus['segmentLists']): Promise<void> {
    const k = keyString(key);
    const prev = this.statuses.get(k);
    let conditions: Condition[] = prev?.conditions ?? [];
    for (const u of updates) conditions = setCondition(conditions, u, this.now());
    const next: ResourceStatus = { observedGeneration: gen, conditions, ...(paths ? { paths } : {}), ...(segmentLists ? { segmentLists } : {}) };
    if (prev && JSON.stringify(prev) === JSON.stringify(next)) return;
    this.statuses.set(k, next);
    try {
      await this.opts.source.writeStatus(key, next);
    } catch (e) {
      this.log(`status of ${k}: ${(e as Error).message}`);
    }
  }

  /** The last status written for a resource. */
  status(key: ResourceKey): ResourceStatus | undefined {
    return this.statuses.get(keyString(key));
  }
}

/** What is wrong with a resource that failed validation, as its Valid condition. */
export function invalidCondition(entry: SourceEntry): ConditionUpdate {
  const msg = entry.result.ok ? '' : entry.result.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  return { type: 'Valid', status: 'False', reason: 'Invalid', message: msg, observedGeneration: entry.generation };
}

const XPOLICY_MAPS = new Set(['xpolicy_selected', 'xpolicy_allow', 'xpolicy_egress_selected', 'xpolicy_egress_allow', 'xpolicy_peers']);

/**
 * A CillionNetworkPolicy's Programmed condition: False while a selector names a cluster whose
 * catalogue is missing, a peer has no address to enforce egress by, or the maps are full or
 * refused a write (it then admits less than it says, never more); True once its entries are in.
 */
export function networkProgrammedCondition(o: XPolicyOutcome, report: ReconcileReport, gen: number): ConditionUpdate {
  if (o.problem) return { type: 'Programmed', status: 'False', reason: o.problem.reason, message: o.problem.message, observedGeneration: gen };
  const failed = report.failed.find((f) => XPOLICY_MAPS.has(f.map));
  if (failed) return { type: 'Programmed', status: 'False', reason: 'MapWriteFailed', message: `${failed.map}: ${failed.error}`, observedGeneration: gen };
  // Cluster-wide figures only: the leader writes what every node's maps say alike.
  const peers = (n: number): string => `${n} peer identit${n === 1 ? 'y' : 'ies'}`;
  const dirs = [
    ...(o.policy.spec.ingress ? [`ingress from ${peers(o.ingressPeers.length)}`] : []),
    ...(o.policy.spec.egress ? [`egress to ${peers(o.egressPeers.length)}`] : []),
  ];
  return { type: 'Programmed', status: 'True', reason: 'Programmed', message: dirs.join(', '), observedGeneration: gen };
}

function programmedCondition(o: PolicyOutcome, report: ReconcileReport, gen: number): ConditionUpdate {
  if (o.problem) return { type: 'Programmed', status: 'False', reason: 'Unresolvable', message: o.problem, observedGeneration: gen };
  const bad = o.destinations.find((d) => d.selection.outcome !== 'Selected');
  if (bad) {
    const s = bad.selection;
    const why =
      s.outcome === 'AllPathsForbidden'
        ? `every path the policy accepts is forbidden by enforcing geofences (${[...new Set(s.forbidden.map((f) => f.blocking.name))].join(', ')}); traffic is not sent over a forbidden path`
        : s.outcome === 'NoPathMatchesPolicy'
          ? `none of ${s.candidates} paths matches the path policy`
          : 'the control plane has no path';
    return { type: 'Programmed', status: 'False', reason: s.outcome, message: `${formatIA(bad.destination.isdAS)}: ${why}`, observedGeneration: gen };
  }
  if (report.failed.some((f) => f.map === 'egress_policy' || f.map === 'paths')) {
    return { type: 'Programmed', status: 'False', reason: 'MapWriteFailed', message: report.failed[0].error, observedGeneration: gen };
  }
  return { type: 'Programmed', status: 'True', reason: 'Programmed', message: o.destinations.map(describeSelection).join('; '), observedGeneration: gen };
}



/** Every SRv6 resource unprogrammable for one reason: the maps emptied, each status saying why. */
function unprogrammable(set: ResourceSet, reason: string, message: string): Srv6DesiredState {
  const d = emptySrv6Desired(message);
  d.policies = set.srv6Policies.map((policy) => ({ policy, problem: { reason, message }, destinations: [], untenanted: 0 }));
  d.tenants = set.tenants.map((tenant) => ({ tenant, routes: 0 }));
  return d;
}

const SRV6_POLICY_MAPS = new Set(['srv6_seglists', 'srv6_egress']);

/**
 * An SRv6PathPolicy's Programmed condition: False when it cannot be programmed (no catalogue,
 * an unknown HMAC key or destination), when some destination has no segment list the path
 * policy accepts (nothing is programmed there: that traffic stays on SCION), or when a map
 * write failed; True with the lists chosen otherwise.
 */
export function srv6ProgrammedCondition(o: Srv6PolicyOutcome, report: ReconcileReport | null, gen: number): ConditionUpdate {
  if (o.problem) return { type: 'Programmed', status: 'False', reason: o.problem.reason, message: o.problem.message, observedGeneration: gen };
  const bad = o.destinations.find((d) => d.problem);
  if (bad?.problem) return { type: 'Programmed', status: 'False', reason: bad.problem.reason, message: bad.problem.message, observedGeneration: gen };
  const failed = report?.failed.find((f) => SRV6_POLICY_MAPS.has(f.map));
  if (failed) return { type: 'Programmed', status: 'False', reason: 'MapWriteFailed', message: `${failed.map}: ${failed.error}`, observedGeneration: gen };
  const lists = o.destinations.map((d) => `${d.cluster} (VRF ${d.tenant}): ${d.lists.map((l) => `${l.segments.join(' > ')} via ${l.countries.join(' ')}${l.latencyMs !== undefined ? `, ${l.latencyMs.toFixed(1)} ms` : ''}`).join('; ')}`);
  const untenanted = o.untenanted > 0 ? `; ${o.untenanted} selected pod(s) in no SRv6Tenant stay on SCION` : '';
  return { type: 'Programmed', status: 'True', reason: 'Programmed', message: `${lists.join('; ')}${untenanted}`, observedGeneration: gen };
}

/** An SRv6Tenant's Programmed condition: False when an earlier tenant holds its namespace or VRF. */
export function tenantProgrammedCondition(o: Srv6TenantOutcome, problem: string | undefined, gen: number): ConditionUpdate {
  if (o.conflict) return { type: 'Programmed', status: 'False', reason: o.conflict.reason, message: o.conflict.message, observedGeneration: gen };
  if (problem) return { type: 'Programmed', status: 'False', reason: 'NotProgrammed', message: problem, observedGeneration: gen };
  return { type: 'Programmed', status: 'True', reason: 'Programmed', message: `VRF ${o.tenant.spec.vrf}: ${o.routes} pod(s) in its table`, observedGeneration: gen };
}
