// The SRv6 state one node should have: its local SIDs, locator and tenant tables (the far
// edge's End.DT4), and for each SRv6PathPolicy the segment lists its workloads are
// encapsulated with (H.Encaps templates: outer IPv6 + SRH, with an HMAC TLV when asked) and
// the egress entries that pick them. Pure: the catalogue, resources and next hops come in,
// map entries and per-resource outcomes go out (reconcile.ts applies them).
import type { EgressKey, LocalSid, Srv6Seglist, TenantKey, TenantRoute } from '../../bpf/maps';
import { srv6Header } from '../../bpf/maps';
import type { Workload } from '../../identity/workload';
import type { RemoteCluster } from '../../resources/remotecluster';
import { matchesWorkload } from '../../resources/selector';
import type { SRv6PathPolicy } from '../../resources/srv6pathpolicy';
import { resolveTenants, type SRv6Tenant, type TenantConflict } from '../../resources/srv6tenant';
import type { SelectedSegmentList } from '../../resources/status';
import type { SidCatalogue, SidNode } from '../../srv6/catalogue';
import { segmentsFingerprint } from '../../srv6/fingerprint';
import { srhHmac } from '../../srv6/hmac';
import { Srv6Error } from '../../srv6/errors';
import { selectSegmentLists, type SegmentListChoice } from '../../srv6/select';
import { parseSid, sidText } from '../../srv6/sid';
import { encodeSrh, srhOrder } from '../../srv6/srh';
import { workloadLabels } from '../../identity/workload_labels';
import { PathIds } from './desired';
import { MapReconciler, MemoryMap, type MapLike, type ReconcileReport, type ReconcilerOptions } from './reconcile';
import { SRV6_CODECS, type MapCodecs, type Srv6MapName } from '../../bpf/codecs';

/** IPPROTO_IPIP: the SRH's next header when the inner packet is IPv4 (RFC 8986 H.Encaps). */
const NEXT_HEADER_IPV4 = 4;

/** Where packets to a first segment leave this node: the device and the neighbour's MAC. */
export interface Srv6NextHop {
  ifindex: number;
  srcMac: string;
  dstMac: string;
  /** The device's IPv6 MTU: outer headers plus the inner packet. */
  mtu: number;
}

export class Srv6NextHopError extends Error {
  readonly code = 'SRV6_NO_NEXT_HOP';
}

export interface Srv6Inputs {
  catalogue: SidCatalogue;
  /** This node's name in the catalogue. */
  node: string;
  tenants: readonly SRv6Tenant[];
  policies: readonly SRv6PathPolicy[];
  remotes: readonly RemoteCluster[];
  /** Workloads on this node (the encapsulating side). */
  workloads: readonly Workload[];
  /** Every workload of this cluster (the decapsulating side routes to all of its tenant's pods). */
  clusterWorkloads: readonly Workload[];
  /** A workload's identity, undefined when it has none yet. */
  identityOf: (w: Workload) => number | undefined;
  /** The next hop towards a first segment; throws Srv6NextHopError when there is none. Absent: compute only. */
  nextHop?: (firstSegment: string) => Srv6NextHop;
}

/** One destination cluster of one policy, for one tenant of the selected workloads. */
export interface Srv6DestinationOutcome {
  cluster: string;
  tenant: number;
  /** The lists chosen and programmed, best first. */
  lists: SelectedSegmentList[];
  /** Why nothing is programmed towards this destination for this tenant. */
  problem?: { reason: string; message: string };
  identities: number[];
}

export interface Srv6PolicyOutcome {
  policy: SRv6PathPolicy;
  /** Set when the policy cannot be programmed at all. */
  problem?: { reason: string; message: string };
  destinations: Srv6DestinationOutcome[];
  /** Selected pods of this node whose namespace is in no SRv6Tenant: left to SCION. */
  untenanted: number;
}

export interface Srv6TenantOutcome {
  tenant: SRv6Tenant;
  conflict?: TenantConflict;
  /** Pods of the cluster in this tenant's table. */
  routes: number;
}

/** A programmed segment list, for whoever explains flows by segment-list id. */
export interface Srv6ListInUse {
  id: number;
  tenant: number;
  /** SIDs in travel order. */
  segments: string[];
  fingerprint: string;
}

export interface Srv6DesiredState {
  egress: Array<[EgressKey, number[]]>;
  seglists: Array<[number, Srv6Seglist]>;
  localSids: Array<[string, LocalSid]>;
  locators: Array<[string, number]>;
  tenantRoutes4: Array<[TenantKey, TenantRoute]>;
  tenantRoutes6: Array<[TenantKey, TenantRoute]>;
  policies: Srv6PolicyOutcome[];
  tenants: Srv6TenantOutcome[];
  listsInUse: Srv6ListInUse[];
  /** Set when this node cannot take part at all (not in the catalogue, say). */
  problem?: string;
}

