// Which pods are workloads, and how the pod informer asks the API server for a node's or a
// namespace's pods and follows them (recorded-protocol API server, fake_apiserver.ts).
import assert from 'node:assert/strict';
import { PLURALS } from '../../../../resources/meta';
import type { KubeObject } from '../../../../kube/informer';
import { KubernetesWorkloads, namespaceLabels, podWorkload } from '../../../../operator/workloads/kubernetes';
import { FakeApiServer, kubeConfigFor } from '../../kube/fake_apiserver';

const KINDS_BY_PLURAL = Object.fromEntries(Object.entries(PLURALS).map(([kind, plural]) => [plural, kind]));

// A Running pod as kube-apiserver returns it (v1 Pod, trimmed of container details).
function runningPod(namespace: string, name: string, node: string, ips: string[], labels: Record<string, string> = { app: name.replace(/-\d+$/, '') }): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels, uid: `uid-${name}`, resourceVersion: '7' },
    spec: { nodeName: node, containers: [{ name: 'app', image: 'registry.example/app:1' }], restartPolicy: 'Always' },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2025-01-01T00:00:00Z' }],
      hostIP: '192.168.1.10',
      hostIPs: [{ ip: '192.168.1.10' }],
      podIP: ips[0],
      podIPs: ips.map((ip) => ({ ip })),
      startTime: '2025-01-01T00:00:00Z',
    },
  };
}

function changed(pod: KubeObject, path: 'spec' | 'status' | 'metadata', patch: Record<string, unknown>): KubeObject {
  return { ...pod, [path]: { ...(pod[path] as object), ...patch } };
}


