// CillionNetworkPolicies compiled for one node's edge: which local endpoints are selected
// by an ingress (egress) policy and so refuse cross-cluster traffic from (to) anyone not
// allowed, which (local identity, peer identity, protocol, port) tuples are allowed, and
// for egress the remote peers' addresses by identity, each entry naming its policy by a
// stable number the ring records carry.
import type { XPolicyKey } from '../../bpf/maps';
import type { IdentityDirectory } from '../../resources/identity_directory';
import { CLUSTER_LABEL, type CillionNetworkPolicy, type PolicyPort, type PolicyRule } from '../../resources/networkpolicy';
import { matchesSelector } from '../../resources/selector';

/** A local endpoint as policies see it: its identity and the labels selectors read (cluster label included). */
export interface PolicyEndpoint {
  identity: number;
  labels: Readonly<Record<string, string>>;
}

export interface XPolicyInputs {
  policies: readonly CillionNetworkPolicy[];
  endpoints: readonly PolicyEndpoint[];
  /** Peer identities of every cluster known, by label selector. */
  peers: IdentityDirectory;
  /** Allow entries at most, over all policies (the xpolicy_allow map's size). */
  maxAllowEntries?: number;
  /** Remote pod addresses at most (the xpolicy_peers map's size). */
  maxPeerAddresses?: number;
}

export type XPolicyProblemReason = 'CatalogueMissing' | 'NoPeerAddress' | 'TooManyEntries';

export interface XPolicyOutcome {
  policy: CillionNetworkPolicy;
  id: number;
  /** Local identities on this node the policy's ingress rules apply to. */
  selected: number[];
  /** Local identities on this node the policy's egress rules apply to. */
  egressSelected: number[];
  /** Allow entries this policy contributed (a tuple another policy claimed first counts there). */
  allowEntries: number;
  /** Peer identities its ingress rules admit. */
  ingressPeers: number[];
  /** Peer identities its egress rules name. */
  egressPeers: number[];
  /** Set when the policy could not be programmed in full (it then admits less, never more). */
  problem?: { reason: XPolicyProblemReason; message: string };
}

export interface XPolicyState {
  selected: Array<[number, number]>;
  allow: Array<[XPolicyKey, number]>;
  egressSelected: Array<[number, number]>;
  /** dstIdentity: the remote peer; srcIdentity: the local sender. */
  egressAllow: Array<[XPolicyKey, number]>;
  /** Remote pod address -> its identity, for the peers egress rules name. */
  peers: Array<[string, number]>;
  outcomes: XPolicyOutcome[];
}

export const MAX_ALLOW_ENTRIES = 262144;
/** xpolicy_peers' size (bpf/include/lib/xpolicy.h). */
export const MAX_PEER_ADDRESSES = 65536;
const IPPROTO: Record<PolicyPort['protocol'], number> = { TCP: 6, UDP: 17, ANY: 0 };

/** Policy numbers that stay the same while a policy (by name) exists; 0 means "no policy". */
export class PolicyIds {
  private readonly ids = new Map<string, number>();
  private next = 1;

  idOf(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.next++;
      this.ids.set(name, id);
    }
    return id;
  }

  nameOf(id: number): string | undefined {
    for (const [name, n] of this.ids) if (n === id) return name;
    return undefined;
  }

  retain(names: ReadonlySet<string>): void {
    for (const n of [...this.ids.keys()]) if (!names.has(n)) this.ids.delete(n);
  }
}

const byName = (a: CillionNetworkPolicy, b: CillionNetworkPolicy): number => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0);

/** (protocol, port) pairs of a rule; 0 is the wildcard for either. */
function portTuples(rule: PolicyRule): Array<[number, number]> {
  if (rule.toPorts.length === 0) return [[0, 0]];
  return rule.toPorts.map((p) => [IPPROTO[p.protocol], p.port ?? 0]);
}

function peersOf(rules: readonly PolicyRule[], peers: IdentityDirectory): number[] {
  return [...new Set(rules.flatMap((r) => r.peers.flatMap((s) => peers.matching(s))))].sort((a, b) => a - b);
}

/** Clusters the policy's peer selectors name by io.cillion.cluster that the directory knows nothing of. */
function unknownClusters(policy: CillionNetworkPolicy, peers: IdentityDirectory): string[] {
  const known = new Set(peers.clusters());
  const rules = [...(policy.spec.ingress ?? []), ...(policy.spec.egress ?? [])];
  const named = rules.flatMap((r) => r.peers.flatMap((s) => s.matchLabels?.[CLUSTER_LABEL] ?? []));
  return [...new Set(named)].filter((c) => !known.has(c)).sort();
}

