import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityBook, IdentityLookup } from '../../../operator/datapath/identities';
import { IdentityAllocator, IdentityError, LOCAL_IDENTITY_MIN } from '../../../identity/allocator';
import { ClusterIdentities } from '../../../operator/cluster_allocator';
import { clusterIdOf, localIdentityOf, RESERVED_IDENTITY_END, scopedIdentity } from '../../../identity/cluster_scope';
import { identityLabels } from '../../../identity/labels';
import { AllocatorLock } from '../../../identity/lock';
import { IdentityReader } from '../../../identity/reader';
import type { Workload } from '../../../identity/workload';

const code = (c: string) => (e: unknown) => e instanceof IdentityError && e.code === c;
const pod = (name: string, app: string): Workload => ({ name, namespace: 'shop', labels: { app }, namespaceLabels: {}, ip: '10.0.0.1', node: 'n' });

describe('identity', () => {
  let dir: string;
  let file: string;
  const clock = { now: 1_000_000 };
  const opts = { clusterId: 1, graceMs: 60_000, now: () => clock.now };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-id-'));
    file = join(dir, 'identities.json');
    clock.now = 1_000_000;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('normalises labels: namespace included, per-pod labels dropped, order irrelevant', () => {
    assert.deepEqual(identityLabels('shop', { app: 'billing', 'pod-template-hash': '7d9f', tier: 'api', 'statefulset.kubernetes.io/pod-name': 'db-0' }), [
      'k8s:app=billing',
      'k8s:io.kubernetes.pod.namespace=shop',
      'k8s:tier=api',
    ]);
  });

  it('allocates scoped numbers from local 256 up; same labels, same identity; distinct sets distinct', () => {
    const a = IdentityAllocator.open(file, opts);
    const billing = a.acquire('shop', { app: 'billing', 'pod-template-hash': 'a' });
    assert.equal(billing.id, scopedIdentity(1, LOCAL_IDENTITY_MIN));
    assert.equal(a.acquire('shop', { 'pod-template-hash': 'b', app: 'billing' }).id, billing.id);
    const ids = new Set([billing.id, a.acquire('shop', { app: 'video' }).id, a.acquire('media', { app: 'billing' }).id, a.acquire('shop', {}).id]);
    assert.equal(ids.size, 4);
    for (const id of ids) assert.equal(clusterIdOf(id), 1);
    assert.equal(a.lookupById(billing.id), billing);
    assert.equal(a.lookupByLabels('shop', { app: 'billing' })?.id, billing.id);
    assert.equal(a.lookupByLabels('shop', { app: 'nothing' }), undefined);
  });

  it('gives billing different numbers in two clusters, with the same local number', () => {
    const zurich = IdentityAllocator.open(join(dir, 'zurich.json'), { ...opts, clusterId: 1 });
    const frankfurt = IdentityAllocator.open(join(dir, 'frankfurt.json'), { ...opts, clusterId: 2 });
    const z = zurich.acquire('shop', { app: 'billing' }).id;
    const f = frankfurt.acquire('shop', { app: 'billing' }).id;
    assert.notEqual(z, f);
    assert.deepEqual([clusterIdOf(z), clusterIdOf(f)], [1, 2]);
    assert.equal(localIdentityOf(z), localIdentityOf(f));
    assert.ok(z > 0xffff && f > 0xffff, 'identities above 16 bits');
  });

  it('is stable across a restart', () => {
    const a = IdentityAllocator.open(file, opts);
    const ids = ['billing', 'video', 'analytics'].map((app) => a.acquire('shop', { app }).id);
    const b = IdentityAllocator.open(file, opts);
    assert.deepEqual(['billing', 'video', 'analytics'].map((app) => b.acquire('shop', { app }).id), ids);
    assert.equal(b.acquire('shop', { app: 'new' }).id, Math.max(...ids) + 1);
  });

  it('keeps a released identity through the grace period, then frees its number', () => {
    const a = IdentityAllocator.open(file, opts);
    const billing = a.acquire('shop', { app: 'billing' });
    a.acquire('shop', { app: 'billing' });
    a.release(billing.id);
    clock.now += 120_000;
    assert.deepEqual(a.gc(), [], 'still one user');
    a.release(billing.id);
    clock.now += 59_000;
    assert.deepEqual(a.gc(), []);
    assert.equal(a.acquire('shop', { app: 'billing' }).id, billing.id, 'comes back within grace');
    a.release(billing.id);
    clock.now += 60_000;
    assert.deepEqual(a.gc(), [billing.id]);
    assert.equal(a.lookupById(billing.id), undefined);
    assert.equal(IdentityAllocator.open(file, opts).lookupById(billing.id), undefined, 'the freed number is gone from the file too');
    assert.equal(a.acquire('shop', { app: 'other' }).id, billing.id, 'number reused after grace');
  });

  it('after a restart unused identities get a fresh grace period instead of vanishing', () => {
    const a = IdentityAllocator.open(file, opts);
    const id = a.acquire('shop', { app: 'billing' }).id;
    clock.now += 3_600_000;
    const b = IdentityAllocator.open(file, opts);
    assert.deepEqual(b.gc(), []);
    clock.now += 60_000;
    assert.deepEqual(b.gc(), [id]);
  });

  it('exhausts per cluster: a full cluster refuses, another cluster still allocates', () => {
    const a = IdentityAllocator.open(file, { ...opts, min: 300, max: 301 });
    a.acquire('ns', { app: '1' });
    a.acquire('ns', { app: '2' });
    assert.throws(() => a.acquire('ns', { app: '3' }), (e: unknown) => code('EXHAUSTED')(e) && /cluster 1/.test((e as Error).message));
    const other = IdentityAllocator.open(join(dir, 'other.json'), { ...opts, clusterId: 2, min: 300, max: 301 });
    assert.equal(other.acquire('ns', { app: '3' }).id, scopedIdentity(2, 300));
    // The book numbers the others and reports the one left over instead of failing them all.
    const left: string[] = [];
    const book = new IdentityBook(IdentityAllocator.open(join(dir, 'book.json'), { ...opts, min: 300, max: 301 }), (w) => left.push(w.name));
    const got = book.sync([pod('a-0', 'a'), pod('b-0', 'b'), pod('c-0', 'c')]);
    assert.deepEqual([...got.keys()], ['shop/a-0', 'shop/b-0']);
    assert.deepEqual(left, ['c-0']);
  });

  it('writes the state file once per sync, not once per pod, and still hands out numbers lowest first', async () => {
    let writes = 0;
    const a = IdentityAllocator.open(file, { ...opts, guard: () => void writes++ });
    const book = new IdentityBook(a);
    const pods = Array.from({ length: 400 }, (_, i) => pod(`p-${i}`, `app-${i}`));
    const got = a.batch(() => book.sync(pods));
    assert.equal(writes, 1);
    assert.deepEqual(IdentityAllocator.open(file, opts).all().length, 400, 'all of them are in the one write');
    assert.equal(got.get('shop/p-399'), scopedIdentity(1, LOCAL_IDENTITY_MIN + 399));
    // Unchanged: no write at all. Outside a batch every change is still written at once.
    a.batch(() => book.sync(pods));
    assert.equal(writes, 1);
    a.acquire('shop', { app: 'single' });
    assert.equal(writes, 2);
    // A freed number low in the range is the next one handed out.
    a.batch(() => book.sync(pods.filter((p) => p.name !== 'p-3')));
    clock.now += 60_000;
    assert.equal(a.batch(() => a.gc()).length, 1);
    assert.equal(a.acquire('shop', { app: 'late' }).id, scopedIdentity(1, LOCAL_IDENTITY_MIN + 3));

    // The operator's sync writes once for a whole cluster's pods (the lock is checked before each write).
    const checks = { n: 0 };
    const check = AllocatorLock.prototype.check;
    AllocatorLock.prototype.check = function (this: AllocatorLock) {
      checks.n++;
      check.call(this);
    };
    try {
      const c = await ClusterIdentities.open({ stateFile: join(dir, 'cluster.json'), clusterId: 1, workloads: () => pods, log: () => undefined });
      assert.deepEqual(c.sync(), { changed: true, exhausted: 0 });
      assert.equal(checks.n, 1);
      assert.equal(c.view.all().length, 400);
      c.close();
    } finally {
      AllocatorLock.prototype.check = check;
    }
  });

  it('resumes from published identities: an empty state starts from them, a stale one yields to them (a new leader on Kubernetes)', async () => {
    const billing = identityLabels('shop', { app: 'billing' });
    const video = identityLabels('shop', { app: 'video' });
    const published = [{ id: scopedIdentity(1, 300), labels: billing }, { id: scopedIdentity(1, 301), labels: video }];
    let pods = [pod('b-1', 'billing'), pod('n-1', 'new')];
    const log: string[] = [];
    const c = await ClusterIdentities.open({ stateFile: file, clusterId: 1, workloads: () => pods, published: () => published, graceMs: 60_000, now: () => clock.now, log: (l) => log.push(l) });
    c.sync();
    assert.match(log.join('\n'), /resuming from the 2 published identities of cluster 1/);
    // billing keeps its number; a new workload takes the lowest free one; video waits out its grace period.
    assert.equal(c.view.lookupByLabels('shop', { app: 'billing' })?.id, scopedIdentity(1, 300));
    assert.equal(c.view.lookupByLabels('shop', { app: 'new' })?.id, scopedIdentity(1, 256));
    assert.equal(c.view.lookupByLabels('shop', { app: 'video' })?.id, scopedIdentity(1, 301));
    clock.now += 60_001;
    pods = [pod('b-1', 'billing'), pod('n-1', 'new')];
    c.sync();
    assert.equal(c.view.lookupByLabels('shop', { app: 'video' }), undefined);
    c.close();
    // Another leader meanwhile gave 256 to "other" and 257 to "new": the stale file yields, and keeps what no one contradicts.
    const other = identityLabels('shop', { app: 'other' });
    const d = await ClusterIdentities.open({
      stateFile: file, clusterId: 1, workloads: () => [], now: () => clock.now, log: (l) => log.push(l),
      published: () => [{ id: scopedIdentity(1, 256), labels: other }, { id: scopedIdentity(1, 257), labels: identityLabels('shop', { app: 'new' }) }],
    });
    assert.match(log.at(-1)!, /1 number\(s\) of .* contradicted them and were dropped/);
    assert.equal(d.view.lookupByLabels('shop', { app: 'other' })?.id, scopedIdentity(1, 256));
    assert.equal(d.view.lookupByLabels('shop', { app: 'new' })?.id, scopedIdentity(1, 257));
    assert.equal(d.view.lookupByLabels('shop', { app: 'billing' })?.id, scopedIdentity(1, 300));
    d.close();
    // Nothing published (an allocation from before publishing): the file as it is, not rewritten.
    const before = readFileSync(file, 'utf8');
    const e = await ClusterIdentities.open({ stateFile: file, clusterId: 1, workloads: () => [], published: () => [], log: () => undefined });
    assert.equal(readFileSync(file, 'utf8'), before);
    assert.equal(e.view.all().length, 3);
    e.close();
  });

  it('never hands out or accepts a reserved identity', () => {
    const a = IdentityAllocator.open(file, { ...opts, min: 256, max: 258 });
    const got = ['1', '2', '3'].map((app) => a.acquire('ns', { app }).id);
    for (const id of got) assert.ok(id >= RESERVED_IDENTITY_END + (1 << 16), `${id} is reserved`);
    a.release(2);
    assert.equal(a.lookupById(2), undefined);
    assert.throws(() => IdentityAllocator.open(file, { ...opts, min: 255 }), RangeError);
    writeFileSync(file, JSON.stringify({ version: 2, clusterId: 1, identities: [{ id: 2, labels: ['reserved:world'] }] }));
    assert.throws(() => IdentityAllocator.open(file, opts), code('CORRUPT_STATE'));
  });

  it('upgrades a version 1 file, keeping each local number under the cluster id', () => {
    writeFileSync(file, JSON.stringify({ version: 1, identities: [{ id: 256, labels: ['k8s:app=billing', 'k8s:io.kubernetes.pod.namespace=shop'] }, { id: 300, labels: ['x'], releasedAt: 5 }] }));
    const early = new IdentityReader(file, 7).refresh();
    assert.match(early.error?.message ?? '', /before cluster ids: the operator upgrades it/, 'an agent leaves the upgrade to the operator');
    const a = IdentityAllocator.open(file, { ...opts, clusterId: 7 });
    assert.equal(a.lookupByLabels('shop', { app: 'billing' })?.id, scopedIdentity(7, 256));
    assert.equal(a.lookupById(scopedIdentity(7, 300))?.labels[0], 'x');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { version: number; clusterId: number };
    assert.deepEqual([saved.version, saved.clusterId], [2, 7], 'written back as version 2 at once');
    assert.equal(IdentityAllocator.open(file, { ...opts, clusterId: 7 }).lookupByLabels('shop', { app: 'billing' })?.id, scopedIdentity(7, 256));
  });

  it('refuses a state file of another cluster id, saying what to do', () => {
    IdentityAllocator.open(file, opts).acquire('shop', { app: 'billing' });
    assert.throws(() => IdentityAllocator.open(file, { ...opts, clusterId: 2 }), (e: unknown) => code('CLUSTER_ID_MISMATCH')(e) && /set spec.clusterId back to 1/.test((e as Error).message) && /move the file away/.test((e as Error).message));
    const read = new IdentityReader(file, 2).refresh();
    assert.ok(read.error && code('CLUSTER_ID_MISMATCH')(read.error), 'an agent with the other id refuses too');
  });

  it('reports a corrupt state file with typed errors', () => {
    for (const text of [
      'not json',
      '{"version":2,"clusterId":1,"identities":[{"id":65836,"labels":["a"]},{"id":65836,"labels":["b"]}]}',
      '{"version":2,"clusterId":1,"identities":[{"id":131328,"labels":["a"]}]}',
      '{"version":1,"identities":[{"id":70000,"labels":["a"]}]}',
      '{"version":3,"clusterId":1,"identities":[]}',
    ]) {
      writeFileSync(file, text);
      assert.throws(() => IdentityAllocator.open(file, opts), code('CORRUPT_STATE'), text);
    }
  });

  describe('the lock: one allocating process per cluster', () => {
    it('refuses a second holder while the first holds it, and hands over on release', async () => {
      const lockFile = AllocatorLock.fileFor(file);
      const first = AllocatorLock.tryAcquire(lockFile);
      assert.ok(first instanceof AllocatorLock);
      const second = AllocatorLock.tryAcquire(lockFile);
      assert.ok(!(second instanceof AllocatorLock));
      assert.equal(second.pid, process.pid);
      // A waiting operator is told once who holds it, and gets it when the holder lets go.
      const told: number[] = [];
      const waiting = AllocatorLock.acquire(lockFile, { pollMs: 10, onWait: (h) => told.push(h.pid) });
      const deadline = Date.now() + 5000;
      while (told.length === 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      assert.deepEqual(told, [process.pid]);
      first.release();
      const got = await waiting;
      got.check();
      assert.throws(() => first.check(), code('LOCK_LOST'));
      got.release();
      assert.equal(existsSync(lockFile), false);
    });

    it('a second operator of the cluster waits and never allocates while the first runs', async () => {
      const log: string[] = [];
      const workloads = () => [pod('billing-0', 'billing')];
      const a = await ClusterIdentities.open({ stateFile: file, clusterId: 1, workloads, log: (l) => log.push(l) });
      a.sync();
      const abort = new AbortController();
      const b = ClusterIdentities.open({ stateFile: file, clusterId: 1, workloads, lockPollMs: 10, signal: abort.signal, log: (l) => log.push(l) });
      const deadline = Date.now() + 5000;
      while (!log.some((l) => /waiting for/.test(l)) && Date.now() < deadline) await new Promise((r) => setImmediate(r));
      assert.ok(log.some((l) => new RegExp(`allocated by pid ${process.pid}`).test(l)), log.join('\n'));
      abort.abort();
      await assert.rejects(b, code('LOCKED'));
      a.close();
      const c = await ClusterIdentities.open({ stateFile: file, clusterId: 1, workloads, log: (l) => log.push(l) });
      assert.equal(c.view.lookupByLabels('shop', { app: 'billing' })?.id, scopedIdentity(1, 256), 'the next holder keeps the numbers');
      c.close();
    });

    it('breaks the lock of a process that is gone, not one of another host', () => {
      const lockFile = AllocatorLock.fileFor(file);
      const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
      const deadPid = Number(gone.stdout);
      writeFileSync(lockFile, JSON.stringify({ pid: deadPid, host: hostname(), token: 'dead', since: 'then' }));
      const got = AllocatorLock.tryAcquire(lockFile);
      assert.ok(got instanceof AllocatorLock, `the lock of exited pid ${deadPid} is taken over`);
      got.release();
      writeFileSync(lockFile, JSON.stringify({ pid: deadPid, host: 'elsewhere', token: 'remote', since: 'then' }));
      const refused = AllocatorLock.tryAcquire(lockFile);
      assert.ok(!(refused instanceof AllocatorLock));
      assert.equal(refused.host, 'elsewhere');
    });

    it('a holder that lost the lock stops writing', async () => {
      const pods = [pod('billing-0', 'billing')];
      const a = await ClusterIdentities.open({ stateFile: file, clusterId: 1, workloads: () => pods, log: () => undefined });
      a.sync();
      rmSync(AllocatorLock.fileFor(file));
      const taker = AllocatorLock.tryAcquire(AllocatorLock.fileFor(file));
      assert.ok(taker instanceof AllocatorLock);
      const before = readFileSync(file, 'utf8');
      pods.push(pod('video-0', 'video'));
      assert.throws(() => a.sync(), code('LOCK_LOST'));
      assert.equal(readFileSync(file, 'utf8'), before);
      a.close();
      taker.check();
      taker.release();
    });
  });

  it('agents read the allocation and never write it; a pod without a number is left out', () => {
    const reader = new IdentityReader(file, 1);
    assert.deepEqual(reader.refresh(), { changed: true });
    assert.deepEqual(reader.all(), []);
    const a = IdentityAllocator.open(file, opts);
    const billing = a.acquire('shop', { app: 'billing' });
    assert.deepEqual(reader.refresh(), { changed: true });
    assert.deepEqual(reader.refresh(), { changed: false });
    assert.deepEqual(reader.all(), [{ id: billing.id, labels: billing.labels }]);
    const lookup = new IdentityLookup(reader);
    assert.deepEqual([...lookup.sync([pod('billing-0', 'billing'), pod('video-0', 'video')])], [['shop/billing-0', billing.id]]);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, 'garbage');
    const broken = reader.refresh();
    assert.ok(broken.error && code('CORRUPT_STATE')(broken.error));
    assert.equal(reader.lookupById(billing.id)?.id, billing.id, 'the last good allocation stays');
    writeFileSync(file, text);
    assert.equal(readFileSync(file, 'utf8'), text);
  });
});