async function until(cond: () => boolean, what: () => string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('operator/workloads podWorkload: which pods are workloads', () => {
  const billing = runningPod('shop', 'billing-0', 'zrh-1', ['10.164.0.5']);

  it('takes a Running pod with its name, namespace, labels, IPv4 address and node', () => {
    assert.deepEqual(podWorkload(billing), { name: 'billing-0', namespace: 'shop', labels: { app: 'billing' }, ip: '10.164.0.5', node: 'zrh-1' });
  });

  it('skips pods that do not run, have no address yet, are not bound, or use the host network', () => {
    for (const phase of ['Pending', 'Succeeded', 'Failed', 'Unknown']) assert.equal(podWorkload(changed(billing, 'status', { phase })), null, phase);
    assert.equal(podWorkload(changed(billing, 'status', { podIP: undefined, podIPs: undefined })), null, 'no address');
    assert.equal(podWorkload(changed(billing, 'spec', { nodeName: undefined })), null, 'not scheduled');
    assert.equal(podWorkload(changed(billing, 'spec', { hostNetwork: true })), null, 'host network');
  });

  it('takes the IPv4 address of a dual-stack pod whichever family comes first', () => {
    assert.equal(podWorkload(runningPod('shop', 'billing-0', 'zrh-1', ['fd00:10:164::5', '10.164.0.5']))?.ip, '10.164.0.5');
    assert.equal(podWorkload(runningPod('shop', 'billing-0', 'zrh-1', ['fd00:10:164::5'])), null, 'IPv6 only: the datapath carries IPv4 inner packets');
  });

  it("gives a namespace the label Kubernetes sets on every namespace, and keeps the namespace's own", () => {
    assert.deepEqual(namespaceLabels('db', undefined), { 'kubernetes.io/metadata.name': 'db' });
    assert.deepEqual(namespaceLabels('db', { metadata: { name: 'db', labels: { tier: 'data', 'kubernetes.io/metadata.name': 'db' } } }), {
      'kubernetes.io/metadata.name': 'db',
      tier: 'data',
    });
  });
});

describe('operator/workloads KubernetesWorkloads: what it asks the API server', () => {
  let api: FakeApiServer;
  let workloads: KubernetesWorkloads | undefined;
  const open = (opts: { nodeName?: string; namespace?: string; onChange?: () => void } = {}) =>
    (workloads = new KubernetesWorkloads({ kubeConfig: kubeConfigFor(api.url), minWatchMs: 50, watchBackoff: { initialMs: 20, maxMs: 80 }, ...opts }));

  beforeEach(async () => {
    api = new FakeApiServer(KINDS_BY_PLURAL);
    await api.start();
  });
  afterEach(async () => {
    await workloads?.stop();
    workloads = undefined;
    await api.close();
  });

  it("asks for one node's pods by field selector, and sees a pod once the scheduler binds it there", async () => {
    api.apply('pods', runningPod('shop', 'billing-0', 'zrh-1', ['10.164.0.5']));
    api.apply('pods', runningPod('shop', 'billing-1', 'zrh-2', ['10.164.1.5']));
    // Created unscheduled, as a controller creates it: no node, no address.
    const unbound = runningPod('media', 'video-0', '', ['10.164.1.6']);
    api.apply('pods', { ...unbound, spec: { ...(unbound.spec as object), nodeName: undefined }, status: { phase: 'Pending' } });
    const w = open({ nodeName: 'zrh-2' });
    await w.synced;
    assert.deepEqual(w.list().map((x) => x.name), ['billing-1']);
    await until(() => api.openWatches('pods') === 1, () => 'pod watch');
    const podRequests = api.requestsTo('/api/v1/pods', 'GET');
    assert.ok(podRequests.length >= 2, 'a list and a watch');
    for (const r of podRequests) assert.equal(r.query.get('fieldSelector'), 'spec.nodeName=zrh-2', `${r.path}?${r.query}`);

    api.apply('pods', runningPod('media', 'video-0', 'zrh-2', ['10.164.1.6']));
    api.apply('pods', runningPod('shop', 'billing-2', 'zrh-1', ['10.164.0.7']));
    await until(() => w.list().length === 2, () => JSON.stringify(w.list()));
    assert.deepEqual(w.list().map((x) => `${x.namespace}/${x.name}@${x.node}`), ['media/video-0@zrh-2', 'shop/billing-1@zrh-2']);
  });

  it('asks only for the pods of one namespace when given one', async () => {
    api.apply('pods', runningPod('db', 'replication-0', 'zrh-1', ['10.164.0.6']));
    api.apply('pods', runningPod('shop', 'billing-0', 'zrh-1', ['10.164.0.5']));
    const w = open({ namespace: 'db' });
    await w.synced;
    assert.deepEqual(w.list().map((x) => x.name), ['replication-0']);
    await until(() => api.openWatches('pods') === 1, () => 'pod watch');
    assert.equal(api.requestsTo('/api/v1/pods').length, 0);
    assert.ok(api.requestsTo('/api/v1/namespaces/db/pods', 'GET').some((r) => r.query.get('watch') === 'true'));
  });

  it('tells of changes the operator reads, not of status churn', async () => {
    const replication = runningPod('db', 'replication-0', 'zrh-1', ['10.164.0.6']);
    api.apply('pods', replication);
    let changes = 0;
    const w = open({ onChange: () => changes++ });
    await w.synced;
    await until(() => api.openWatches('pods') === 1 && api.openWatches('namespaces') === 1, () => 'watches');
    assert.equal(changes, 0, 'the first list is not a change');
    // The kubelet rewrites conditions all the time; nothing the operator reads changes.
    api.apply('pods', changed(replication, 'status', { conditions: [{ type: 'Ready', status: 'False' }] }));
    api.apply('namespaces', { metadata: { name: 'empty', labels: { team: 'x' } } });
    api.apply('pods', changed(replication, 'metadata', { labels: { app: 'replication', tier: 'gold' } }));
    await until(() => w.list()[0]?.labels.tier === 'gold', () => JSON.stringify(w.list()));
    assert.equal(changes, 1, 'only the label change');
    api.apply('namespaces', { metadata: { name: 'db', labels: { pci: 'true' } } });
    await until(() => w.list()[0]?.namespaceLabels.pci === 'true', () => JSON.stringify(w.list()));
    assert.equal(changes, 2, "a label of the pod's namespace");
    api.apply('pods', changed(replication, 'status', { phase: 'Succeeded' }));
    await until(() => w.list().length === 0, () => JSON.stringify(w.list()));
    assert.equal(changes, 3, 'a pod that stopped running is gone');
  });

  it('relists after 410 Expired and drops pods deleted meanwhile', async () => {
    api.apply('pods', runningPod('shop', 'billing-0', 'zrh-1', ['10.164.0.5']));
    api.apply('pods', runningPod('shop', 'billing-1', 'zrh-1', ['10.164.0.6']));
    const w = open();
    await w.synced;
    await until(() => api.openWatches('pods') === 1, () => 'pod watch');
    api.silently(() => api.remove('pods', 'shop/billing-0'));
    api.compact();
    api.watchError('pods', 410, 'too old resource version');
    await until(() => w.list().length === 1, () => JSON.stringify(w.list()));
    assert.equal(w.list()[0]?.name, 'billing-1');
    assert.equal(api.requestsTo('/api/v1/pods', 'GET').filter((r) => r.query.get('watch') !== 'true').length, 2, 'listed again');
  });
});
