// The datapath state one node should have, computed from the resources, the node's
// workloads and uplinks, and the control plane's paths: the operator's "internal model"
// between resources and map diffs (reconcile.ts applies it).
import { hopFieldKeyMaterial } from '../../bpf/aes_keys';
import type { AsConfig, EgressKey, Endpoint, IngressAllowKey, InterfaceEntry, PathEntry, XPolicyKey } from '../../bpf/maps';
import { headerTemplate, ingressPathKey, processSourceHop } from '../../bpf/template';
import { allowedForEnforcement } from '../../geofence/enforcement';
import { formatIA, type IA } from '../../scion/isdas';
import { parsePolicy, PathPolicyError, type Policy } from '../../scion/pathpol';
import type { ControlPlanePath } from '../../controlplane/combinator';
import type { PathService } from '../../controlplane/pathservice';
import type { ClusterAS } from '../../resources/clusteras';
import type { IdentityDirectory } from '../../resources/identity_directory';
import { endpointLabels, labelMap } from '../../resources/identity_directory';
import { identityLabels } from '../../identity/labels';
import type { Geofence } from '../../resources/geofence';
import type { CillionNetworkPolicy } from '../../resources/networkpolicy';
import { resolveDestinations, type RemoteCluster, type ResolvedDestination } from '../../resources/remotecluster';
import { matchesWorkload } from '../../resources/selector';
import type { WANPathPolicy } from '../../resources/wanpathpolicy';
import { selectPaths, type Selection } from '../selection/select';
import { workloadLabels, type WorkloadLabels } from '../../identity/workload_labels';
import type { Workload } from '../../identity/workload';
import { IdentityBook } from './identities';
import { compileXPolicies, PolicyIds, type XPolicyOutcome } from './xpolicy';

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

/**
 * The node's desired datapath state, in named steps: the network policies compiled, each
 * path policy programmed (paths, egress claims, its outcome), the receiving side of
 * enforcing fences, then the state assembled. Pure but for the control plane's answers.
 */
export async function buildDesired(input: DesiredInputs, pathIds: PathIds, policyIds: PolicyIds = new PolicyIds()): Promise<DesiredState> {
  const identityOf = identitiesOf(input);
  const xpolicy = networkPolicies(input, identityOf, policyIds);
  const pathsTo = cachedPaths(input.control);
  const table = new PathMapEntries(input, pathIds);
  const egress = new Map<string, [EgressKey, number[]]>();
  const outcomes: PolicyOutcome[] = [];
  for (const policy of [...input.policies].sort(byName)) outcomes.push(await programPolicy(policy, input, identityOf, pathsTo, table, egress));
  const ingress = await enforcedIngress(input, identityOf, pathsTo);
  pathIds.retain(table.fingerprints);
  return {
    config: [[0, { localIA: input.cluster.spec.isdAS, realtimeOffsetNs: input.realtimeOffsetNs, key: input.hopKey ? hopFieldKeyMaterial(input.hopKey) : null }]],
    interfaces: input.uplinks.map(({ ifid, ...entry }) => [ifid, entry]),
    ifindexToIfid: input.uplinks.map((u) => [u.ifindex, u.ifid]),
    endpoints: input.workloads.map((w) => [w.ip, { identity: identityOf(w), ifindex: 0 }]),
    paths: table.entries(),
    egressPolicy: [...egress.values()],
    ingressEnforced: ingress.enforced,
    ingressAllow: ingress.allow,
    xpolicySelected: xpolicy.selected,
    xpolicyAllow: xpolicy.allow,
    xpolicyEgressSelected: xpolicy.egressSelected,
    xpolicyEgressAllow: xpolicy.egressAllow,
    xpolicyPeers: xpolicy.peers,
    outcomes,
    networkPolicyOutcomes: xpolicy.outcomes,
    pathsInUse: table.controlPaths(),
  };
}

type IdentityOf = (w: Workload) => number;
type PathsTo = (src: IA, dst: IA) => Promise<ControlPlanePath[]>;

/** Each workload's identity; a workload without one is a caller's error. */
export function identitiesOf(input: Pick<DesiredInputs, 'identities'>): IdentityOf {
  return (w) => {
    const id = input.identities.get(IdentityBook.key(w));
    if (id === undefined) throw new Error(`no identity for ${IdentityBook.key(w)}`);
    return id;
  };
}

/** The CillionNetworkPolicies compiled for this node's endpoints. */
export function networkPolicies(input: DesiredInputs, identityOf: IdentityOf, policyIds: PolicyIds): ReturnType<typeof compileXPolicies> {
  return compileXPolicies(
    {
      policies: input.networkPolicies,
      endpoints: input.workloads.map((w) => ({ identity: identityOf(w), labels: endpointLabels(labelMap(identityLabels(w.namespace, w.labels)), input.cluster.metadata.name) })),
      peers: input.peers,
    },
    policyIds,
  );
}

/** The control plane's paths between two ASes, asked once per pair. */
export function cachedPaths(control: PathService): PathsTo {
  const cache = new Map<string, Promise<ControlPlanePath[]>>();
  return (src, dst) => {
    const k = `${src}>${dst}`;
    if (!cache.has(k)) cache.set(k, control.paths(src, dst));
    return cache.get(k) as Promise<ControlPlanePath[]>;
  };
}

export const fencesFor = (fences: readonly Geofence[], w: Workload): Geofence[] => fences.filter((f) => matchesWorkload(f.spec.workloadSelector, labelsOf(w)));

/** The paths-map entries: one per path in use, by a path id that stays while the path does. */
export class PathMapEntries {
  private readonly paths = new Map<number, PathEntry>();
  private readonly controls = new Map<number, ControlPlanePath>();
  readonly fingerprints = new Set<string>();
  private readonly uplinks: Map<number, NodeUplink>;

