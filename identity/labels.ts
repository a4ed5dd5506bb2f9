// The label set an identity stands for: the pod's namespace plus its labels, minus labels
// that differ between pods of one workload (a rollout's pod-template-hash, a StatefulSet
// pod's own name, a Job run's uid). Keeping those would give every rollout, replica or run
// a fresh identity and churn the datapath maps for nothing a policy can select on.

/** Cilium's label for the namespace, so identities read the same in both tools. */
export const NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';

export const IGNORED_LABELS: ReadonlySet<string> = new Set([
  'pod-template-hash',
  'pod-template-generation',
  'controller-revision-hash',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
  'controller-uid',
  'batch.kubernetes.io/controller-uid',
  'job-name',
  'batch.kubernetes.io/job-name',
  'batch.kubernetes.io/job-completion-index',
]);

/** A pod label an identity keeps: not per-pod churn, not the namespace's own label. */
export const identityLabelKept = (k: string): boolean => !IGNORED_LABELS.has(k) && k !== NAMESPACE_LABEL;

/** Sorted "k8s:key=value" strings; the namespace is itself one of them. */
export function identityLabels(namespace: string, podLabels: Readonly<Record<string, string>>): string[] {
  const out = [`k8s:${NAMESPACE_LABEL}=${namespace}`];
  for (const [k, v] of Object.entries(podLabels)) {
    if (identityLabelKept(k)) out.push(`k8s:${k}=${v}`);
  }
  return out.sort();
}
