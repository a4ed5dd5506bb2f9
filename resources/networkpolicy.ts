// CillionNetworkPolicy: which remote workloads, by their labels and cluster, may reach the
// selected local workloads over the WAN (ingress), and which remote workloads these may
// reach (egress), on which L4 ports. In the spirit of CiliumNetworkPolicy: an
// endpointSelector for the local side, fromEndpoints/toEndpoints as label selectors over a
// peer's identity labels, where the cluster is the label io.cillion.cluster.
//
// Identity labels are the pod's labels (minus per-pod churn, see identity/labels.ts), the
// namespace as io.kubernetes.pod.namespace, and io.cillion.cluster with the cluster's name.
// A peer selector without io.cillion.cluster matches workloads of every cluster.
import { asRecord, enumOf, int, list, rejectDuplicates, rejectUnknown, reqField, type Fields } from './fields';
import { API_VERSION, readEnvelope, type Resource } from './meta';
import { fieldPath, Problems, type Validation } from './problems';
import { readLabelSelector, type LabelSelector } from './selector';

/** The identity label naming a workload's cluster (its ClusterAS / RemoteCluster name). */
export const CLUSTER_LABEL = 'io.cillion.cluster';

export const POLICY_PROTOCOLS = ['TCP', 'UDP', 'ANY'] as const;
export type PolicyProtocol = (typeof POLICY_PROTOCOLS)[number];

export interface PolicyPort {
  /** ANY with a port: that port over TCP or UDP, the protocols whose ports the datapath reads. */
  protocol: PolicyProtocol;
  /** 1-65535; undefined: every port of the protocol. */
  port?: number;
}

export interface PolicyRule {
  /** Peers: fromEndpoints for ingress, toEndpoints for egress; any one matching suffices. */
  peers: LabelSelector[];
  /** Empty: every protocol and port. */
  toPorts: PolicyPort[];
}

export interface NetworkPolicySpec {
  endpointSelector: LabelSelector;
  /** undefined: the policy says nothing about that direction (selects nothing for it). */
  ingress?: PolicyRule[];
  egress?: PolicyRule[];
}

export type CillionNetworkPolicy = Resource<'CillionNetworkPolicy', NetworkPolicySpec>;

/** Per direction and per rule, so a resource cannot grow the datapath's maps without bound. */
export const MAX_RULES = 64;
export const MAX_PEERS = 64;
export const MAX_PORTS = 64;

function readPort(ps: Problems, v: unknown, path: string): PolicyPort | undefined {
  const o = asRecord(ps, v, path);
  if (!o) return undefined;
  rejectUnknown(ps, o, path, ['port', 'protocol']);
  const before = ps.count;
  const protocol = o.protocol === undefined ? 'ANY' : enumOf(ps, o.protocol, fieldPath(path, 'protocol'), POLICY_PROTOCOLS);
  const port = o.port === undefined ? undefined : int(ps, o.port, fieldPath(path, 'port'), 1, 65535);
  if (ps.count > before || protocol === undefined) return undefined;
  return port === undefined ? { protocol } : { protocol, port };
}

function boundedList(ps: Problems, v: unknown, path: string, max: number): unknown[] {
  const items = list(ps, v, path) ?? [];
  if (items.length > max) ps.add(path, `must list at most ${max} entries, not ${items.length}`);
  return items.slice(0, max);
}

function readRule(ps: Problems, v: unknown, path: string, peersField: 'fromEndpoints' | 'toEndpoints'): PolicyRule | undefined {
  const o: Fields | undefined = asRecord(ps, v, path);
  if (!o) return undefined;
  rejectUnknown(ps, o, path, [peersField, 'toPorts']);
  const before = ps.count;
  const peersAt = fieldPath(path, peersField);
  const rawPeers = reqField(ps, o, peersField, path);
  const peerItems = rawPeers === undefined ? [] : boundedList(ps, rawPeers, peersAt, MAX_PEERS);
  if (Array.isArray(rawPeers) && rawPeers.length === 0) ps.add(peersAt, 'must list at least one selector ({} selects every workload of every cluster)');
  const peers = peerItems.map((p, i) => readLabelSelector(ps, p, fieldPath(peersAt, i)));
  const portsAt = fieldPath(path, 'toPorts');
  const portItems = o.toPorts === undefined ? [] : boundedList(ps, o.toPorts, portsAt, MAX_PORTS);
  const ports = portItems.map((p, i) => readPort(ps, p, fieldPath(portsAt, i)));
  rejectDuplicates(ps, ports, portsAt, (p) => `${p.protocol}/${p.port ?? 'any'}`);
  if (ps.count > before) return undefined;
  return { peers, toPorts: ports as PolicyPort[] };
}

function readRules(ps: Problems, v: unknown, path: string, peersField: 'fromEndpoints' | 'toEndpoints'): PolicyRule[] {
  return boundedList(ps, v, path, MAX_RULES).flatMap((r, i) => readRule(ps, r, fieldPath(path, i), peersField) ?? []);
}

export function readNetworkPolicySpec(ps: Problems, o: Fields, path: string): NetworkPolicySpec | undefined {
  const before = ps.count;
  rejectUnknown(ps, o, path, ['endpointSelector', 'ingress', 'egress']);
  const rawSel = reqField(ps, o, 'endpointSelector', path);
  const endpointSelector = readLabelSelector(ps, rawSel ?? {}, fieldPath(path, 'endpointSelector'));
  const ingress = o.ingress === undefined ? undefined : readRules(ps, o.ingress, fieldPath(path, 'ingress'), 'fromEndpoints');
  const egress = o.egress === undefined ? undefined : readRules(ps, o.egress, fieldPath(path, 'egress'), 'toEndpoints');
  if (ingress === undefined && egress === undefined) ps.add(path, 'needs ingress, egress or both');
  if (ps.count > before) return undefined;
  return { endpointSelector, ...(ingress ? { ingress } : {}), ...(egress ? { egress } : {}) };
}

export function validateNetworkPolicy(obj: unknown): Validation<CillionNetworkPolicy> {
  const ps = new Problems();
  const { metadata, spec: raw } = readEnvelope(ps, obj, 'CillionNetworkPolicy');
  const spec = raw && readNetworkPolicySpec(ps, raw, 'spec');
  return ps.result(metadata && spec && { apiVersion: API_VERSION, kind: 'CillionNetworkPolicy', metadata, spec });
}
