// The valid resources of a source, grouped by kind: what buildDesired reads. Invalid ones
// are left out here (they keep their last good state elsewhere and get a status of
// their own).
import type { ClusterAS } from '../../resources/clusteras';
import type { Geofence } from '../../resources/geofence';
import type { CillionNetworkPolicy } from '../../resources/networkpolicy';
import type { RemoteCluster } from '../../resources/remotecluster';
import type { WANPathPolicy } from '../../resources/wanpathpolicy';
import type { SourceEntry } from '../../resources/source';

export interface ResourceSet {
  clusters: ClusterAS[];
  policies: WANPathPolicy[];
  fences: Geofence[];
  remotes: RemoteCluster[];
  networkPolicies: CillionNetworkPolicy[];
}

export function groupResources(entries: readonly SourceEntry[]): ResourceSet {
  const set: ResourceSet = { clusters: [], policies: [], fences: [], remotes: [], networkPolicies: [] };
  for (const e of entries) {
    if (!e.result.ok) continue;
    const r = e.result.value;
    if (r.kind === 'ClusterAS') set.clusters.push(r);
    else if (r.kind === 'WANPathPolicy') set.policies.push(r);
    else if (r.kind === 'Geofence') set.fences.push(r);
    else if (r.kind === 'RemoteCluster') set.remotes.push(r);
    else set.networkPolicies.push(r);
  }
  return set;
}
