// The envelope every Cillion resource shares with Kubernetes objects: apiVersion, kind,
// metadata, spec (status belongs to the operator and is never read as desired state).
import { asRecord, optStr, rejectUnknown, reqField, reqStr, stringMap, type Fields } from './fields';
import { fieldPath, type Problems } from './problems';

export const API_GROUP = 'cillion.io';
export const API_VERSION_NAME = 'v1alpha1';
export const API_VERSION = `${API_GROUP}/${API_VERSION_NAME}` as const;

export const KINDS = ['WANPathPolicy', 'Geofence', 'ClusterAS', 'RemoteCluster', 'CillionNetworkPolicy', 'SRv6Tenant', 'SRv6PathPolicy'] as const;
export type Kind = (typeof KINDS)[number];

export function isKind(v: unknown): v is Kind {
  return typeof v === 'string' && (KINDS as readonly string[]).includes(v);
}

/**
 * Every kind is cluster-scoped: a policy or fence reaches workloads in many namespaces
 * through its selectors, and a cluster's AS and its peers are cluster-wide facts.
 */
export const CLUSTER_SCOPED: ReadonlySet<Kind> = new Set(KINDS);

/** The CRD plural (resource) name of each kind, used for URLs and status file folders. */
export const PLURALS: Readonly<Record<Kind, string>> = {
  WANPathPolicy: 'wanpathpolicies',
  Geofence: 'geofences',
  ClusterAS: 'clusterases',
  RemoteCluster: 'remoteclusters',
  CillionNetworkPolicy: 'cillionnetworkpolicies',
  SRv6Tenant: 'srv6tenants',
  SRv6PathPolicy: 'srv6pathpolicies',
};

export interface ObjectMeta {
  name: string;
  /** '' for cluster-scoped kinds. */
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Set by the API server (or the directory source); bumped when the spec changes. */
  generation?: number;
  resourceVersion?: string;
  uid?: string;
}

export interface Resource<K extends Kind, S> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: ObjectMeta;
  spec: S;
}

const TOP_LEVEL = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];
const MAX_NAME = 253;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes object names (RFC 1123 subdomain): the form every CR name must have. */
export function objectNameProblem(name: string): string | undefined {
  if (name.length > 0 && name.length <= MAX_NAME && DNS_SUBDOMAIN.test(name)) return undefined;
  return `"${name}" is not a valid name: lowercase letters, digits, '-' and '.', starting and ending alphanumeric, at most ${MAX_NAME} characters`;
}

function readMeta(ps: Problems, v: unknown, kind: Kind): ObjectMeta | undefined {
  const m = asRecord(ps, v, 'metadata');
  if (!m) return undefined;
  // Other metadata fields (managedFields, creationTimestamp, ...) come from the API server and are not ours to judge.
  const name = reqStr(ps, m, 'name', 'metadata');
  const badName = name === undefined ? undefined : objectNameProblem(name);
  if (badName) ps.add('metadata.name', badName);
  const namespace = optStr(ps, m, 'namespace', 'metadata') ?? '';
  if (namespace !== '' && CLUSTER_SCOPED.has(kind)) ps.add('metadata.namespace', `${kind} is cluster-scoped and takes no namespace`);
  const labels = m.labels === undefined ? {} : stringMap(ps, m.labels, 'metadata.labels');
  const annotations = m.annotations === undefined ? {} : stringMap(ps, m.annotations, 'metadata.annotations');
  const generation = typeof m.generation === 'number' && Number.isInteger(m.generation) ? m.generation : undefined;
  const resourceVersion = typeof m.resourceVersion === 'string' ? m.resourceVersion : undefined;
  const uid = typeof m.uid === 'string' ? m.uid : undefined;
  if (name === undefined) return undefined;
  return {
    name,
    namespace,
    labels,
    annotations,
    ...(generation !== undefined ? { generation } : {}),
    ...(resourceVersion !== undefined ? { resourceVersion } : {}),
    ...(uid !== undefined ? { uid } : {}),
  };
}

/** Checks apiVersion, kind and metadata; returns the metadata and the raw spec for the kind's own validator. */
export function readEnvelope(ps: Problems, obj: unknown, kind: Kind): { metadata?: ObjectMeta; spec?: Fields } {
  const o = asRecord(ps, obj, '');
  if (!o) return {};
  rejectUnknown(ps, o, '', TOP_LEVEL);
  const apiVersion = reqStr(ps, o, 'apiVersion', '');
  if (apiVersion !== undefined && apiVersion !== API_VERSION) ps.add('apiVersion', `must be ${API_VERSION}, not "${apiVersion}"`);
  const k = reqStr(ps, o, 'kind', '');
  if (k !== undefined && k !== kind) ps.add('kind', `must be ${kind}, not "${k}"`);
  const metadata = reqField(ps, o, 'metadata', '') === undefined ? undefined : readMeta(ps, o.metadata, kind);
  const rawSpec = reqField(ps, o, 'spec', '');
  const spec = rawSpec === undefined ? undefined : asRecord(ps, rawSpec, fieldPath('', 'spec'));
  return { metadata, spec };
}
