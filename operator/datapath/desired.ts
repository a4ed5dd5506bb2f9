// The datapath state one node should have, computed from the resources, the node's
// workloads and uplinks, and the control plane's paths: the operator's "internal model"
// between resources and map diffs (reconcile.ts applies it).
import { hopFieldKeyMaterial } from '../../bpf/aes_keys';
import type { AsConfig, EgressKey, Endpoint, IngressAllowKey, InterfaceEntry, PathEntry, XPolicyKey } from '../../bpf/maps';
import { headerTemplate, ingressPathKey, processSourceHop } from '../../bpf/template';
import { allowedForEnforcement } from '../../geofence/enforcement';
import { formatIA, type IA } from '../../scion/isdas';
import { parsePolicy, PathPolicyError, type Policy } from '../../scion/pathpol';
import type { ControlPlanePath } from '../controlplane/combinator';
import type { PathService } from '../controlplane/pathservice';
import type { ClusterAS } from '../resources/clusteras';
import type { IdentityDirectory } from '../identity/directory';
import { labelMap } from '../identity/directory';
import { identityLabels } from '../identity/labels';
import type { Geofence } from '../resources/geofence';
import type { CillionNetworkPolicy } from '../resources/networkpolicy';
import { resolveDestinations, type RemoteCluster, type ResolvedDestination } from '../resources/remotecluster';
import { matchesWorkload, type WorkloadLabels } from '../resources/selector';
import type { WANPathPolicy } from '../resources/wanpathpolicy';
import { selectPaths, type Selection } from '../selection/select';
import { workloadLabels } from '../workloads/labels';
import type { Workload } from '../workloads/workload';
import { IdentityBook } from './identities';
import { compileXPolicies, endpointLabels, PolicyIds, type XPolicyOutcome } from './xpolicy';

/** One uplink of this node: the SCION interface and the link's two ends. */
export interface NodeUplink extends InterfaceEntry {
  ifid: number;
}

export interface DesiredInputs {
  cluster: ClusterAS;
  policies: readonly WANPathPolicy[];
  fences: readonly Geofence[];
  remotes: readonly RemoteCluster[];
  networkPolicies: readonly CillionNetworkPolicy[];
  /** Identities of every cluster known, for the network policies' peer selectors. */
  peers: IdentityDirectory;
  /** Workloads on this node. */
  workloads: readonly Workload[];
  /** Identity of each workload, by IdentityBook.key. */
  identities: ReadonlyMap<string, number>;
  uplinks: readonly NodeUplink[];
  control: PathService;
  /** The local AS's hop-field key, for checking its own hop field at ingress; null: none. */
  hopKey: Uint8Array | null;
  realtimeOffsetNs: bigint;
  /** Largest SCION packet the underlay carries (its MTU minus IPv4 and UDP). */
  underlayMtu: number;
}

/** What happened to one policy towards one destination, for its status. */
export interface PolicyDestinationOutcome {
  destination: ResolvedDestination;
  selection: Selection;
  /** Identities the selected paths were programmed for. */
  identities: number[];
}

export interface PolicyOutcome {
  policy: WANPathPolicy;
  /** Set when the policy cannot be programmed at all (unknown destination, bad path policy). */
  problem?: string;
  destinations: PolicyDestinationOutcome[];
}

export interface DesiredState {
  config: Array<[0, AsConfig]>;
  interfaces: Array<[number, InterfaceEntry]>;
  ifindexToIfid: Array<[number, number]>;
  endpoints: Array<[string, Endpoint]>;
  paths: Array<[number, PathEntry]>;
  egressPolicy: Array<[EgressKey, number[]]>;
  ingressEnforced: Array<[number, number]>;
  ingressAllow: Array<[IngressAllowKey, number]>;
  xpolicySelected: Array<[number, number]>;
  xpolicyAllow: Array<[XPolicyKey, number]>;
  xpolicyEgressSelected: Array<[number, number]>;
  xpolicyEgressAllow: Array<[XPolicyKey, number]>;
  xpolicyPeers: Array<[string, number]>;
  outcomes: PolicyOutcome[];
  networkPolicyOutcomes: XPolicyOutcome[];
  /** The control plane's path behind each paths-map entry, for whoever explains flows by path id. */
  pathsInUse: Array<[number, ControlPlanePath]>;
}

