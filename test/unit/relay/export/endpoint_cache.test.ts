// The relay's memory of endpoint keys across batches: it gives what storedEndpoint gives,
// once per distinct endpoint, and an endpoint differing in any field gets its own key.
import assert from 'node:assert/strict';
import { Endpoint } from '../../../../proto/gen/flow/flow';
import { KnownEndpoints } from '../../../../relay/export/endpoint_cache';
import { storedEndpoint } from '../../../../relay/store/keys';

const pod = Endpoint.fromPartial({
  ID: 7,
  identity: 1234,
  clusterName: 'zurich',
  namespace: 'shop',
  labels: ['k8s:app=cart', 'k8s:tier=web'],
  podName: 'cart-1',
  workloads: [{ name: 'cart', kind: 'Deployment' }],
});

describe('relay/export/endpoint_cache', () => {
  it('gives what storedEndpoint gives, and remembers an endpoint of the same fields', () => {
    const known = new KnownEndpoints();
    const first = known.of(pod);
    assert.deepEqual(first, storedEndpoint(pod));
    assert.equal(known.of(Endpoint.fromPartial(Endpoint.toJSON(pod) as object)), first, 'an equal endpoint of another batch');
  });

  it('keys an endpoint differing in any field apart, also where joined texts would be equal', () => {
    const known = new KnownEndpoints();
    const variants: Partial<Endpoint>[] = [
      { ID: 8 },
      { identity: 1235 },
      { clusterName: 'geneva' },
      { namespace: 'shop2' },
      { labels: ['k8s:app=cart,k8s:tier=web'] },
      { labels: ['k8s:app=cart', 'k8s:tier=web', ''] },
      { podName: 'cart-2' },
      { workloads: [{ name: 'cart', kind: 'StatefulSet' }] },
      { workloads: [] },
    ];
    const base = known.of(pod);
    for (const v of variants) {
      const ep = { ...pod, ...v };
      const got = known.of(ep);
      assert.notEqual(got, base, JSON.stringify(v));
      assert.deepEqual(got, storedEndpoint(ep), JSON.stringify(v));
    }
  });

  it('bounds what it remembers by the size of the keys too: an endpoint larger than the bound is rebuilt each time, with the right key', () => {
    const huge = { ...pod, labels: Array.from({ length: 128 }, (_, i) => `k8s:l${i}=${'v'.repeat(1000)}`) };
    const known = new KnownEndpoints(16_384, 10_000);
    assert.deepEqual(known.of(huge), storedEndpoint(huge));
    assert.notEqual(known.of(huge), known.of(huge), 'not remembered');
    assert.equal(known.of(pod), known.of(pod), 'a small one is');
  });

  it('starts over when full, still giving the right keys', () => {
    const known = new KnownEndpoints(2);
    const eps = [1, 2, 3].map((i) => ({ ...pod, podName: `cart-${i}` }));
    for (const ep of [...eps, ...eps]) assert.deepEqual(known.of(ep), storedEndpoint(ep));
  });
});
