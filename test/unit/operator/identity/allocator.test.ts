import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityAllocator, IdentityError, LOCAL_IDENTITY_MIN } from '../../../../operator/identity/allocator';
import { identityLabels } from '../../../../operator/identity/labels';

describe('operator/identity', () => {
  let dir: string;
  let file: string;
  const clock = { now: 1_000_000 };
  const opts = { graceMs: 60_000, now: () => clock.now };
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

  it('allocates from 256 up; same labels, same identity; distinct sets distinct', () => {
    const a = IdentityAllocator.open(file, opts);
    const billing = a.acquire('shop', { app: 'billing', 'pod-template-hash': 'a' });
    assert.equal(billing.id, LOCAL_IDENTITY_MIN);
    assert.equal(a.acquire('shop', { 'pod-template-hash': 'b', app: 'billing' }).id, billing.id);
    const ids = new Set([billing.id, a.acquire('shop', { app: 'video' }).id, a.acquire('media', { app: 'billing' }).id, a.acquire('shop', {}).id]);
    assert.equal(ids.size, 4);
    assert.equal(a.lookupById(billing.id), billing);
    assert.equal(a.lookupByLabels('shop', { app: 'billing' })?.id, billing.id);
    assert.equal(a.lookupByLabels('shop', { app: 'nothing' }), undefined);
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

  it('reports exhaustion and a corrupt state file with typed errors', () => {
    const a = IdentityAllocator.open(file, { ...opts, min: 300, max: 301 });
    a.acquire('ns', { app: '1' });
    a.acquire('ns', { app: '2' });
    assert.throws(() => a.acquire('ns', { app: '3' }), (e: unknown) => e instanceof IdentityError && e.code === 'EXHAUSTED');
    writeFileSync(file, '{"version":1,"identities":[{"id":300,"labels":["a"]},{"id":300,"labels":["b"]}]}');
    assert.throws(() => IdentityAllocator.open(file, opts), (e: unknown) => e instanceof IdentityError && e.code === 'CORRUPT_STATE');
    writeFileSync(file, 'not json');
    assert.throws(() => IdentityAllocator.open(file, opts), (e: unknown) => e instanceof IdentityError && e.code === 'CORRUPT_STATE');
  });
});