const ZERO_MAC = '00:00:00:00:00:00';
const byName = <T extends { metadata: { name: string } }>(a: T, b: T): number => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0);
const isIPv4Prefix = (p: string): boolean => /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(p);

export function emptySrv6Desired(problem?: string): Srv6DesiredState {
  return { egress: [], seglists: [], localSids: [], locators: [], tenantRoutes4: [], tenantRoutes6: [], policies: [], tenants: [], listsInUse: [], ...(problem ? { problem } : {}) };
}

/** The node's own SIDs: End and End.X forward, End.DT4/End.DT6 decapsulate into their VRF. */
function localSids(catalogue: SidCatalogue, node: SidNode, nextHop: Srv6Inputs['nextHop']): Array<[string, LocalSid]> {
  return node.sids.flatMap((s): Array<[string, LocalSid]> => {
    const base = { tenantId: 0, ifindex: 0, srcMac: ZERO_MAC, dstMac: ZERO_MAC };
    if (s.behavior === 'End.DT4' || s.behavior === 'End.DT6') return [[s.sid, { ...base, behavior: s.behavior, tenantId: s.vrf ?? 0 }]];
    if (s.behavior === 'End') return [[s.sid, { ...base, behavior: 'End' }]];
    // End.X forwards to its adjacency: the device and MAC the route to that node's End SID
    // takes. Without one the SID stays unprogrammed (and arrives as an unknown SID).
    const towards = s.adjacency === undefined ? undefined : catalogue.endSid(s.adjacency);
    if (!nextHop || !towards) return [];
    try {
      const hop = nextHop(towards.sid);
      return [[s.sid, { ...base, behavior: 'End.X', ifindex: hop.ifindex, srcMac: hop.srcMac, dstMac: hop.dstMac }]];
    } catch (e) {
      if (e instanceof Srv6NextHopError) return [];
      throw e;
    }
  });
}

/** Every pod of the active tenants' namespaces in this cluster, by its /32 in its tenant's table. */
function tenantRoutes(input: Srv6Inputs, active: readonly SRv6Tenant[]): { routes: Array<[TenantKey, TenantRoute]>; counts: Map<string, number> } {
  const routes: Array<[TenantKey, TenantRoute]> = [];
  const counts = new Map<string, number>();
  for (const t of active) {
    const pods = input.clusterWorkloads.filter((w) => t.spec.namespaces.includes(w.namespace) && w.ip !== '');
    for (const w of pods) routes.push([{ tenantId: t.spec.vrf, prefix: `${w.ip}/32` }, { ifindex: 0, identity: input.identityOf(w) ?? 0 }]);
    counts.set(t.metadata.name, pods.length);
  }
  return { routes, counts };
}

/** Segment-list entries by an id that stays while the list (segments, tenant, HMAC key, next hop) does. */
class SeglistTable {
  readonly entries = new Map<number, Srv6Seglist>();
  readonly inUse = new Map<number, Srv6ListInUse>();
  readonly keys = new Set<string>();

  constructor(private readonly ids: PathIds) {}

  add(key: string, seglist: Srv6Seglist, use: Omit<Srv6ListInUse, 'id'>): number {
    const id = this.ids.idOf(key);
    this.keys.add(key);
    this.entries.set(id, seglist);
    this.inUse.set(id, { id, ...use });
    return id;
  }
}

/**
 * One segment list compiled to its H.Encaps template: the SRH with Segments Left pointing
 * at the first segment and, when a key is given, an HMAC TLV over the source and the list.
 */
export function compileSeglist(source: string, travel: readonly Uint8Array[], hmac?: { keyId: number; key: Uint8Array }): Uint8Array {
  const segments = srhOrder([...travel]);
  const lastEntry = segments.length - 1;
  const mac = hmac ? srhHmac(hmac.key, { source: parseSid(source), lastEntry, flags: 0, keyId: hmac.keyId, segments }) : undefined;
  const srh = encodeSrh({
    nextHeader: NEXT_HEADER_IPV4, segmentsLeft: lastEntry, lastEntry, flags: 0, tag: 0, segments, tlvs: [],
    ...(hmac && mac ? { hmac: { keyId: hmac.keyId, dBit: false, mac } } : {}),
  });
  return srv6Header(source, srh);
}

/** The destination cluster's decapsulating node for a tenant: its first edge node by name with an End.DT4 SID for the VRF. */
function decapNode(catalogue: SidCatalogue, cluster: string, vrf: number): SidNode | undefined {
  return catalogue.edgeNodes(cluster).find((n) => catalogue.dt4Sid(n.name, vrf) !== undefined);
}

interface PolicyContext {
  input: Srv6Inputs;
  self: SidNode;
  tenantOf: Map<string, SRv6Tenant>;
  table: SeglistTable;
  egress: Map<string, [EgressKey, number[]]>;
}