  constructor(private readonly input: Pick<DesiredInputs, 'uplinks' | 'underlayMtu'>, private readonly pathIds: PathIds) {
    this.uplinks = new Map(input.uplinks.map((u) => [u.ifid, u]));
  }

  /** The path's id, or null when its first hop leaves on no uplink of this node. */
  program(cp: ControlPlanePath): number | null {
    const { path, egressIfid } = processSourceHop(cp.path);
    const up = this.uplinks.get(egressIfid);
    if (!up) return null;
    const id = this.pathIds.idOf(cp.fingerprint);
    this.fingerprints.add(cp.fingerprint);
    this.controls.set(id, cp);
    this.paths.set(id, {
      ifindex: up.ifindex, mtu: Math.min(cp.mtu, this.input.underlayMtu), srcMac: up.localMac, dstMac: up.remoteMac,
      srcIp: up.localIp, dstIp: up.remoteIp, srcPort: up.localPort, dstPort: up.remotePort, egressIfid,
      header: headerTemplate(cp.src, cp.dst, path),
    });
    return id;
  }

  entries(): Array<[number, PathEntry]> {
    return [...this.paths].sort((a, b) => a[0] - b[0]);
  }

  controlPaths(): Array<[number, ControlPlanePath]> {
    return [...this.controls].sort((a, b) => a[0] - b[0]);
  }
}

/** The policy's selected workloads, grouped by the fences over them: each group shares one selection. */
export function fenceGroups(policy: WANPathPolicy, input: Pick<DesiredInputs, 'workloads' | 'fences'>, identityOf: IdentityOf): Map<string, { fences: Geofence[]; identities: Set<number> }> {
  const fenceKey = (fs: readonly Geofence[]): string => fs.map((f) => f.metadata.name).sort().join(',');
  const groups = new Map<string, { fences: Geofence[]; identities: Set<number> }>();
  for (const w of input.workloads.filter((x) => matchesWorkload(policy.spec.workloadSelector, labelsOf(x)))) {
    const fs = fencesFor(input.fences, w);
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
  return groups;
}

/**
 * One path policy: its destinations resolved, paths selected per fence group and
 * programmed, and each identity's egress towards each destination prefix claimed (the first
 * policy by name to claim an identity and prefix keeps it).
 */
export async function programPolicy(
  policy: WANPathPolicy,
  input: DesiredInputs,
  identityOf: IdentityOf,
  pathsTo: PathsTo,
  table: PathMapEntries,
  egress: Map<string, [EgressKey, number[]]>,
): Promise<PolicyOutcome> {
  const outcome: PolicyOutcome = { policy, destinations: [] };
  const resolved = resolveDestinations(policy.spec.destinations, [...input.remotes]);
  if (!resolved.ok) {
    outcome.problem = resolved.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
    return outcome;
  }
  let compiled: Policy;
  try {
    compiled = compile(policy, input.policies);
  } catch (e) {
    if (!(e instanceof PathPolicyError)) throw e;
    outcome.problem = e.message;
    return outcome;
  }
  const groups = fenceGroups(policy, input, identityOf);
  for (const dest of resolved.value) {
    const candidates = (await pathsTo(input.cluster.spec.isdAS, dest.isdAS)).filter((p) => p.interfaces.length > 0);
    for (const g of groups.values()) {
      const selection = selectPaths(policy, compiled, candidates, g.fences);
      const ids = selection.selected.map((p) => table.program(p)).filter((id): id is number => id !== null);
      outcome.destinations.push({ destination: dest, selection, identities: [...g.identities].sort((a, b) => a - b) });
      if (ids.length === 0) continue;
      for (const identity of g.identities) {
        for (const prefix of dest.prefixes.filter(isIPv4Prefix)) {
          const k = `${identity} ${prefix}`;
          if (!egress.has(k)) egress.set(k, [{ identity, prefix }, ids]);
        }
      }
    }
  }
  return outcome;
}

/** The receiving side of enforcing fences: only compliant paths from any remote cluster. */
export async function enforcedIngress(
  input: Pick<DesiredInputs, 'workloads' | 'fences' | 'remotes' | 'cluster'>,
  identityOf: IdentityOf,
  pathsTo: PathsTo,
): Promise<{ enforced: Array<[number, number]>; allow: Array<[IngressAllowKey, number]> }> {
  const enforced: Array<[number, number]> = [];
  const allow: Array<[IngressAllowKey, number]> = [];
  for (const w of input.workloads) {
    const enforcing = fencesFor(input.fences, w).filter((f) => f.spec.mode === 'enforce');
    if (enforcing.length === 0) continue;
    const identity = identityOf(w);
    if (enforced.some(([id]) => id === identity)) continue;
    enforced.push([identity, 1]);
    for (const remote of [...input.remotes].sort(byName)) {
      for (const p of await pathsTo(remote.spec.isdAS, input.cluster.spec.isdAS)) {
        if (p.interfaces.length === 0 || !allowedForEnforcement(p, enforcing).allowed) continue;
        allow.push([{ dstIdentity: identity, srcIdentity: 0, pathKey: ingressPathKey(p.path) }, 1]);
      }
    }
  }
  return { enforced, allow };
}

/** A one-line summary of a selection for logs and status messages. */
export function describeSelection(o: PolicyDestinationOutcome): string {
  const s = o.selection;
  return `${formatIA(o.destination.isdAS)}: ${s.selected.length} selected of ${s.candidates} (${s.matchingPolicy} match the policy, ${s.forbidden.length} forbidden by enforcing fences)`;
}
