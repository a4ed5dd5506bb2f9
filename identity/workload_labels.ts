// One workload-label model for selecting and for judging. The operator selects fence and
// policy workloads by these labels; the collector writes exactly them into each flow's
// endpoint, Cilium-style ("k8s:key=value" for the pod's labels, the namespace as
// "k8s:io.kubernetes.pod.namespace=NAME", each namespace label as
// "k8s:io.cilium.k8s.namespace.labels.KEY=VALUE"); the relay reads them back with
// workloadFromFlowLabels and gets the very labels the operator matched.
import { identityLabelKept, identityLabels } from './labels';

/** The labels a workload is selected by: its namespace's and its pod's. */
export interface WorkloadLabels {
  namespaceLabels: Readonly<Record<string, string>>;
  podLabels: Readonly<Record<string, string>>;
}

/** Kubernetes sets it on every namespace; selectors rely on it. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
/** Cilium's prefix for a namespace's labels among an endpoint's labels. */
export const NAMESPACE_LABELS_PREFIX = 'io.cilium.k8s.namespace.labels.';
const SOURCE = 'k8s:';

/** A pod label that can be part of the model: not per-pod churn, not one of the reserved keys. */
const podLabelKept = (k: string): boolean => identityLabelKept(k) && !k.startsWith(NAMESPACE_LABELS_PREFIX);

/**
 * The labels selectors match a workload by: its pod labels except those that differ between
 * pods of one workload (the datapath programs per identity, which leaves them out too), and
 * its namespace's labels with the namespace name label Kubernetes always sets.
 */
export function workloadLabels(namespace: string, podLabels: Readonly<Record<string, string>>, namespaceLabels: Readonly<Record<string, string>>): WorkloadLabels {
  const pod: Record<string, string> = {};
  for (const [k, v] of Object.entries(podLabels)) if (podLabelKept(k)) pod[k] = v;
  return { namespaceLabels: { ...namespaceLabels, [NAMESPACE_NAME_LABEL]: namespace }, podLabels: pod };
}

/** The endpoint labels of a flow, sorted: exactly what workloadLabels gives, in Cilium's form (the identity's labels, then the namespace's). */
export function flowLabels(namespace: string, w: WorkloadLabels): string[] {
  const namespaceLabels = Object.entries(w.namespaceLabels).map(([k, v]) => `${SOURCE}${NAMESPACE_LABELS_PREFIX}${k}=${v}`);
  return [...identityLabels(namespace, w.podLabels), ...namespaceLabels].sort();
}

/**
 * The workload labels of a flow endpoint in namespace `namespace` from its "source:key=value"
 * labels: the inverse of flowLabels. Labels of other sources (reserved:, cidr:) say nothing
 * a selector reads.
 */
export function workloadFromFlowLabels(namespace: string, labels: readonly string[]): WorkloadLabels {
  const namespaceLabels: Record<string, string> = {};
  const podLabels: Record<string, string> = {};
  for (const label of labels) {
    if (!label.startsWith(SOURCE)) continue;
    const eq = label.indexOf('=', SOURCE.length);
    const key = label.slice(SOURCE.length, eq < 0 ? undefined : eq);
    const value = eq < 0 ? '' : label.slice(eq + 1);
    if (key.startsWith(NAMESPACE_LABELS_PREFIX)) namespaceLabels[key.slice(NAMESPACE_LABELS_PREFIX.length)] = value;
    else if (podLabelKept(key) && key !== '') podLabels[key] = value;
  }
  namespaceLabels[NAMESPACE_NAME_LABEL] = namespace;
  return { namespaceLabels, podLabels };
}
