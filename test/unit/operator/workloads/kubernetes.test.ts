// Workloads from Pods and Namespaces through informers, against the recorded-protocol API server.
import assert from 'node:assert/strict';
import { PLURALS } from '../../../../resources/meta';
import { KubernetesWorkloads } from '../../../../operator/workloads/kubernetes';
import { FakeApiServer, kubeConfigFor } from '../../kube/fake_apiserver';

const KINDS_BY_PLURAL = Object.fromEntries(Object.entries(PLURALS).map(([kind, plural]) => [plural, kind]));


const pod = (namespace: string, name: string, node: string, ip: string | undefined, phase = 'Running', labels: Record<string, string> = { app: name.split('-')[0] }) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels },
  spec: { nodeName: node },
  status: { phase, ...(ip ? { podIP: ip } : {}) },
});

async function until(cond: () => boolean, what: () => string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('operator/workloads KubernetesWorkloads (recorded-protocol API server)', () => {
  let api: FakeApiServer;
  let workloads: KubernetesWorkloads | undefined;

  beforeEach(async () => {
    api = new FakeApiServer(KINDS_BY_PLURAL);
    await api.start();
  });
  afterEach(async () => {
    await workloads?.stop();
    workloads = undefined;
    await api.close();
  });

  it('joins running pods with an address to their namespace labels, and follows changes', async () => {
    api.apply('namespaces', { metadata: { name: 'db', labels: { 'kubernetes.io/metadata.name': 'db', tier: 'data' } } });
    api.apply('pods', pod('db', 'replication-0', 'zrh-1', '10.164.0.6'));
    api.apply('pods', pod('shop', 'billing-0', 'zrh-1', '10.164.0.5'));
    api.apply('pods', pod('shop', 'billing-1', 'zrh-2', '10.164.1.5'));
    api.apply('pods', pod('shop', 'pending-0', 'zrh-1', undefined, 'Pending'));
    let changes = 0;
    workloads = new KubernetesWorkloads({ kubeConfig: kubeConfigFor(api.url), minWatchMs: 50, onChange: () => changes++ });
    await workloads.synced;
    assert.deepEqual(workloads.list(), [
      { name: 'replication-0', namespace: 'db', labels: { app: 'replication' }, namespaceLabels: { 'kubernetes.io/metadata.name': 'db', tier: 'data' }, ip: '10.164.0.6', node: 'zrh-1' },
      { name: 'billing-0', namespace: 'shop', labels: { app: 'billing' }, namespaceLabels: { 'kubernetes.io/metadata.name': 'shop' }, ip: '10.164.0.5', node: 'zrh-1' },
      { name: 'billing-1', namespace: 'shop', labels: { app: 'billing' }, namespaceLabels: { 'kubernetes.io/metadata.name': 'shop' }, ip: '10.164.1.5', node: 'zrh-2' },
    ]);
    const before = changes;
    api.apply('pods', pod('shop', 'pending-0', 'zrh-1', '10.164.0.9'));
    api.remove('pods', 'shop/billing-1');
    api.apply('namespaces', { metadata: { name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop', pci: 'true' } } });
    await until(() => workloads?.list().length === 3 && workloads.list().some((w) => w.name === 'pending-0') && workloads.list().every((w) => w.namespace !== 'shop' || w.namespaceLabels.pci === 'true'), () => JSON.stringify(workloads?.list()));
    assert.ok(changes > before);
    // One list, then changes came over a watch from the list's resourceVersion.
    const podGets = api.requestsTo('/api/v1/pods', 'GET');
    assert.equal(podGets.filter((r) => r.query.get('watch') !== 'true').length, 1);
    assert.ok(podGets.some((r) => r.query.get('watch') === 'true' && r.query.get('resourceVersion') !== null));
  });

  it('keeps only the pods of its node for an agent', async () => {
    api.apply('pods', pod('shop', 'billing-0', 'zrh-1', '10.164.0.5'));
    api.apply('pods', pod('shop', 'billing-1', 'zrh-2', '10.164.1.5'));
    workloads = new KubernetesWorkloads({ kubeConfig: kubeConfigFor(api.url), nodeName: 'zrh-2', minWatchMs: 50 });
    await workloads.synced;
    assert.deepEqual(workloads.list().map((w) => w.name), ['billing-1']);
  });
});
