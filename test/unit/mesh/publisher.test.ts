import assert from 'node:assert/strict';
import type { Identity } from '../../../identity/allocator';
import { scopedIdentity } from '../../../identity/cluster_scope';
import { allocatorListing, CataloguePublisher, withAddresses } from '../../../mesh/publisher';
import { RemoteCatalogues } from '../../../mesh/store';
import { DEFAULT_CATALOGUE_FRESHNESS, REISSUE_MS } from '../../../mesh/catalogue';
import { FRANKFURT, zurichPeers } from './helpers';

// What an allocator's read API hands out (IdentityAllocator.all()), under test control.
class Allocation {
  identities: Identity[] = [];
  all(): Identity[] {
    return [...this.identities];
  }
}

const BILLING: Identity = { id: scopedIdentity(2, 256), labels: ['k8s:io.kubernetes.pod.namespace=shop', 'k8s:app=billing'] };
const VIDEO: Identity = { id: scopedIdentity(2, 257), labels: ['k8s:app=video', 'k8s:io.kubernetes.pod.namespace=media'] };

describe('mesh/publisher: this cluster\'s signed catalogue', () => {
  it('signs the allocation; the same bytes until something changes, then a newer generation', () => {
    const alloc = new Allocation();
    alloc.identities = [BILLING];
    let clock = 1000;
    const pub = new CataloguePublisher({ clusterName: 'frankfurt', clusterId: 2, privateKey: FRANKFURT.privateKey, listing: allocatorListing(alloc), now: () => clock });
    const store = new RemoteCatalogues(zurichPeers(), { now: () => clock });
    const first = pub.current();
    assert.ok(first.ok);
    assert.equal(store.accept(first.value).ok, true);
    assert.deepEqual(store.byIdentity(BILLING.id)?.labels, ['k8s:app=billing', 'k8s:io.kubernetes.pod.namespace=shop']);
    clock = 500;
    const same = pub.current();
    assert.equal(same.ok && same.value, first.value, 'unchanged allocation, same signed bytes');
    alloc.identities = [BILLING, VIDEO];
    const second = pub.current();
    assert.ok(second.ok);
    const taken = store.accept(second.value);
    assert.deepEqual(taken.ok && taken.value.generation, 1001n, 'a clock that stepped back still moves the generation up');
    assert.equal(store.byIdentity(VIDEO.id)?.namespace, 'media');
    const stale = store.accept(first.value);
    assert.equal(!stale.ok && stale.error.code, 'STALE');
  });

  it('signs an unchanged catalogue anew each REISSUE_MS, so receivers never find it older than their maximum age', () => {
    const alloc = new Allocation();
    alloc.identities = [BILLING];
    let clock = 1_000_000;
    const pub = new CataloguePublisher({ clusterName: 'frankfurt', clusterId: 2, privateKey: FRANKFURT.privateKey, listing: allocatorListing(alloc), now: () => clock });
    const store = new RemoteCatalogues(zurichPeers(), { now: () => clock });
    const first = pub.current();
    assert.ok(first.ok && store.accept(first.value).ok);
    clock += REISSUE_MS - 1;
    const same = pub.current();
    assert.equal(same.ok && same.value, first.value);
    clock += 1;
    const again = pub.current();
    assert.ok(again.ok && again.value !== first.value);
    const taken = store.accept(again.value);
    assert.deepEqual(taken.ok && [taken.value.generation, taken.value.changed], [BigInt(clock), true]);
    for (let i = 0; i < 10; i++) {
      clock += REISSUE_MS;
      const c = pub.current();
      assert.ok(c.ok && store.accept(c.value).ok, `still accepted after ${i + 2} h unchanged`);
    }
    assert.ok(10 * REISSUE_MS > DEFAULT_CATALOGUE_FRESHNESS.maxAgeMs);
  });

  it('adds pod addresses from the endpoint map', () => {
    const alloc = new Allocation();
    alloc.identities = [BILLING];
    const pub = new CataloguePublisher({
      clusterName: 'frankfurt', clusterId: 2, privateKey: FRANKFURT.privateKey,
      listing: withAddresses(allocatorListing(alloc), () => [['10.165.0.7', BILLING.id], ['10.165.0.8', BILLING.id], ['10.165.0.9', 0]]),
    });
    const store = new RemoteCatalogues(zurichPeers());
    const c = pub.current();
    assert.ok(c.ok && store.accept(c.value).ok);
    assert.equal(store.byAddress('10.165.0.8')?.identity, BILLING.id);
    assert.equal(store.byAddress('10.165.0.9'), undefined);
  });

  it('refuses to publish identities outside its own cluster id, as its peers would refuse them', () => {
    const alloc = new Allocation();
    alloc.identities = [{ id: 256, labels: ['k8s:app=billing'] }];
    const pub = new CataloguePublisher({ clusterName: 'frankfurt', clusterId: 2, privateKey: FRANKFURT.privateKey, listing: allocatorListing(alloc) });
    const r = pub.current();
    assert.equal(!r.ok && r.error.code, 'FOREIGN_IDENTITY');
  });
});