const tooMany = (what: string): NonNullable<XPolicyOutcome['problem']> => ({ reason: 'TooManyEntries', message: `the datapath's ${what} are full: some allowed peers are refused` });

/** The allow entries of one direction; `full` says when both directions together hold the most the maps take. */
class AllowTable {
  readonly entries = new Map<string, [XPolicyKey, number]>();

  constructor(private readonly full: () => boolean) {}

  add(key: XPolicyKey, outcome: XPolicyOutcome): void {
    const k = `${key.dstIdentity} ${key.srcIdentity} ${key.proto} ${key.dport}`;
    if (this.entries.has(k)) return;
    if (this.full()) {
      outcome.problem ??= tooMany('allow maps');
      return;
    }
    this.entries.set(k, [key, outcome.id]);
    outcome.allowEntries++;
  }
}

export function compileXPolicies(input: XPolicyInputs, ids: PolicyIds): XPolicyState {
  const max = input.maxAllowEntries ?? MAX_ALLOW_ENTRIES;
  const maxPeers = input.maxPeerAddresses ?? MAX_PEER_ADDRESSES;
  const selected = new Map<number, number>();
  const egressSelected = new Map<number, number>();
  const peerAddresses = new Map<string, number>();
  const outcomes: XPolicyOutcome[] = [];
  const full = (): boolean => ingressAllow.entries.size + egressAllow.entries.size >= max;
  const ingressAllow = new AllowTable(full);
  const egressAllow = new AllowTable(full);
  const policies = [...input.policies].sort(byName);
  ids.retain(new Set(policies.map((p) => p.metadata.name)));

  for (const policy of policies) {
    const id = ids.idOf(policy.metadata.name);
    const { endpointSelector, ingress, egress } = policy.spec;
    const outcome: XPolicyOutcome = { policy, id, selected: [], egressSelected: [], allowEntries: 0, ingressPeers: ingress ? peersOf(ingress, input.peers) : [], egressPeers: egress ? peersOf(egress, input.peers) : [] };
    outcomes.push(outcome);
    const missing = unknownClusters(policy, input.peers);
    if (missing.length > 0) {
      // Programmed anyway: the rest of its peers resolve, and the unknown cluster's are refused until its catalogue arrives.
      outcome.problem = { reason: 'CatalogueMissing', message: `no identity catalogue of cluster ${missing.join(', ')}: its workloads match no selector, so they are refused` };
    }
    const local = [...new Set(input.endpoints.filter((e) => matchesSelector(endpointSelector, e.labels)).map((e) => e.identity))].sort((a, b) => a - b);
    // Policies apply in name order: the first to select an endpoint names its denials.
    if (ingress) {
      outcome.selected = local;
      for (const dst of local) if (!selected.has(dst)) selected.set(dst, id);
      for (const rule of ingress) {
        const sources = peersOf([rule], input.peers);
        for (const dst of local) for (const src of sources) for (const [proto, dport] of portTuples(rule)) ingressAllow.add({ dstIdentity: dst, srcIdentity: src, proto, dport }, outcome);
      }
    }
    if (egress) {
      outcome.egressSelected = local;
      for (const src of local) if (!egressSelected.has(src)) egressSelected.set(src, id);
      const unaddressed = new Set<number>();
      for (const rule of egress) {
        const dests = peersOf([rule], input.peers);
        for (const dst of dests) {
          const addresses = input.peers.addressesOf(dst);
          if (addresses.length === 0) unaddressed.add(dst);
          for (const a of addresses) {
            if (peerAddresses.size >= maxPeers && !peerAddresses.has(a)) outcome.problem ??= tooMany('peer addresses');
            else peerAddresses.set(a, dst);
          }
        }
        for (const src of local) for (const dst of dests) for (const [proto, dport] of portTuples(rule)) egressAllow.add({ dstIdentity: dst, srcIdentity: src, proto, dport }, outcome);
      }
      const n = unaddressed.size;
      if (n > 0) outcome.problem ??= { reason: 'NoPeerAddress', message: `${n} peer identit${n === 1 ? 'y has' : 'ies have'} no address in its cluster's catalogue: egress to ${n === 1 ? 'it' : 'them'} is refused` };
    }
  }
  return {
    selected: [...selected],
    allow: [...ingressAllow.entries.values()],
    egressSelected: [...egressSelected],
    egressAllow: [...egressAllow.entries.values()],
    peers: [...peerAddresses],
    outcomes,
  };
}
