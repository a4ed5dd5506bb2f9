// source_cluster_name, destination_cluster_name: the cluster of the flow's endpoint, by exact
// name, as Hubble compares it. A remote endpoint has its cluster from that cluster's
// identity catalogue; an endpoint nobody could name has none and matches no cluster.
import type { Endpoint } from '../../proto/gen/flow/flow';
import { FilterError } from './error';
import type { FilterBuilder, Predicate } from './predicate';

function byCluster(field: string, values: string[], get: (f: { source?: Endpoint; destination?: Endpoint }) => Endpoint | undefined): Predicate {
  for (const v of values) if (v === '') throw new FilterError(`${field}: empty cluster name`);
  const wanted = new Set(values);
  return (flow) => {
    const name = get(flow)?.clusterName ?? '';
    return name !== '' && wanted.has(name);
  };
}

export const clusterFilter: FilterBuilder = (ff) => {
  const out: Predicate[] = [];
  if (ff.sourceClusterName.length) out.push(byCluster('source_cluster_name', ff.sourceClusterName, (f) => f.source));
  if (ff.destinationClusterName.length) out.push(byCluster('destination_cluster_name', ff.destinationClusterName, (f) => f.destination));
  return out;
};
