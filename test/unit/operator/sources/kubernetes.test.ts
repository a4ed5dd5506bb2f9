// The Kubernetes source and the leader elector against a recorded-protocol API server
// (fake_apiserver.ts): no kube-apiserver binary can run here.
import assert from 'node:assert/strict';
import { PLURALS } from '../../../../resources/meta';
import { keyString } from '../../../../resources/resource';
import type { ResourceStatus } from '../../../../resources/status';
import { LeaderElector, type LeaderElectorOptions } from '../../../../kube/leader';
import { KubernetesSource, type KubernetesSourceOptions } from '../../../../operator/sources/kubernetes';
import type { ResourceEvent } from '../../../../resources/source';
import { FakeApiServer, kubeConfigFor } from '../../kube/fake_apiserver';

const KINDS_BY_PLURAL = Object.fromEntries(Object.entries(PLURALS).map(([kind, plural]) => [plural, kind]));
const RC = 'remoteclusters';
/** One watch per kind. */
const KIND_COUNT = Object.keys(PLURALS).length;
const GF = 'geofences';

const remote = (name: string, isdAS: string, prefixes = ['10.165.0.0/16']) => ({
  apiVersion: 'cillion.io/v1alpha1',
  kind: 'RemoteCluster',
  metadata: { name },
  spec: { isdAS, prefixes },
});

function summary(e: ResourceEvent): string {
  if (e.type === 'problem') return `problem ${e.origin}`;
  if (e.type === 'delete') return `delete ${keyString(e.key)}`;
  return `${e.type} ${keyString(e.entry.key)} gen${e.entry.generation} ${e.entry.result.ok ? 'valid' : 'invalid'}`;
}

