// Any Cillion resource: validation by kind, and the key that names one across sources.
import { validateClusterAS, type ClusterAS } from './clusteras';
import { isRecord } from './fields';
import { validateGeofence, type Geofence } from './geofence';
import { validateNetworkPolicy, type CillionNetworkPolicy } from './networkpolicy';
import { API_VERSION, CLUSTER_SCOPED, isKind, KINDS, type Kind } from './meta';
import type { Validation } from './problems';
import { validateRemoteCluster, type RemoteCluster } from './remotecluster';
import { validateSRv6PathPolicy, type SRv6PathPolicy } from './srv6pathpolicy';
import { validateSRv6Tenant, type SRv6Tenant } from './srv6tenant';
import { validateWANPathPolicy, type WANPathPolicy } from './wanpathpolicy';

export type AnyResource = WANPathPolicy | Geofence | ClusterAS | RemoteCluster | CillionNetworkPolicy | SRv6Tenant | SRv6PathPolicy;

export interface ResourceKey {
  kind: Kind;
  /** '' for cluster-scoped kinds. */
  namespace: string;
  name: string;
}

export function keyString(k: ResourceKey): string {
  return k.namespace ? `${k.kind}/${k.namespace}/${k.name}` : `${k.kind}/${k.name}`;
}

export function keyOf(r: AnyResource): ResourceKey {
  return { kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name };
}

/**
 * The key of an object that claims to be a Cillion resource, read leniently so that even an
 * invalid one can carry its problems to the right status; undefined when it names no
 * Cillion kind or has no usable name.
 */
export function claimedKey(obj: unknown): ResourceKey | undefined {
  if (!isRecord(obj) || obj.apiVersion !== API_VERSION || !isKind(obj.kind) || !isRecord(obj.metadata)) return undefined;
  const { name, namespace } = obj.metadata;
  if (typeof name !== 'string' || name === '') return undefined;
  const ns = CLUSTER_SCOPED.has(obj.kind) || typeof namespace !== 'string' ? '' : namespace;
  return { kind: obj.kind, namespace: ns, name };
}

const VALIDATORS: { [K in Kind]: (obj: unknown) => Validation<AnyResource & { kind: K }> } = {
  WANPathPolicy: validateWANPathPolicy,
  Geofence: validateGeofence,
  ClusterAS: validateClusterAS,
  RemoteCluster: validateRemoteCluster,
  CillionNetworkPolicy: validateNetworkPolicy,
  SRv6Tenant: validateSRv6Tenant,
  SRv6PathPolicy: validateSRv6PathPolicy,
};

/** Validates an object of any Cillion kind; an unknown kind or apiVersion is itself a problem. */
export function validateResource(obj: unknown): Validation<AnyResource> {
  if (!isRecord(obj)) return { ok: false, problems: [{ path: '', message: 'must be an object' }] };
  if (obj.apiVersion !== API_VERSION) {
    return { ok: false, problems: [{ path: 'apiVersion', message: `must be ${API_VERSION}, not ${JSON.stringify(obj.apiVersion)}` }] };
  }
  if (!isKind(obj.kind)) {
    return { ok: false, problems: [{ path: 'kind', message: `must be one of ${KINDS.join(', ')}, not ${JSON.stringify(obj.kind)}` }] };
  }
  return VALIDATORS[obj.kind](obj);
}
