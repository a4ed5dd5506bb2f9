// A workload as the operator needs it: where it runs, its address and its labels. In
// Kubernetes these are Pods and their Namespaces; in the embedded mode they come from a
// file of the same shape (directory.ts).

export interface Workload {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  namespaceLabels: Record<string, string>;
  /** The pod's IPv4 address. */
  ip: string;
  /** The node it runs on. */
  node: string;
}