async function until(cond: () => boolean, what: () => string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting: ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


const status = (gen: number, valid: 'True' | 'False'): ResourceStatus => ({
  observedGeneration: gen,
  conditions: [{ type: 'Valid', status: valid, reason: valid === 'True' ? 'Valid' : 'Invalid', message: '', lastTransitionTime: '2025-01-01T00:00:00Z', observedGeneration: gen }],
});

describe('operator/sources KubernetesSource (recorded-protocol API server)', () => {
  let api: FakeApiServer;
  const sources: KubernetesSource[] = [];
  const logs: string[] = [];
  const open = (opts: KubernetesSourceOptions = {}) => {
    const s = new KubernetesSource({
      kubeConfig: kubeConfigFor(api.url),
      watchBackoff: { initialMs: 20, maxMs: 80 },
      statusBackoff: { initialMs: 20, maxMs: 80 },
      minWatchMs: 50,
      log: (m) => logs.push(m),
      ...opts,
    });
    sources.push(s);
    return s;
  };
  const watchAll = (s: KubernetesSource) => {
    const events: ResourceEvent[] = [];
    s.watch((e) => events.push(e));
    return events;
  };

  beforeEach(async () => {
    api = new FakeApiServer(KINDS_BY_PLURAL);
    await api.start();
    logs.length = 0;
  });
  afterEach(async () => {
    for (const s of sources.splice(0)) await s.close();
    await api.close();
  });

  it('lists every kind, replays adds, then turns watch events into updates and deletes', async () => {
    api.apply(RC, remote('frankfurt', '65-2:0:20'));
    api.apply(RC, remote('zurich', '64-2:0:20'));
    api.apply(RC, remote('broken', 'not-an-ia'));
    const s = open();
    const entries = await s.list();
    assert.deepEqual(
      entries.map((e) => [keyString(e.key), e.origin, e.generation, e.result.ok]).sort(),
      [
        ['RemoteCluster/broken', 'kubernetes', 1, false],
        ['RemoteCluster/frankfurt', 'kubernetes', 1, true],
        ['RemoteCluster/zurich', 'kubernetes', 1, true],
      ],
    );
    const broken = entries.find((e) => e.key.name === 'broken')!;
    assert.ok(!broken.result.ok && broken.result.problems.some((p) => p.path === 'spec.isdAS'), JSON.stringify(broken.result));
    // Every kind was listed with a plain GET of its collection.
    for (const plural of Object.values(PLURALS)) assert.ok(api.requestsTo(`/apis/cillion.io/v1alpha1/${plural}`, 'GET').length >= 1, plural);

    const events = watchAll(s);
    await until(() => events.length === 3, () => events.map(summary).join(' | '));
    assert.deepEqual(events.map(summary).sort(), ['add RemoteCluster/broken gen1 invalid', 'add RemoteCluster/frankfurt gen1 valid', 'add RemoteCluster/zurich gen1 valid']);

    await until(() => api.openWatches() === KIND_COUNT, () => `${api.openWatches()} watches`);
    api.apply(RC, remote('zurich', '64-2:0:20', ['10.166.0.0/16']));
    api.apply(RC, remote('broken', '64-2:0:21'));
    api.remove(RC, 'frankfurt');
    api.apply(GF, { metadata: { name: 'eu-only' }, spec: {} });
    await until(() => events.length === 7, () => events.map(summary).join(' | '));
    assert.deepEqual(events.slice(3).map(summary), [
      'update RemoteCluster/zurich gen2 valid',
      'update RemoteCluster/broken gen2 valid',
      'delete RemoteCluster/frankfurt',
      'add Geofence/eu-only gen1 invalid',
    ]);
    const del = events[5]!;
    assert.ok(del.type === 'delete' && del.last.generation === 1 && del.last.origin === 'kubernetes');
    const upd = events[3]!;
    assert.ok(upd.type === 'update' && upd.entry.resourceVersion === api.get(RC, 'zurich')!.metadata.resourceVersion);
  });

  it('watches from the list resourceVersion with bookmarks, and bookmarks advance it silently', async () => {
    api.apply(RC, remote('zurich', '64-2:0:20'));
    const s = open();
    await s.list();
    const events = watchAll(s);
    await until(() => api.openWatches(RC) === 1, () => 'watch');
    const [first] = api.watchRequests(RC);
    assert.equal(first!.query.get('resourceVersion'), api.resourceVersion);
    assert.equal(first!.query.get('allowWatchBookmarks'), 'true');

    api.apply(GF, { metadata: { name: 'elsewhere' }, spec: {} }); // moves the global resourceVersion past ours
    api.bookmark(RC);
    const bookmarked = api.resourceVersion;
    await until(() => s.resourceVersions().RemoteCluster === bookmarked, () => JSON.stringify(s.resourceVersions()));
    await until(() => events.length === 2, () => events.map(summary).join(' | '));
    assert.deepEqual(events.map(summary), ['add RemoteCluster/zurich gen1 valid', 'add Geofence/elsewhere gen1 invalid']);

    const lists = api.requestsTo(`/apis/cillion.io/v1alpha1/${RC}`, 'GET').length - api.watchRequests(RC).length;
    api.dropWatches();
    await until(() => api.openWatches(RC) === 1, () => 'rewatch');
    const again = api.watchRequests(RC).at(-1)!;
    assert.equal(again.query.get('resourceVersion'), bookmarked, 'resumes from the bookmark, not the list');
    assert.equal(api.requestsTo(`/apis/cillion.io/v1alpha1/${RC}`, 'GET').length - api.watchRequests(RC).length, lists, 'no relist');
    await sleep(30);
    assert.equal(events.length, 2);
  });

  it('catches up on changes missed while the watch was down, without relisting', async () => {
    api.apply(RC, remote('zurich', '64-2:0:20'));
    const s = open();
    const events = watchAll(s);
    await until(() => events.length === 1 && api.openWatches(RC) === 1, () => events.map(summary).join(' | '));
    api.dropWatches();
    api.silently(() => {
      api.apply(RC, remote('zurich', '64-2:0:20', ['10.1.0.0/16']));
      api.apply(RC, remote('basel', '64-2:0:22'));
    });
    await until(() => events.length === 3, () => events.map(summary).join(' | '));
    assert.deepEqual(events.slice(1).map(summary), ['update RemoteCluster/zurich gen2 valid', 'add RemoteCluster/basel gen1 valid']);
    assert.equal(api.requestsTo(`/apis/cillion.io/v1alpha1/${RC}`, 'GET').filter((r) => r.query.get('watch') !== 'true').length, 1);
  });

  for (const expiredAs of ['event', 'http'] as const) {
    it(`relists after 410 Expired (${expiredAs === 'event' ? 'ERROR event' : 'HTTP status'}) and emits only the differences`, async () => {
      api.expiredAs = expiredAs;
      api.apply(RC, remote('stays', '64-2:0:20'));
      api.apply(RC, remote('changes', '64-2:0:21'));
      api.apply(RC, remote('goes', '64-2:0:22'));
      const s = open();
      const events = watchAll(s);
      await until(() => events.length === 3 && api.openWatches(RC) === 1, () => events.map(summary).join(' | '));
      const staleVersion = s.resourceVersions().RemoteCluster;
      const listsBefore = api.requestsTo(`/apis/cillion.io/v1alpha1/${RC}`, 'GET').filter((r) => r.query.get('watch') !== 'true').length;

      api.dropWatches();
      api.silently(() => {
        api.apply(RC, remote('changes', '64-2:0:21', ['10.9.0.0/16']));
        api.remove(RC, 'goes');
        api.apply(RC, remote('arrives', '64-2:0:23'));
      });
      api.compact();
      await until(() => events.length === 6, () => events.map(summary).join(' | '));
      assert.deepEqual(events.slice(3).map(summary).sort(), ['add RemoteCluster/arrives gen1 valid', 'delete RemoteCluster/goes', 'update RemoteCluster/changes gen2 valid']);
      const listsAfter = api.requestsTo(`/apis/cillion.io/v1alpha1/${RC}`, 'GET').filter((r) => r.query.get('watch') !== 'true').length;
      assert.equal(listsAfter, listsBefore + 1, 'one relist');
      assert.ok(api.watchRequests(RC).some((r) => r.query.get('resourceVersion') === staleVersion && Number(staleVersion) < Number(api.resourceVersion)));
      await until(() => api.openWatches(RC) === 1, () => 'rewatch');
      assert.equal(api.watchRequests(RC).at(-1)!.query.get('resourceVersion'), api.resourceVersion);
      await sleep(30);
      assert.equal(events.length, 6, events.map(summary).join(' | '));
    });
  }

  it('restarts the watch after errors with growing, bounded backoff that resets after a healthy watch', async () => {
    api.apply(RC, remote('zurich', '64-2:0:20'));
    const s = open({ watchBackoff: { initialMs: 20, maxMs: 80, random: () => 0 } });
    const events = watchAll(s);
    await until(() => events.length === 1 && api.openWatches(RC) === 1, () => events.map(summary).join(' | '));
    const watchPath = /^\/apis\/cillion\.io\/v1alpha1\/remoteclusters\?.*watch=true/;
    api.failNext('GET', watchPath, 500, 3);
    api.watchError(RC, 500, 'etcdserver: leader changed');
    await until(() => api.openWatches(RC) === 1, () => logs.join('\n'));
    const delays = logs.filter((l) => l.startsWith('watch of remoteclusters')).map((l) => Number(/restarting in (\d+) ms/.exec(l)![1]));
    // With no jitter: the ERROR event ended a watch that had delivered events (healthy: first delay),
    // then three refused watches double it up to the ceiling.
    assert.deepEqual(delays, [10, 20, 40, 40]);
    assert.match(logs.find((l) => l.includes('leader changed'))!, /remoteclusters/);
    assert.equal(api.requestsTo(`/apis/cillion.io/v1alpha1/${RC}`, 'GET').filter((r) => r.query.get('watch') !== 'true').length, 1, 'no relist');

    // A watch that stays up past minWatchMs counts as success; the next failure starts from the first delay again.
    await sleep(80);
    logs.length = 0;
    api.dropWatches();
    await until(() => api.openWatches(RC) === 1, () => logs.join('\n'));
    assert.deepEqual(logs.filter((l) => l.startsWith('watch of remoteclusters')).map((l) => /restarting in (\d+) ms/.exec(l)![1]), ['10']);
    api.apply(RC, remote('basel', '64-2:0:22'));
    await until(() => events.length === 2, () => events.map(summary).join(' | '));
  });

  it('treats a watch the server closes at once as a failure, and a clean end after events as routine', async () => {
    // minWatchMs long enough that no watch outgrows it on a loaded machine while the others open.
    const s = open({ watchBackoff: { initialMs: 20, maxMs: 80, random: () => 0 }, minWatchMs: 30000 });
    const events = watchAll(s);
    await until(() => api.openWatches() === KIND_COUNT, () => `${api.openWatches()} watches`);
    api.endWatches();
    // The watch counts as open again only once its end was read and logged.
    await until(() => logs.some((l) => /remoteclusters closed after \d+ ms without events; restarting in 10 ms/.test(l)), () => logs.join('\n'));
    await until(() => api.openWatches(RC) === 1, () => 'rewatch');
    api.apply(RC, remote('zurich', '64-2:0:20'));
    await until(() => events.length === 1, () => 'event');
    logs.length = 0;
    const before = api.watchRequests(RC).length;
    api.endWatches();
    await until(() => api.watchRequests(RC).length === before + 1, () => 'rewatch');
    assert.deepEqual(logs.filter((l) => l.includes('remoteclusters')), [], 'an ended watch that delivered events restarts at once');
    assert.equal(api.watchRequests(RC).at(-1)!.query.get('resourceVersion'), api.get(RC, 'zurich')!.metadata.resourceVersion);
  });

  it('keeps trying when the first list fails, and becomes ready once it succeeds', async () => {
    api.apply(RC, remote('zurich', '64-2:0:20'));
    api.failNext('GET', /^\/apis\/cillion\.io\/v1alpha1\/remoteclusters$/, 503, 2);
    const s = open();
    const entries = await s.list();
    assert.deepEqual(entries.map((e) => keyString(e.key)), ['RemoteCluster/zurich']);
    assert.equal(logs.filter((l) => l.startsWith('watch of remoteclusters')).length, 2, logs.join('\n'));
  });

  it('writes status by server-side apply on the status subresource as cillion-operator', async () => {
    api.apply(RC, remote('zurich', '64-2:0:20'));
    const s = open();
    const events = watchAll(s);
    await until(() => events.length === 1 && api.openWatches(RC) === 1, () => 'add');
    await s.writeStatus({ kind: 'RemoteCluster', namespace: '', name: 'zurich' }, status(1, 'True'));
    await s.idle();
    const [patch, ...more] = api.requestsTo('/apis/cillion.io/v1alpha1/remoteclusters/zurich/status', 'PATCH');
    assert.equal(more.length, 0);
    assert.equal(patch!.contentType, 'application/apply-patch+yaml');
    assert.equal(patch!.query.get('fieldManager'), 'cillion-operator');
    assert.equal(patch!.query.get('force'), 'true');
    assert.deepEqual(patch!.body, { apiVersion: 'cillion.io/v1alpha1', kind: 'RemoteCluster', metadata: { name: 'zurich' }, status: status(1, 'True') });
    const stored = api.get(RC, 'zurich')!;
    assert.deepEqual(stored.status, status(1, 'True'));
    assert.deepEqual(stored.metadata.managedFields.map((m: { manager: string; subresource: string }) => [m.manager, m.subresource]), [['cillion-operator', 'status']]);
    // The MODIFIED event our own write caused changes nothing the reconciler reads.
    await until(() => s.resourceVersions().RemoteCluster === stored.metadata.resourceVersion, () => 'status event');
    await sleep(20);
    assert.deepEqual(events.map(summary), ['add RemoteCluster/zurich gen1 valid']);
    const [entry] = await s.list();
    assert.equal(entry!.resourceVersion, stored.metadata.resourceVersion);
  });

  it('queues status per key: the latest wins, a failing key retries without blocking others', async () => {
    api.apply(RC, remote('a', '64-2:0:20'));
    api.apply(RC, remote('b', '64-2:0:21'));
    const s = open({ statusBackoff: { initialMs: 20, maxMs: 80, random: () => 0 } });
    await s.list();
    const a = { kind: 'RemoteCluster' as const, namespace: '', name: 'a' };
    const b = { kind: 'RemoteCluster' as const, namespace: '', name: 'b' };
    api.failNext('PATCH', /remoteclusters\/a\/status/, 500, 3);
    await s.writeStatus(a, status(1, 'False'));
    await s.writeStatus(a, status(2, 'False'));
    await s.writeStatus(b, status(1, 'True'));
    await s.writeStatus(a, status(3, 'True'));
    await until(() => api.get(RC, 'b')!.status !== undefined, () => 'b written');
    assert.equal(api.get(RC, 'a')!.status, undefined, 'a is still failing while b got through');
    await s.idle();
    assert.deepEqual(api.get(RC, 'a')!.status, status(3, 'True'));
    const aPatches = api.requestsTo('/apis/cillion.io/v1alpha1/remoteclusters/a/status', 'PATCH');
    // The first attempt carried the first status; every retry carried the newest one.
    assert.deepEqual(aPatches.map((r) => (r.body as { status: ResourceStatus }).status.observedGeneration), [1, 3, 3, 3]);
    assert.deepEqual(
      logs.filter((l) => l.startsWith('status of RemoteCluster/a')).map((l) => /retrying in (\d+) ms/.exec(l)?.[1]),
      ['10', '20', '40'],
    );
    assert.equal(api.requestsTo('/apis/cillion.io/v1alpha1/remoteclusters/b/status', 'PATCH').length, 1);
  });

  it('drops a status write the server cannot accept instead of retrying it', async () => {
    const s = open();
    await s.list();
    await s.writeStatus({ kind: 'Geofence', namespace: '', name: 'gone' }, status(1, 'True'));
    await s.idle();
    assert.equal(api.requestsTo('/apis/cillion.io/v1alpha1/geofences/gone/status', 'PATCH').length, 1);
    assert.ok(logs.some((l) => l.startsWith('status of Geofence/gone') && l.endsWith('dropped')), logs.join('\n'));
  });

  it('stops writing at once when told (a lost lease), and on resuming writes the newest status of every live resource', async () => {
    api.apply(RC, remote('a', '64-2:0:20'));
    api.apply(RC, remote('b', '64-2:0:21'));
    api.apply(RC, remote('c', '64-2:0:22'));
    const s = open({ writeStatus: false, statusBackoff: { initialMs: 400, maxMs: 800, random: () => 0 } });
    const events = watchAll(s);
    await until(() => events.length === 3 && api.openWatches(RC) === 1, () => 'adds');
    const key = (name: string) => ({ kind: 'RemoteCluster' as const, namespace: '', name });
    const patches = (name: string) => api.requestsTo(`/apis/cillion.io/v1alpha1/remoteclusters/${name}/status`, 'PATCH');
    await s.writeStatus(key('a'), status(1, 'False'));
    await s.writeStatus(key('a'), status(2, 'True'));
    await s.writeStatus(key('c'), status(1, 'True'));
    await sleep(50);
    assert.equal(api.requestsTo('/apis/cillion.io/v1alpha1/remoteclusters/').filter((r) => r.method === 'PATCH').length, 0, 'a follower writes nothing');
    // A resource deleted meanwhile is not written to when writing resumes.
    api.remove(RC, 'c');
    await until(() => events.some((e) => summary(e) === 'delete RemoteCluster/c'), () => events.map(summary).join(' | '));
    s.setWritingStatus(true);
    await s.idle();
    assert.deepEqual(patches('a').map((r) => (r.body as { status: ResourceStatus }).status.observedGeneration), [2]);
    assert.equal(patches('c').length, 0);

    // b's first write fails; once writing stops, neither its retry (due after 200 ms) nor its newer status goes out.
    api.failNext('PATCH', /remoteclusters\/b\/status/, 500);
    await s.writeStatus(key('b'), status(1, 'True'));
    await until(() => patches('b').length === 1, () => 'first attempt');
    s.setWritingStatus(false);
    assert.equal(s.writingStatus, false);
    await s.writeStatus(key('b'), status(2, 'True'));
    await s.idle();
    await sleep(300);
    assert.equal(patches('b').length, 1, 'no retry after writing stopped');
    s.setWritingStatus(true);
    await s.idle();
    assert.deepEqual(api.get(RC, 'b')!.status, status(2, 'True'));
  });

  it('close() ends watches, retries and listeners', async () => {
    api.apply(RC, remote('a', '64-2:0:20'));
    const s = open();
    const events = watchAll(s);
    await until(() => events.length === 1 && api.openWatches() === KIND_COUNT, () => 'watching');
    api.failNext('PATCH', /remoteclusters\/a\/status/, 500, 100);
    await s.writeStatus({ kind: 'RemoteCluster', namespace: '', name: 'a' }, status(1, 'True'));
    await until(() => api.requestsTo('/apis/cillion.io/v1alpha1/remoteclusters/a/status').length >= 1, () => 'first attempt');
    await s.close();
    await until(() => api.openWatches() === 0, () => `${api.openWatches()} watches open`);
    const requests = api.requests.length;
    api.apply(RC, remote('b', '64-2:0:21'));
    await sleep(100);
    assert.equal(api.requests.length, requests, 'nothing is retried after close');
    assert.equal(events.length, 1);
    await assert.rejects(s.writeStatus({ kind: 'RemoteCluster', namespace: '', name: 'a' }, status(1, 'True')), /closed/);
  });

  it('close() before the first list completes ends list() and opens no watch', async () => {
    api.failNext('GET', /^\/apis\/cillion\.io\/v1alpha1\/geofences$/, 503, 100);
    const s = open();
    const listing = s.list();
    await until(() => api.openWatches(RC) === 1, () => 'other kinds watching');
    await s.close();
    await assert.rejects(listing, /closed/);
    await sleep(50);
    assert.equal(api.openWatches(), 0);
  });
});

describe('operator/sources LeaderElector (recorded-protocol API server)', () => {
  const NS = 'cillion-system';
  const NAME = 'cillion-operator';
  const LEASE = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`;
  const MICRO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
  let api: FakeApiServer;
  let clock: number;
  const electors: LeaderElector[] = [];
  const log: string[] = [];
  const elector = (identity: string, opts: Partial<LeaderElectorOptions> = {}) => {
    const calls: string[] = [];
    const e = new LeaderElector({
      kubeConfig: kubeConfigFor(api.url),
      namespace: NS,
      name: NAME,
      identity,
      leaseDurationSeconds: 15,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 10,
      now: () => new Date(clock),
      onStartedLeading: () => calls.push('started'),
      onStoppedLeading: () => calls.push('stopped'),
      onNewLeader: (id) => calls.push(`leader ${id}`),
      log: (m) => log.push(m),
      ...opts,
    });
    electors.push(e);
    return { e, calls };
  };
  const leaseSpec = () => api.lease(NS, NAME)?.spec;

  beforeEach(async () => {
    api = new FakeApiServer({});
    await api.start();
    clock = Date.parse('2025-03-01T12:00:00.000Z');
    log.length = 0;
  });
  afterEach(async () => {
    for (const e of electors.splice(0)) await e.stop();
    await api.close();
  });

  it('creates a free Lease and renews it, keeping acquireTime', async () => {
    const { e, calls } = elector('pod-a');
    e.start();
    await until(() => e.isLeader, () => log.join('\n'));
    assert.deepEqual(calls, ['started']);
    const created = api.requestsTo(LEASE, 'POST');
    assert.equal(created.length, 1);
    const spec = leaseSpec()!;
    assert.equal(spec.holderIdentity, 'pod-a');
    assert.equal(spec.leaseDurationSeconds, 15);
    assert.equal(spec.leaseTransitions, 0);
    assert.match(spec.acquireTime, MICRO);
    assert.equal(spec.renewTime, '2025-03-01T12:00:00.000000Z');

    clock += 2000;
    await until(() => leaseSpec()!.renewTime === '2025-03-01T12:00:02.000000Z', () => JSON.stringify(leaseSpec()));
    assert.equal(leaseSpec()!.acquireTime, spec.acquireTime);
    assert.equal(leaseSpec()!.leaseTransitions, 0);
    const put = api.requestsTo(`${LEASE}/${NAME}`, 'PUT').at(-1)!;
    assert.ok((put.body as { metadata: { resourceVersion?: string } }).metadata.resourceVersion, 'updates are conditional on the version read');
    assert.ok(e.isLeader);
  });

  it('waits out a live holder, then takes the Lease over once it has not changed for the lease duration', async () => {
    api.putLease(NS, NAME, { holderIdentity: 'pod-b', leaseDurationSeconds: 15, acquireTime: '2025-03-01T11:00:00.000000Z', renewTime: '2025-03-01T11:59:59.000000Z', leaseTransitions: 4 });
    const { e, calls } = elector('pod-a');
    e.start();
    await until(() => calls.length > 0, () => 'observed');
    assert.deepEqual(calls, ['leader pod-b']);
    clock += 14_000;
    await sleep(50);
    assert.equal(e.isLeader, false);
    assert.equal(api.requestsTo(`${LEASE}/${NAME}`, 'PUT').length, 0);
    clock += 1_000;
    await until(() => e.isLeader, () => log.join('\n'));
    const spec = leaseSpec()!;
    assert.equal(spec.holderIdentity, 'pod-a');
    assert.equal(spec.leaseTransitions, 5);
    assert.equal(spec.acquireTime, '2025-03-01T12:00:15.000000Z');
  });

  it('keeps waiting while the holder keeps renewing', async () => {
    api.putLease(NS, NAME, { holderIdentity: 'pod-b', leaseDurationSeconds: 15, renewTime: '2025-03-01T12:00:00.000000Z', leaseTransitions: 0 });
    const { e } = elector('pod-a');
    e.start();
    const reads = () => api.requestsTo(`${LEASE}/${NAME}`, 'GET').length;
    for (let i = 1; i <= 4; i++) {
      clock += 10_000;
      api.putLease(NS, NAME, { holderIdentity: 'pod-b', leaseDurationSeconds: 15, renewTime: new Date(clock).toISOString().replace('Z', '000Z'), leaseTransitions: 0 });
      // Two reads after the renewal: the candidate has certainly seen it.
      const seen = reads() + 2;
      await until(() => reads() >= seen, () => 'reads');
      assert.equal(e.isLeader, false, `round ${i}`);
    }
    assert.equal(leaseSpec()!.holderIdentity, 'pod-b');
  });

  it('of two candidates racing for a free Lease exactly one leads', async () => {
    const a = elector('pod-a');
    const b = elector('pod-b');
    a.e.start();
    b.e.start();
    await until(() => a.e.isLeader || b.e.isLeader, () => log.join('\n'));
    await sleep(60);
    assert.notEqual(a.e.isLeader, b.e.isLeader);
    assert.equal(leaseSpec()!.holderIdentity, a.e.isLeader ? 'pod-a' : 'pod-b');
  });

  it('steps down when renewals fail past the renew deadline', async () => {
    const { e, calls } = elector('pod-a');
    e.start();
    await until(() => e.isLeader, () => 'leading');
    api.failNext('PUT', new RegExp(`${LEASE}/${NAME}`), 500, 1000);
    clock += 9_000;
    await sleep(50);
    assert.ok(e.isLeader, 'still inside the renew deadline');
    clock += 1_000;
    await until(() => !e.isLeader, () => log.join('\n'));
    assert.deepEqual(calls, ['started', 'stopped']);
    assert.ok(log.some((l) => l.includes('could not renew')));
  });

  it('steps down at once when another holder took the Lease', async () => {
    const { e, calls } = elector('pod-a');
    e.start();
    await until(() => e.isLeader, () => 'leading');
    api.putLease(NS, NAME, { holderIdentity: 'pod-b', leaseDurationSeconds: 15, renewTime: '2025-03-01T12:00:00.000000Z', leaseTransitions: 1 });
    await until(() => !e.isLeader, () => log.join('\n'));
    assert.deepEqual(calls, ['started', 'leader pod-b', 'stopped']);
  });

  it('stop() releases a held Lease so a successor takes it without waiting', async () => {
    const a = elector('pod-a');
    a.e.start();
    await until(() => a.e.isLeader, () => 'a leads');
    await a.e.stop();
    assert.deepEqual(a.calls, ['started', 'stopped']);
    assert.equal(leaseSpec()!.holderIdentity, '');
    const b = elector('pod-b');
    b.e.start();
    await until(() => b.e.isLeader, () => log.join('\n'));
    assert.equal(leaseSpec()!.leaseTransitions, 1);
  });
});
