import { strict as assert } from 'node:assert';
import { clusterIdOf, isReservedIdentity, localIdentityOf, scopedIdentity } from '../../../identity/cluster_scope';

describe('cluster-scoped identities', () => {
  it('puts the cluster id in bits 16-23, as Cilium ClusterMesh does', () => {
    assert.equal(scopedIdentity(1, 256), 0x10100);
    assert.equal(scopedIdentity(255, 65535), 0xffffff);
    const id = scopedIdentity(7, 300);
    assert.equal(clusterIdOf(id), 7);
    assert.equal(localIdentityOf(id), 300);
  });

  it('gives two clusters different numbers for the same local identity', () => {
    assert.notEqual(scopedIdentity(1, 256), scopedIdentity(2, 256));
  });

  it('keeps reserved identities cluster-independent', () => {
    assert.equal(clusterIdOf(2), 0);
    assert.ok(isReservedIdentity(2));
    assert.ok(!isReservedIdentity(scopedIdentity(1, 256)));
  });

  it('refuses cluster ids and local numbers out of range', () => {
    for (const [c, l] of [[0, 256], [256, 256], [1.5, 256], [1, 255], [1, 65536]]) {
      assert.throws(() => scopedIdentity(c, l), RangeError);
    }
  });
});
