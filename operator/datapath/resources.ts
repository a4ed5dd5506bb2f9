// The valid resources of a source, grouped by kind: what buildDesired reads. Invalid ones
// are left out here (they keep their last good state elsewhere and get a status of
// their own).
import type { ClusterAS } from '../../resources/clusteras';
import type { Geofence } from '../../resources/geofence';
import type { CillionNetworkPolicy } from '../../resources/networkpolicy';
import type { RemoteCluster } from '../../resources/remotecluster';
import type { WANPathPolicy } from '../../resources/wanpathpolicy';
import type { SourceEntry } from '../../resources/source';
import type { SRv6PathPolicy } from '../../resources/srv6pathpolicy';
import type { SRv6Tenant } from '../../resources/srv6tenant';

export interface ResourceSet {
  clusters: ClusterAS[];
  policies: WANPathPolicy[];
  fences: Geofence[];
  remotes: RemoteCluster[];
  networkPolicies: CillionNetworkPolicy[];
  tenants: SRv6Tenant[];
  srv6Policies: SRv6PathPolicy[];
}

export function groupResources(entries: readonly SourceEntry[]): ResourceSet {
  const set: ResourceSet = { clusters: [], policies: [], fences: [], remotes: [], networkPolicies: [], tenants: [], srv6Policies: [] };
  for (const e of entries) {
    if (!e.result.ok) continue;
    const r = e.result.value;
    if (r.kind === 'ClusterAS') set.clusters.push(r);
    else if (r.kind === 'WANPathPolicy') set.policies.push(r);
    else if (r.kind === 'Geofence') set.fences.push(r);
    else if (r.kind === 'RemoteCluster') set.remotes.push(r);
    else if (r.kind === 'CillionNetworkPolicy') set.networkPolicies.push(r);
    else if (r.kind === 'SRv6Tenant') set.tenants.push(r);
    else set.srv6Policies.push(r);
  }
  return set;
}
