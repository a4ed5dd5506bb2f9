// One label model: what the operator selects by is what the flow carries and what the
// relay reads back.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { flowLabels, workloadFromFlowLabels, workloadLabels } from '../../../identity/workload_labels';

const key = fc.stringMatching(/^([a-z0-9]([-a-z0-9.]{0,20}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,20}[A-Za-z0-9])?$/);
const value = fc.stringMatching(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,20}[A-Za-z0-9])?)?$/);
const labels = fc.dictionary(key, value, { maxKeys: 8 });

describe('identity/workload_labels', () => {
  it('reads back from the flow exactly the labels the operator matches, for any labels', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/), labels, labels, (ns, pod, nsLabels) => {
        const w = workloadLabels(ns, pod, nsLabels);
        assert.deepEqual(workloadFromFlowLabels(ns, flowLabels(ns, w)), w);
      }),
    );
  });

  it("writes Cilium's forms, leaves out per-pod churn, and keeps the namespace's name label authoritative", () => {
    const w = workloadLabels('vault', { app: 'ledger', 'pod-template-hash': '5d8f', 'io.kubernetes.pod.namespace': 'other' }, { compliance: 'strict', 'kubernetes.io/metadata.name': 'spoofed' });
    assert.deepEqual(w, { podLabels: { app: 'ledger' }, namespaceLabels: { compliance: 'strict', 'kubernetes.io/metadata.name': 'vault' } });
    assert.deepEqual(flowLabels('vault', w), [
      'k8s:app=ledger',
      'k8s:io.cilium.k8s.namespace.labels.compliance=strict',
      'k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=vault',
      'k8s:io.kubernetes.pod.namespace=vault',
    ]);
    // Labels of other sources select nothing.
    assert.deepEqual(workloadFromFlowLabels('vault', ['reserved:world', 'k8s:app=ledger']), { podLabels: { app: 'ledger' }, namespaceLabels: { 'kubernetes.io/metadata.name': 'vault' } });
  });
});
