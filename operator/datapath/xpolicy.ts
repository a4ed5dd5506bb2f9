// CillionNetworkPolicies compiled for one node's edge: which local endpoints are selected
// by an ingress policy (and so refuse cross-cluster traffic by default), and which
// (local identity, peer identity, protocol, port) tuples are allowed, each naming its
// policy by a stable number the ring records carry.
import type { XPolicyKey } from '../../bpf/maps';
import type { IdentityDirectory } from '../identity/directory';
import { CLUSTER_LABEL, type CillionNetworkPolicy, type PolicyPort, type PolicyRule } from '../resources/networkpolicy';
import { matchesSelector } from '../resources/selector';

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
}

export interface XPolicyOutcome {
  policy: CillionNetworkPolicy;
  id: number;
  /** Local identities on this node the policy's ingress rules apply to. */
  selected: number[];
  /** Allow entries this policy contributed (a tuple another policy claimed first counts there). */
  allowEntries: number;
  /** Peer identities its egress rules name; egress is not enforced in the datapath yet. */
  egressPeers: number[];
  /** Set when the policy could not be programmed in full (it then admits less, never more). */
  problem?: string;
}

export interface XPolicyState {
  selected: Array<[number, number]>;
  allow: Array<[XPolicyKey, number]>;
  outcomes: XPolicyOutcome[];
}

export const MAX_ALLOW_ENTRIES = 262144;
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

export function compileXPolicies(input: XPolicyInputs, ids: PolicyIds): XPolicyState {
  const max = input.maxAllowEntries ?? MAX_ALLOW_ENTRIES;
  const selected = new Map<number, number>();
  const allow = new Map<string, [XPolicyKey, number]>();
  const outcomes: XPolicyOutcome[] = [];
  const policies = [...input.policies].sort(byName);
  ids.retain(new Set(policies.map((p) => p.metadata.name)));

  for (const policy of policies) {
    const id = ids.idOf(policy.metadata.name);
    const { endpointSelector, ingress, egress } = policy.spec;
    const outcome: XPolicyOutcome = { policy, id, selected: [], allowEntries: 0, egressPeers: egress ? peersOf(egress, input.peers) : [] };
    outcomes.push(outcome);
    if (!ingress) continue;
    const local = input.endpoints.filter((e) => matchesSelector(endpointSelector, e.labels)).map((e) => e.identity);
    outcome.selected = [...new Set(local)].sort((a, b) => a - b);
    // Policies apply in name order: the first to select an endpoint names its denials.
    for (const dst of outcome.selected) if (!selected.has(dst)) selected.set(dst, id);
    for (const rule of ingress) {
      const sources = peersOf([rule], input.peers);
      for (const dst of outcome.selected) {
        for (const src of sources) {
          for (const [proto, dport] of portTuples(rule)) {
            const k = `${dst} ${src} ${proto} ${dport}`;
            if (allow.has(k)) continue;
            if (allow.size >= max) {
              outcome.problem = `the datapath holds at most ${max} allow entries: some allowed peers are refused`;
              continue;
            }
            allow.set(k, [{ dstIdentity: dst, srcIdentity: src, proto, dport }, id]);
            outcome.allowEntries++;
          }
        }
      }
    }
  }
  return { selected: [...selected], allow: [...allow.values()], outcomes };
}

/** The labels a local endpoint is selected by: its identity labels and its cluster. */
export function endpointLabels(identityLabels: Readonly<Record<string, string>>, cluster: string): Record<string, string> {
  return { ...identityLabels, [CLUSTER_LABEL]: cluster };
}
