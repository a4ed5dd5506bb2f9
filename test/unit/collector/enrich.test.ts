import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enrich, WorkloadEndpoints } from '../../../collector/enrich';
import { ControlPlaneCatalog } from '../../../paths/catalog';
import type { MeteredFlow } from '../../../collector/flowtable';
import type { ControlPlanePath } from '../../../controlplane/combinator';
import { EmbeddedPathService } from '../../../controlplane/pathservice';
import { IdentityAllocator } from '../../../identity/allocator';
import type { Workload } from '../../../identity/workload';
import { parseIA } from '../../../scion/isdas';
import { encodeScionPathBytes } from '../../../scion/path/raw';

const EXAMPLE = join(__dirname, '../../../examples/topology.yaml');
const ZURICH = parseIA('64-2:0:20');
const FRANKFURT = parseIA('65-2:0:20');

function metered(over: Partial<MeteredFlow>): MeteredFlow {
  return {
    ifindex: 1, direction: 'EGRESS_ENCAP', inner: { proto: 6, srcAddr: '10.1.0.5', dstAddr: '10.2.0.9', srcPort: 1, dstPort: 2 }, identity: 300,
    srcIA: ZURICH, dstIA: FRANKFURT, pathType: 1, pathId: 0, path: new Uint8Array(0), pathTruncated: false, ingressIfid: 0, egressIfid: 0,
    firstNs: 0, lastNs: 0, packets: 1, bytes: 1, podBytes: 1, wireBytes: 2, foldedReports: 0, lostPackets: 0, lostBytes: 0, dropped: 0, tcpFlags: 0, firstTcpFlags: 0, dropReasons: 0, lastDropReason: 0, lastDropPolicyId: 0, start: true, end: 'idle', ...over,
  };
}

describe('collector/enrich', () => {
  let paths: ControlPlanePath[];
  before(async () => {
    const svc = EmbeddedPathService.fromFile(EXAMPLE, { now: () => 1_700_000_000, seed: 1 });
    paths = await svc.paths(ZURICH, FRANKFURT);
  });

  describe('WorkloadEndpoints', () => {
    const web: Workload = { name: 'web-1', namespace: 'shop', labels: { app: 'web', 'pod-template-hash': 'abc' }, namespaceLabels: {}, ip: '10.1.0.5', node: 'n1' };

    it('maps a pod IP to pod, namespace, Hubble-style labels and identity', () => {
      const d = new WorkloadEndpoints('zurich', () => 4711);
      d.update([web]);
      const e = d.lookup('10.1.0.5')!;
      assert.equal(e.podName, 'web-1');
      assert.equal(e.namespace, 'shop');
      assert.equal(e.identity, 4711);
      assert.equal(e.clusterName, 'zurich');
      assert.deepEqual(e.labels, ['k8s:app=web', 'k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=shop', 'k8s:io.kubernetes.pod.namespace=shop']);
      assert.equal(d.lookup('10.1.0.6'), undefined);
      d.update([]);
      assert.equal(d.lookup('10.1.0.5'), undefined);
    });

    it('takes identities from the operator\'s allocator', () => {
      const dir = mkdtempSync(join(tmpdir(), 'cillion-enrich-'));
      try {
        const alloc = IdentityAllocator.open(join(dir, 'ids.json'), { clusterId: 1 });
        const id = alloc.acquire('shop', { app: 'web' }).id;
        const d = WorkloadEndpoints.withAllocator('zurich', alloc);
        d.update([web, { ...web, name: 'db', labels: { app: 'db' }, ip: '10.1.0.7' }]);
        assert.equal(d.lookup('10.1.0.5')!.identity, id);
        assert.equal(d.lookup('10.1.0.7')!.identity, 0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('enrich', () => {
    it('uses the path id when the catalog knows it, else the path bytes, keeping the datapath\'s id', () => {
      const cat = new ControlPlaneCatalog();
      cat.set([{ pathId: 5, path: paths[0] }, { path: paths[1] }]);
      const d = new WorkloadEndpoints('zurich', () => 300);
      d.update([{ name: 'web-1', namespace: 'shop', labels: {}, namespaceLabels: {}, ip: '10.1.0.5', node: 'n1' }]);
      const byId = enrich(metered({ pathId: 5 }), d, cat);
      assert.equal(byId.path?.pathId, 5);
      assert.equal(byId.path?.fingerprint, paths[0].fingerprint);
      assert.equal(byId.source?.podName, 'web-1');
      assert.equal(byId.destination, undefined);
      const stale = enrich(metered({ pathId: 9, path: encodeScionPathBytes(paths[1].path) }), d, cat);
      assert.equal(stale.path?.pathId, 9);
      assert.equal(stale.path?.fingerprint, paths[1].fingerprint);
      const router = enrich(metered({ inner: null, direction: 'ROUTER_FORWARD', path: encodeScionPathBytes(paths[0].path) }), d, cat);
      assert.equal(router.source, undefined);
      assert.equal(router.path?.knownToControlPlane, true);
    });
  });
});
