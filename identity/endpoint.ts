// Who is behind an address: what the collector writes into a flow's endpoint, whether it
// learned it from this node's workloads (collector/enrich.ts) or from another cluster's
// identity catalogue (mesh/store.ts).
export interface EndpointInfo {
  identity: number;
  podName: string;
  namespace: string;
  /** Hubble's form, sorted: flowLabels of the labels fences select the workload by. */
  labels: string[];
  clusterName: string;
  /**
   * Named only from the identity the packet itself carried (a remote sender found in its
   * cluster's catalogue by that number): the name is the claim's, not a check of it.
   */
  claimed?: boolean;
}
