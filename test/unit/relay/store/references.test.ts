// The reference caches: one lookup per page for the keys they lack, none for keys they
// hold, and a page's own maps hold every key however small the caches are.
import assert from 'node:assert/strict';
import { ReferenceCache } from '../../../../relay/store/references';

const workload = (key: bigint) => ({
  key: key.toString(), ID: 1, identity: Number(key), cluster_name: 'c', namespace: 'ns', pod_name: `pod-${key}`,
  labels: [`k8s:app=a${key}`], 'workloads.name': ['a'], 'workloads.kind': ['Deployment'],
});
const header = (key: bigint) => ({
  key: key.toString(), fingerprint: `f${key}`, type: 'SCION_PATH_STANDARD', src_ia: '1-ff00:0:110', dst_ia: '2-ff00:0:210',
  path_id: 3, mtu: 1472, expiry_ns: '-1500000000', latency_ns: '18446744073709551615', known: 1, raw_b64: 'AAH/',
  'hops.isd_as': ['1-ff00:0:110', '2-ff00:0:210'], 'hops.ingress_interface': [0, 7], 'hops.egress_interface': [5, 0],
  'hops.latitude': [47.5, null], 'hops.longitude': [8.5, null], 'hops.address': ['Zurich', ''], 'hops.country': ['CH', ''],
  'hops.latency_ns': ['1000', null],
});

describe('relay/store references', () => {
  it('looks up only the keys it lacks, in one query per table, and keeps a page whole past its capacity', async () => {
    const cache = new ReferenceCache('db', { endpoints: 2, paths: 1 });
    const queries: string[] = [];
    const run = async <T>(sql: string): Promise<T[]> => {
      queries.push(sql);
      const keys = [...(/IN \(([\d,]+)\)/.exec(sql)?.[1] ?? '').split(',')].map(BigInt);
      return (sql.includes('workloads') ? keys.map(workload) : keys.map(header)) as T[];
    };
    const page = await cache.resolve([new BigUint64Array([1n, 2n, 3n, 0n]), new BigUint64Array([3n, 3n])], [new BigUint64Array([7n, 8n, 0n])], run);
    assert.equal(queries.length, 2);
    assert.deepEqual([...page.endpoints.keys()].sort(), [1n, 2n, 3n]);
    assert.equal(page.endpoints.get(2n)?.podName, 'pod-2');
    assert.deepEqual(page.endpoints.get(3n)?.workloads, [{ name: 'a', kind: 'Deployment' }]);
    const p = page.paths.get(8n)!;
    assert.deepEqual(p.expiry, { seconds: -2n, nanos: 500_000_000 });
    assert.equal(p.latencyNs, 18446744073709551615n);
    assert.deepEqual(p.hops[0].geo, { latitude: 47.5, longitude: 8.5, address: 'Zurich' });
    assert.equal(p.hops[1].geo, undefined);
    assert.equal(p.hops[1].latencyNs, undefined);
    assert.deepEqual([...p.raw], [0, 1, 255]);

    queries.length = 0;
    const again = await cache.resolve([new BigUint64Array([3n, 2n])], [new BigUint64Array([8n])], run);
    assert.deepEqual(queries, [], 'what the caches hold needs no query');
    assert.equal(again.endpoints.get(3n)?.podName, 'pod-3');
    await cache.resolve([new BigUint64Array([1n])], [new BigUint64Array([7n])], run);
    assert.equal(queries.length, 2, 'evicted keys are looked up again');
    assert.match(queries[0], /key IN \(1\)/);
  });

  it('asks for the keys of a page whose every flow has endpoints of its own in queries the engine accepts', async () => {
    const cache = new ReferenceCache('db', { endpoints: 100, paths: 100 });
    const sizes: number[] = [];
    const run = async <T>(sql: string): Promise<T[]> => {
      // The engine's max_query_size is 256 KiB.
      assert.ok(sql.length < 256 * 1024, `a query of ${sql.length} characters`);
      const keys = [...(/IN \(([\d,]+)\)/.exec(sql)?.[1] ?? '').split(',')].map(BigInt);
      sizes.push(keys.length);
      return keys.map(workload) as T[];
    };
    const keys = BigUint64Array.from({ length: 30_000 }, (_, i) => 10_000_000_000_000_000_000n + BigInt(i));
    const page = await cache.resolve([keys], [], run);
    assert.equal(page.endpoints.size, 30_000);
    assert.ok(sizes.length > 1);
    assert.equal(sizes.reduce((a, b) => a + b), 30_000);
  });
});