function programPolicy(policy: SRv6PathPolicy, ctx: PolicyContext): Srv6PolicyOutcome {
  const { input, self } = ctx;
  const outcome: Srv6PolicyOutcome = { policy, destinations: [], untenanted: 0 };
  const spec = policy.spec;
  let hmacKey: Uint8Array | undefined;
  if (spec.hmac) {
    hmacKey = input.catalogue.hmacKeys.get(spec.hmac.keyId);
    if (!hmacKey) {
      outcome.problem = { reason: 'UnknownHmacKey', message: `the SID catalogue has no HMAC key ${spec.hmac.keyId}` };
      return outcome;
    }
  }
  const remotes = new Map(input.remotes.map((r) => [r.metadata.name, r]));
  const missing = spec.destinations.find((d) => !remotes.has(d.cluster));
  if (missing) {
    outcome.problem = { reason: 'Unresolvable', message: `spec.destinations: no RemoteCluster named "${missing.cluster}"` };
    return outcome;
  }
  // The selected pods of this node, by the tenant of their namespace.
  const groups = new Map<number, Set<number>>();
  for (const w of input.workloads) {
    if (!matchesWorkload(spec.workloadSelector, workloadLabels(w.namespace, w.labels, w.namespaceLabels))) continue;
    const t = ctx.tenantOf.get(w.namespace);
    const id = input.identityOf(w);
    if (!t) {
      outcome.untenanted++;
      continue;
    }
    if (id === undefined) continue;
    const g = groups.get(t.spec.vrf) ?? new Set<number>();
    g.add(id);
    groups.set(t.spec.vrf, g);
  }
  if (groups.size === 0) {
    // No pod here: choose for the tenants of the namespaces the selector names, so the status still says which lists apply.
    const names = spec.workloadSelector.namespaceSelector.matchLabels['kubernetes.io/metadata.name'];
    const t = names ? ctx.tenantOf.get(names) : undefined;
    for (const vrf of t ? [t.spec.vrf] : [...new Set([...ctx.tenantOf.values()].map((x) => x.spec.vrf))].sort((a, b) => a - b)) groups.set(vrf, new Set());
  }
  for (const dest of spec.destinations) {
    const prefixes = (remotes.get(dest.cluster) as RemoteCluster).spec.prefixes.filter(isIPv4Prefix);
    for (const [vrf, identities] of [...groups].sort((a, b) => a[0] - b[0])) {
      const d: Srv6DestinationOutcome = { cluster: dest.cluster, tenant: vrf, lists: [], identities: [...identities].sort((a, b) => a - b) };
      outcome.destinations.push(d);
      const to = decapNode(input.catalogue, dest.cluster, vrf);
      if (!to) {
        d.problem = { reason: 'NoDecapsulatingSid', message: `no edge node of cluster ${dest.cluster} in the SID catalogue has an End.DT4 SID for VRF ${vrf}` };
        continue;
      }
      let choices: SegmentListChoice[];
      try {
        choices = selectSegmentLists(input.catalogue, { from: self.name, to: to.name, tenantId: vrf, policy: { ...spec.pathPolicy, preference: spec.preference } }).slice(0, spec.lists);
      } catch (e) {
        if (!(e instanceof Srv6Error)) throw e;
        d.problem = { reason: 'BadPathPolicy', message: e.message };
        continue;
      }
      if (choices.length === 0) {
        d.problem = { reason: 'NoSegmentListMatchesPolicy', message: `${dest.cluster} (VRF ${vrf}): no segment list from ${self.name} to ${to.name} meets the path policy` };
        continue;
      }
      const ids: number[] = [];
      for (const c of choices) {
        const segments = c.segments.map((s) => sidText(s));
        let hop: Srv6NextHop = { ifindex: 0, srcMac: ZERO_MAC, dstMac: ZERO_MAC, mtu: 1500 };
        if (input.nextHop) {
          try {
            hop = input.nextHop(segments[0]);
          } catch (e) {
            if (!(e instanceof Srv6NextHopError)) throw e;
            d.problem = { reason: 'NoRouteToFirstSegment', message: e.message };
            continue;
          }
        }
        const header = compileSeglist(self.source as string, c.segments, hmacKey && spec.hmac ? { keyId: spec.hmac.keyId, key: hmacKey } : undefined);
        const fingerprint = segmentsFingerprint(c.segments);
        const key = `${fingerprint} ${vrf} ${spec.hmac?.keyId ?? 0}`;
        ids.push(ctx.table.add(key, { ...hop, tenantId: vrf, header }, { tenant: vrf, segments, fingerprint }));
        d.lists.push({
          destination: dest.cluster, tenant: vrf, segments, nodes: c.nodes.slice(1), countries: [...c.countries],
          latencyMs: c.latencyNs / 1e6, ...(spec.hmac ? { hmacKeyId: spec.hmac.keyId } : {}),
        });
      }
      if (ids.length === 0) continue;
      // The first policy by name to claim an identity and prefix keeps it.
      for (const identity of identities) {
        for (const prefix of prefixes) {
          const k = `${identity} ${prefix}`;
          if (!ctx.egress.has(k)) ctx.egress.set(k, [{ identity, prefix }, ids]);
        }
      }
    }
  }
  return outcome;
}