/** Path ids that stay the same while a path (by fingerprint) stays in use. */
export class PathIds {
  private readonly ids = new Map<string, number>();
  private next = 1;

  idOf(fingerprint: string): number {
    let id = this.ids.get(fingerprint);
    if (id === undefined) {
      id = this.next++;
      this.ids.set(fingerprint, id);
    }
    return id;
  }

  /** Forgets ids no longer used, so the map does not grow with every path ever seen. */
  retain(used: ReadonlySet<string>): void {
    for (const fp of [...this.ids.keys()]) if (!used.has(fp)) this.ids.delete(fp);
  }
}

const byName = <T extends { metadata: { name: string } }>(a: T, b: T): number => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0);

function compile(policy: WANPathPolicy, all: readonly WANPathPolicy[]): Policy {
  const named = new Map(all.map((p) => [p.metadata.name, p.spec.pathPolicy as unknown]));
  return parsePolicy(policy.spec.pathPolicy, named);
}

const labelsOf = (w: Workload): WorkloadLabels => workloadLabels(w.namespace, w.labels, w.namespaceLabels);

const isIPv4Prefix = (p: string): boolean => /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(p);

export async function buildDesired(input: DesiredInputs, pathIds: PathIds, policyIds: PolicyIds = new PolicyIds()): Promise<DesiredState> {
  const local: IA = input.cluster.spec.isdAS;
  const identityOf = (w: Workload): number => {
    const id = input.identities.get(IdentityBook.key(w));
    if (id === undefined) throw new Error(`no identity for ${IdentityBook.key(w)}`);
    return id;
  };
  const uplinks = new Map(input.uplinks.map((u) => [u.ifid, u]));
  const xpolicy = compileXPolicies(
    {
      policies: input.networkPolicies,
      endpoints: input.workloads.map((w) => ({ identity: identityOf(w), labels: endpointLabels(labelMap(identityLabels(w.namespace, w.labels)), input.cluster.metadata.name) })),
      peers: input.peers,
    },
    policyIds,
  );
  const state: DesiredState = {
    config: [[0, { localIA: local, realtimeOffsetNs: input.realtimeOffsetNs, key: input.hopKey ? hopFieldKeyMaterial(input.hopKey) : null }]],
    interfaces: input.uplinks.map(({ ifid, ...entry }) => [ifid, entry]),
    ifindexToIfid: input.uplinks.map((u) => [u.ifindex, u.ifid]),
    endpoints: input.workloads.map((w) => [w.ip, { identity: identityOf(w), ifindex: 0 }]),
    paths: [],
    egressPolicy: [],
    ingressEnforced: [],
    ingressAllow: [],
    xpolicySelected: xpolicy.selected,
    xpolicyAllow: xpolicy.allow,
    xpolicyEgressSelected: xpolicy.egressSelected,
    xpolicyEgressAllow: xpolicy.egressAllow,
    xpolicyPeers: xpolicy.peers,
    outcomes: [],
    networkPolicyOutcomes: xpolicy.outcomes,
    pathsInUse: [],
  };
  const fencesFor = (w: Workload): Geofence[] => input.fences.filter((f) => matchesWorkload(f.spec.workloadSelector, labelsOf(w)));
  const fenceKey = (fs: readonly Geofence[]): string => fs.map((f) => f.metadata.name).sort().join(',');
  const pathCache = new Map<string, Promise<ControlPlanePath[]>>();
  const pathsTo = (src: IA, dst: IA): Promise<ControlPlanePath[]> => {
    const k = `${src}>${dst}`;
    if (!pathCache.has(k)) pathCache.set(k, input.control.paths(src, dst));
    return pathCache.get(k) as Promise<ControlPlanePath[]>;
  };
  const usedPaths = new Map<number, PathEntry>();
  const usedControlPaths = new Map<number, ControlPlanePath>();
  const usedFingerprints = new Set<string>();
  const egress = new Map<string, [EgressKey, number[]]>();

  const program = (cp: ControlPlanePath): number | null => {
    const { path, egressIfid } = processSourceHop(cp.path);
    const up = uplinks.get(egressIfid);
    if (!up) return null;
    const id = pathIds.idOf(cp.fingerprint);
    usedFingerprints.add(cp.fingerprint);
    usedControlPaths.set(id, cp);
    usedPaths.set(id, {
      ifindex: up.ifindex, mtu: Math.min(cp.mtu, input.underlayMtu), srcMac: up.localMac, dstMac: up.remoteMac,
      srcIp: up.localIp, dstIp: up.remoteIp, srcPort: up.localPort, dstPort: up.remotePort, egressIfid,
      header: headerTemplate(cp.src, cp.dst, path),
    });
    return id;
  };

  for (const policy of [...input.policies].sort(byName)) {
    const outcome: PolicyOutcome = { policy, destinations: [] };
    state.outcomes.push(outcome);
    const resolved = resolveDestinations(policy.spec.destinations, [...input.remotes]);
    if (!resolved.ok) {
      outcome.problem = resolved.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
      continue;
    }
    let compiled: Policy;
    try {
      compiled = compile(policy, input.policies);
    } catch (e) {
      if (!(e instanceof PathPolicyError)) throw e;
      outcome.problem = e.message;
      continue;
    }
    const selected = input.workloads.filter((w) => matchesWorkload(policy.spec.workloadSelector, labelsOf(w)));
    // Workloads under the same fences share one selection.
    const groups = new Map<string, { fences: Geofence[]; identities: Set<number> }>();
    for (const w of selected) {
      const fs = fencesFor(w);
      const g = groups.get(fenceKey(fs)) ?? { fences: fs, identities: new Set<number>() };
      g.identities.add(identityOf(w));
      groups.set(fenceKey(fs), g);
    }
    if (groups.size === 0) {
      // No workload here: select for the labels the policy requires, so its status still
      // says what the fences that would apply allow.
      const sel = policy.spec.workloadSelector;
      const typical = { namespaceLabels: sel.namespaceSelector.matchLabels, podLabels: sel.podSelector.matchLabels };
      groups.set('', { fences: input.fences.filter((f) => matchesWorkload(f.spec.workloadSelector, typical)), identities: new Set() });
    }
    for (const dest of resolved.value) {
      const candidates = (await pathsTo(local, dest.isdAS)).filter((p) => p.interfaces.length > 0);
      for (const g of groups.values()) {
        const selection = selectPaths(policy, compiled, candidates, g.fences);
        const ids = selection.selected.map(program).filter((id): id is number => id !== null);
        outcome.destinations.push({ destination: dest, selection, identities: [...g.identities].sort((a, b) => a - b) });
        if (ids.length === 0) continue;
        for (const identity of g.identities) {
          for (const prefix of dest.prefixes.filter(isIPv4Prefix)) {
            const k = `${identity} ${prefix}`;
            // Policies apply in name order; the first to claim an identity and prefix keeps it.
            if (!egress.has(k)) egress.set(k, [{ identity, prefix }, ids]);
          }
        }
      }
    }
  }

  // The receiving side of enforcing fences: only compliant paths from any remote cluster.
  for (const w of input.workloads) {
    const enforcing = fencesFor(w).filter((f) => f.spec.mode === 'enforce');
    if (enforcing.length === 0) continue;
    const identity = identityOf(w);
    if (state.ingressEnforced.some(([id]) => id === identity)) continue;
    state.ingressEnforced.push([identity, 1]);
    for (const remote of [...input.remotes].sort(byName)) {
      for (const p of await pathsTo(remote.spec.isdAS, local)) {
        if (p.interfaces.length === 0 || !allowedForEnforcement(p, enforcing).allowed) continue;
        state.ingressAllow.push([{ dstIdentity: identity, srcIdentity: 0, pathKey: ingressPathKey(p.path) }, 1]);
      }
    }
  }

  pathIds.retain(usedFingerprints);
  state.paths = [...usedPaths].sort((a, b) => a[0] - b[0]);
  state.pathsInUse = [...usedControlPaths].sort((a, b) => a[0] - b[0]);
  state.egressPolicy = [...egress.values()];
  return state;
}

/** A one-line summary of a selection for logs and status messages. */
export function describeSelection(o: PolicyDestinationOutcome): string {
  const s = o.selection;
  return `${formatIA(o.destination.isdAS)}: ${s.selected.length} selected of ${s.candidates} (${s.matchingPolicy} match the policy, ${s.forbidden.length} forbidden by enforcing fences)`;
}
