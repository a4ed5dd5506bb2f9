// CillionIdentity: one security identity of a cluster as the operator publishes it on
// Kubernetes, so that agents (which share no file with the operator) can read the
// allocation. Like Cilium's CiliumIdentity the object's name is the number and the labels
// sit beside it; unlike the other kinds it has no spec and no status, since nobody declares
// it: the operator's allocator is its only writer. Agents read these from the API server,
// so the validator treats every field as untrusted and is stricter than the CRD.
import { clusterIdOf, isClusterId, localIdentityOf, RESERVED_IDENTITY_END } from '../identity/cluster_scope';
import { NAMESPACE_LABEL } from '../identity/labels';
import { asRecord, int, rejectUnknown, reqField, reqStr, strings } from './fields';
import { API_VERSION } from './meta';
import { Problems, type Validation } from './problems';

export const IDENTITY_KIND = 'CillionIdentity';
export const IDENTITY_PLURAL = 'cillionidentities';
/** A metadata label with the cluster id, for `kubectl get cillionidentities -l cillion.io/cluster-id=1`. */
export const IDENTITY_CLUSTER_LABEL = 'cillion.io/cluster-id';
/** Bounds on what one object may carry, so a hostile object cannot make an agent hold megabytes. */
export const MAX_SECURITY_LABELS = 64;
export const MAX_SECURITY_LABEL_LENGTH = 512;

export interface CillionIdentity {
  /** The mesh-wide number (metadata.name). */
  id: number;
  clusterId: number;
  /** Sorted "k8s:key=value" labels (identity/labels.ts). */
  labels: string[];
  resourceVersion?: string;
}

const TOP_LEVEL = ['apiVersion', 'kind', 'metadata', 'clusterId', 'securityLabels'];
const LABEL = /^k8s:[^=]+=/;
const CANONICAL_NUMBER = /^[1-9][0-9]{0,7}$/;

/** The object the operator writes for an identity. */
export function cillionIdentityObject(i: { id: number; clusterId: number; labels: readonly string[] }): Record<string, unknown> {
  return {
    apiVersion: API_VERSION,
    kind: IDENTITY_KIND,
    metadata: { name: String(i.id), labels: { [IDENTITY_CLUSTER_LABEL]: String(i.clusterId) } },
    clusterId: i.clusterId,
    securityLabels: [...i.labels],
  };
}

export function validateCillionIdentity(obj: unknown): Validation<CillionIdentity> {
  const ps = new Problems();
  const o = asRecord(ps, obj, '');
  if (!o) return ps.result<CillionIdentity>(undefined);
  rejectUnknown(ps, o, '', TOP_LEVEL);
  if (o.apiVersion !== API_VERSION) ps.add('apiVersion', `must be ${API_VERSION}, not ${JSON.stringify(o.apiVersion)}`);
  if (o.kind !== IDENTITY_KIND) ps.add('kind', `must be ${IDENTITY_KIND}, not ${JSON.stringify(o.kind)}`);
  const rawMeta = reqField(ps, o, 'metadata', '');
  const meta = rawMeta === undefined ? undefined : asRecord(ps, rawMeta, 'metadata');
  const name = meta && reqStr(ps, meta, 'name', 'metadata');
  if (meta?.namespace !== undefined && meta.namespace !== '') ps.add('metadata.namespace', `${IDENTITY_KIND} is cluster-scoped and takes no namespace`);
  const rawCluster = reqField(ps, o, 'clusterId', '');
  const clusterId = rawCluster === undefined ? undefined : int(ps, rawCluster, 'clusterId', 1, 255);
  let id: number | undefined;
  if (name !== undefined) {
    const n = CANONICAL_NUMBER.test(name) ? Number(name) : NaN;
    if (!(n <= 0xffffff) || localIdentityOf(n) < RESERVED_IDENTITY_END || !isClusterId(clusterIdOf(n))) {
      ps.add('metadata.name', `"${name}" is not a cluster-scoped identity (cluster id 1-255 in bits 16-23, local number 256-65535, decimal)`);
    } else if (clusterId !== undefined && clusterIdOf(n) !== clusterId) {
      ps.add('metadata.name', `identity ${n} belongs to cluster id ${clusterIdOf(n)}, not ${clusterId}`);
    } else {
      id = n;
    }
  }
  const rawLabels = reqField(ps, o, 'securityLabels', '');
  const labels = rawLabels === undefined ? [] : strings(ps, rawLabels, 'securityLabels', (l) => {
    if (l.length > MAX_SECURITY_LABEL_LENGTH) return `longer than ${MAX_SECURITY_LABEL_LENGTH} characters`;
    return LABEL.test(l) ? undefined : `"${l}" is not a "k8s:key=value" label`;
  });
  if (Array.isArray(rawLabels)) {
    if (rawLabels.length > MAX_SECURITY_LABELS) ps.add('securityLabels', `more than ${MAX_SECURITY_LABELS} labels`);
    // Sorted and without repeats, as the allocator writes them: one label set, one spelling.
    else if (labels.some((l, i) => i > 0 && labels[i - 1]! >= l)) ps.add('securityLabels', 'must be sorted and without repeats');
    else if (labels.filter((l) => l.startsWith(`k8s:${NAMESPACE_LABEL}=`)).length !== 1) ps.add('securityLabels', `must hold exactly one k8s:${NAMESPACE_LABEL} label`);
  }
  const rv = meta?.resourceVersion;
  return ps.result(id !== undefined && clusterId !== undefined ? { id, clusterId, labels, ...(typeof rv === 'string' ? { resourceVersion: rv } : {}) } : undefined);
}

/** The cluster id an object claims, read leniently: whose it is, even when it is malformed. */
export function claimedClusterId(obj: unknown): number | undefined {
  const c = (obj as { clusterId?: unknown } | null)?.clusterId;
  return typeof c === 'number' && isClusterId(c) ? c : undefined;
}