/** The node's SRv6 state; `ids` keeps segment-list ids stable across recomputes. */
export function buildSrv6Desired(input: Srv6Inputs, ids: PathIds): Srv6DesiredState {
  const self = input.catalogue.node(input.node);
  const { active, conflicts } = resolveTenants(input.tenants);
  if (!self) {
    ids.retain(new Set());
    const out = emptySrv6Desired(`node ${input.node} is not in the SID catalogue`);
    out.tenants = [...input.tenants].sort(byName).map((t) => ({ tenant: t, conflict: conflicts.find((c) => c.tenant === t.metadata.name), routes: 0 }));
    out.policies = [...input.policies].sort(byName).map((policy) => ({ policy, problem: { reason: 'NodeNotInCatalogue', message: out.problem as string }, destinations: [], untenanted: 0 }));
    return out;
  }
  const tenantOf = new Map<string, SRv6Tenant>();
  for (const t of active) for (const ns of t.spec.namespaces) tenantOf.set(ns, t);
  const ctx: PolicyContext = { input, self, tenantOf, table: new SeglistTable(ids), egress: new Map() };
  const policies = self.role === 'edge' && self.source
    ? [...input.policies].sort(byName).map((p) => programPolicy(p, ctx))
    : [...input.policies].sort(byName).map((policy) => ({ policy, problem: { reason: 'NotAnEdgeNode', message: `${self.name} is a ${self.role} node without an encapsulation source` }, destinations: [], untenanted: 0 }));
  const { routes, counts } = tenantRoutes(input, active);
  ids.retain(ctx.table.keys);
  return {
    egress: [...ctx.egress.values()],
    seglists: [...ctx.table.entries].sort((a, b) => a[0] - b[0]),
    localSids: localSids(input.catalogue, self, input.nextHop),
    locators: [[self.locatorText, 1]],
    tenantRoutes4: routes,
    // The pods are IPv4 (Workload.ip); End.DT6 SIDs decapsulate into an empty IPv6 table until they are not.
    tenantRoutes6: [],
    policies,
    tenants: [...input.tenants].sort(byName).map((t) => ({ tenant: t, conflict: conflicts.find((c) => c.tenant === t.metadata.name), routes: counts.get(t.metadata.name) ?? 0 })),
    listsInUse: [...ctx.table.inUse.values()].sort((a, b) => a.id - b.id),
  };
}

/** The SRv6 maps the operator programs, by map name (Srv6Datapath's, or in memory). */
export type Srv6Maps = Record<Srv6MapName, MapLike<unknown, unknown>>;

export function memorySrv6Maps(): Srv6Maps {
  const out = {} as Record<Srv6MapName, MapLike<unknown, unknown>>;
  for (const name of Object.keys(SRV6_CODECS) as Srv6MapName[]) out[name] = new MemoryMap(SRV6_CODECS[name] as MapCodecs<unknown, unknown>);
  return out;
}

// Upserts go dependencies first (a locator before its SIDs, tenant tables before the SIDs
// decapsulating into them, segment lists before the egress entries naming them); removals
// the other way round.
const SRV6_UPSERT: Srv6MapName[] = ['srv6_locators', 'srv6_tenant_routes4', 'srv6_tenant_routes6', 'srv6_local_sids', 'srv6_seglists', 'srv6_egress'];
const SRV6_REMOVE: Srv6MapName[] = [...SRV6_UPSERT].reverse();

/** Keeps a node's SRv6 maps equal to its Srv6DesiredState. */
export class Srv6Reconciler {
  private readonly diff: MapReconciler<Srv6MapName>;

  constructor(readonly maps: Srv6Maps, opts: ReconcilerOptions = {}) {
    this.diff = new MapReconciler<Srv6MapName>({ maps, codecs: SRV6_CODECS as unknown as Record<Srv6MapName, MapCodecs<unknown, unknown>>, upsertOrder: SRV6_UPSERT, removeOrder: SRV6_REMOVE }, opts);
  }

  apply(d: Srv6DesiredState): ReconcileReport {
    return this.diff.apply({
      srv6_egress: d.egress, srv6_seglists: d.seglists, srv6_local_sids: d.localSids, srv6_locators: d.locators,
      srv6_tenant_routes4: d.tenantRoutes4, srv6_tenant_routes6: d.tenantRoutes6,
    });
  }
}
