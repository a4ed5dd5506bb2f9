// CillionIdentity end to end against the recorded-protocol API server (fake_apiserver.ts):
// the operator's writer makes the objects match its allocation, an agent's view follows
// them, objects of another cluster id are left alone by both, and a malformed object is
// skipped with a counted reason.
import assert from 'node:assert/strict';
import type { Identity } from '../../../identity/allocator';
import { identityLabels } from '../../../identity/labels';
import { cillionIdentityObject, IDENTITY_KIND, IDENTITY_PLURAL } from '../../../resources/cillionidentity';
import { PLURALS } from '../../../resources/meta';
import { KubernetesIdentityView } from '../../../kube/identity_view';
import { IdentityObjectWriter } from '../../../kube/identity_writer';
import { FakeApiServer, kubeConfigFor } from './fake_apiserver';

const KINDS = { ...Object.fromEntries(Object.entries(PLURALS).map(([kind, plural]) => [plural, kind])), [IDENTITY_PLURAL]: IDENTITY_KIND };

async function until(cond: () => boolean, what: () => string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const ident = (id: number, ns: string, app: string): Identity => ({ id, labels: identityLabels(ns, { app }) });
const BILLING = ident(65792, 'shop', 'billing');
const VIDEO = ident(65793, 'media', 'video');
/** Frankfurt's billing (cluster id 2), as its own operator would publish it. */
const REMOTE = ident(131328, 'shop', 'billing');

describe('operator/sources CillionIdentity writer and view (recorded-protocol API server)', () => {
  let api: FakeApiServer;
  const logs: string[] = [];
  const stops: (() => Promise<void>)[] = [];
  const fast = { watchBackoff: { initialMs: 20, maxMs: 80 }, minWatchMs: 50 };
  const writer = () => {
    const w = new IdentityObjectWriter({ kubeConfig: kubeConfigFor(api.url), clusterId: 1, log: (l) => logs.push(l), writeBackoff: { initialMs: 20, maxMs: 80 }, ...fast });
    w.start();
    stops.push(() => w.stop());
    return w;
  };
  const view = (onChange: () => void = () => undefined) => {
    const v = new KubernetesIdentityView({ kubeConfig: kubeConfigFor(api.url), clusterId: 1, onChange, log: (l) => logs.push(l), backoff: fast.watchBackoff, minWatchMs: 50 });
    v.start();
    stops.push(() => v.stop());
    return v;
  };
  const stored = (name: number | string) => api.get(IDENTITY_PLURAL, String(name));
  const writes = (method: string) => api.requestsTo(`/apis/cillion.io/v1alpha1/${IDENTITY_PLURAL}`, method);

  beforeEach(async () => {
    logs.length = 0;
    api = new FakeApiServer(KINDS);
    await api.start();
  });
  afterEach(async () => {
    for (const s of stops.splice(0)) await s();
    await api.close();
  });

  it('creates what the allocation holds, replaces a wrong object, deletes an unbacked one, never touches another cluster\'s', async () => {
    api.apply(IDENTITY_PLURAL, cillionIdentityObject({ ...REMOTE, clusterId: 2 }));
    // Numbered in cluster 1's range but claiming cluster 2: not this cluster's to repair or delete.
    api.apply(IDENTITY_PLURAL, { ...cillionIdentityObject({ ...VIDEO, clusterId: 1 }), metadata: { name: '65900' }, clusterId: 2 });
    // This cluster's, with labels the allocation does not give the number, and one the allocation no longer holds.
    api.apply(IDENTITY_PLURAL, cillionIdentityObject({ id: BILLING.id, clusterId: 1, labels: VIDEO.labels }));
    api.apply(IDENTITY_PLURAL, cillionIdentityObject({ id: 65999, clusterId: 1, labels: identityLabels('old', { app: 'gone' }) }));
    const w = writer();
    await w.synced;
    // The objects a new leader with an empty volume starts from: this cluster's well-formed ones only.
    assert.deepEqual(w.published().map((i) => i.id), [65792, 65999]);
    assert.equal(writes('POST').length + writes('PUT').length + writes('DELETE').length, 0, 'nothing is written before the allocation is known');

    w.publish([BILLING, VIDEO]);
    await until(() => stored(VIDEO.id) !== undefined && stored(65999) === undefined && stored(BILLING.id)?.securityLabels.join() === BILLING.labels.join(), () => logs.join('\n'));
    await w.idle();
    assert.deepEqual(stored(VIDEO.id)!.securityLabels, VIDEO.labels);
    assert.equal(stored(VIDEO.id)!.clusterId, 1);
    assert.equal(stored(VIDEO.id)!.metadata.labels['cillion.io/cluster-id'], '1');
    assert.equal(stored(REMOTE.id)!.metadata.resourceVersion, '2', 'another cluster\'s object is untouched');
    assert.equal(stored(65900)!.clusterId, 2);
    assert.ok(![...writes('PUT'), ...writes('DELETE')].some((r) => /\/(131328|65900)$/.test(r.path)), 'no write to another cluster\'s objects');
    assert.deepEqual(w.stats(), { created: 1, replaced: 1, deleted: 1, conflicts: 0 });
    // The delete names the object the decision saw.
    const del = writes('DELETE')[0]!;
    assert.equal((del.body as { preconditions: { resourceVersion: string } }).preconditions.resourceVersion, '5');

    // A number the allocator freed after its grace period: the object goes.
    w.publish([VIDEO]);
    await until(() => stored(BILLING.id) === undefined, () => logs.join('\n'));
    // An object of this cluster changed behind the operator's back is put right from its watch event.
    api.apply(IDENTITY_PLURAL, cillionIdentityObject({ id: VIDEO.id, clusterId: 1, labels: BILLING.labels }));
    await until(() => stored(VIDEO.id)!.securityLabels.join() === VIDEO.labels.join(), () => logs.join('\n'));
    // A number another cluster's object holds is reported, not overwritten.
    w.publish([VIDEO, { id: 65900, labels: BILLING.labels }]);
    await until(() => w.stats().conflicts === 1, () => logs.join('\n'));
    assert.ok(logs.some((l) => /CillionIdentity 65900 belongs to cluster id 2, not 1/.test(l)), logs.join('\n'));
    assert.equal(stored(65900)!.clusterId, 2);
  });

  it('retries a failed write per key, other keys going on meanwhile', async () => {
    const w = writer();
    await w.synced;
    api.failNext('POST', new RegExp(`/${IDENTITY_PLURAL}$`), 500, 2);
    w.publish([BILLING, VIDEO]);
    await until(() => stored(BILLING.id) !== undefined && stored(VIDEO.id) !== undefined, () => logs.join('\n'));
    assert.ok(logs.some((l) => /CillionIdentity 6579[23]: .*injected 500; retrying in \d+ ms/.test(l)), logs.join('\n'));
    await w.idle();
    assert.equal(w.stats().created, 2);
  });

  it('an agent\'s view follows the writer, ignores other clusters and skips malformed objects with a counted reason', async () => {
    api.apply(IDENTITY_PLURAL, cillionIdentityObject({ ...REMOTE, clusterId: 2 }));
    // Malformed objects that claim this cluster: a name that is no identity, unsorted labels, a number of cluster 2.
    api.apply(IDENTITY_PLURAL, { ...cillionIdentityObject({ ...VIDEO, clusterId: 1 }), metadata: { name: 'video' } });
    api.apply(IDENTITY_PLURAL, cillionIdentityObject({ id: 65800, clusterId: 1, labels: [...VIDEO.labels].reverse() }));
    api.apply(IDENTITY_PLURAL, { ...cillionIdentityObject({ ...VIDEO, clusterId: 1 }), metadata: { name: '131329' } });
    let changes = 0;
    const v = view(() => void changes++);
    await v.synced;
    assert.deepEqual(v.all(), []);
    assert.deepEqual(v.stats(), { identities: 0, otherClusters: 1, skipped: { name: 2, 'cluster-id': 0, labels: 1, envelope: 0, 'duplicate-labels': 0 } });
    assert.ok(logs.some((l) => /CillionIdentity "video" skipped \(name\)/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /CillionIdentity "65800" skipped \(labels\): securityLabels: must be sorted/.test(l)), logs.join('\n'));
    assert.equal(v.lookupById(REMOTE.id), undefined, 'another cluster\'s identity is not this view\'s');
    assert.ok(changes >= 1);

    const w = writer();
    await w.synced;
    w.publish([BILLING, VIDEO]);
    await until(() => v.all().length === 2, () => JSON.stringify(v.stats()));
    assert.equal(v.lookupByLabels('shop', { app: 'billing', 'pod-template-hash': 'abc' })?.id, BILLING.id);
    assert.deepEqual(v.lookupById(VIDEO.id)?.labels, VIDEO.labels);
    // The writer deleted the malformed objects that claim this cluster, and left the other cluster's alone.
    await until(() => ['65800', 'video', '131329'].every((n) => stored(n) === undefined), () => logs.join('\n'));
    assert.equal(stored(REMOTE.id)!.clusterId, 2);

    w.publish([VIDEO]);
    await until(() => v.lookupById(BILLING.id) === undefined, () => JSON.stringify(v.all()));
    assert.equal(v.lookupByLabels('shop', { app: 'billing' }), undefined);
    assert.equal(v.all().length, 1);

    // A second object with the same labels: the lower number keeps them, on every node alike.
    api.apply(IDENTITY_PLURAL, cillionIdentityObject({ id: 65830, clusterId: 1, labels: VIDEO.labels }));
    await until(() => v.stats().skipped['duplicate-labels'] === 1, () => JSON.stringify(v.stats()));
    assert.equal(v.lookupByLabels('media', { app: 'video' })?.id, VIDEO.id);
  });

  it('resumes after the watch breaks and relists after compaction', async () => {
    const v = view();
    await v.synced;
    api.apply(IDENTITY_PLURAL, cillionIdentityObject({ ...BILLING, clusterId: 1 }));
    await until(() => v.all().length === 1, () => 'first');
    api.dropWatches();
    api.apply(IDENTITY_PLURAL, cillionIdentityObject({ ...VIDEO, clusterId: 1 }));
    await until(() => v.all().length === 2, () => logs.join('\n'));
    api.silently(() => api.remove(IDENTITY_PLURAL, String(BILLING.id)));
    api.compact();
    api.dropWatches();
    await until(() => v.lookupById(BILLING.id) === undefined, () => logs.join('\n'));
    assert.equal(v.all().length, 1);
  });
});
