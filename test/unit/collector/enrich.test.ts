import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlPlaneCatalog, describePath, enrich, WorkloadEndpoints } from '../../../collector/enrich';
import type { MeteredFlow } from '../../../collector/flowtable';
import type { ControlPlanePath } from '../../../operator/controlplane/combinator';
import { EmbeddedPathService } from '../../../operator/controlplane/pathservice';
import { IdentityAllocator } from '../../../operator/identity/allocator';
import type { Workload } from '../../../operator/workloads/workload';
import { ScionPathType } from '../../../proto/gen/flow/flow';
import { parseIA } from '../../../scion/isdas';
import { pathFingerprint } from '../../../scion/path/fingerprint';
import { encodeScionPathBytes } from '../../../scion/path/raw';

const EXAMPLE = join(__dirname, '../../../examples/topology.yaml');
const ZURICH = parseIA('64-2:0:20');
const FRANKFURT = parseIA('65-2:0:20');

function metered(over: Partial<MeteredFlow>): MeteredFlow {
  return {
    ifindex: 1, direction: 'EGRESS_ENCAP', inner: { proto: 6, srcAddr: '10.1.0.5', dstAddr: '10.2.0.9', srcPort: 1, dstPort: 2 }, identity: 300,
    srcIA: ZURICH, dstIA: FRANKFURT, pathType: 1, pathId: 0, path: new Uint8Array(0), pathTruncated: false, ingressIfid: 0, egressIfid: 0,
    firstNs: 0, lastNs: 0, packets: 1, bytes: 1, podBytes: 1, wireBytes: 2, foldedReports: 0, lostPackets: 0, lostBytes: 0, dropped: 0, tcpFlags: 0, firstTcpFlags: 0, dropReasons: 0, lastDropReason: 0, start: true, end: 'idle', ...over,
  };
}

/** The bytes a router further along would forward: CurrHF advanced, SegIDs updated, an alert flag set. */
function inTransit(raw: Uint8Array): Uint8Array {
  const b = Buffer.from(raw);
  b[0] = (b[0] & 0xc0) | 1;
  b.writeUInt16BE(b.readUInt16BE(4 + 2) ^ 0x1234, 4 + 2);
  const segLens = b.readUInt32BE(0);
  const nInf = [(segLens >>> 12) & 0x3f, (segLens >>> 6) & 0x3f, segLens & 0x3f].filter((n) => n > 0).length;
  b[4 + 8 * nInf] |= 0x01;
  return b;
}

describe('collector/enrich', () => {
  let paths: ControlPlanePath[];
  before(async () => {
    const svc = EmbeddedPathService.fromFile(EXAMPLE, { now: () => 1_700_000_000, seed: 1 });
    paths = await svc.paths(ZURICH, FRANKFURT);
  });

  describe('describePath', () => {
    it('gives one hop per AS with the control plane\'s interfaces, ISD-ASes, geo, country and latency', () => {
      const cp = paths[0];
      const p = describePath(cp, 7);
      assert.equal(p.srcIa, '64-2:0:20');
      assert.equal(p.dstIa, '65-2:0:20');
      assert.equal(p.pathId, 7);
      assert.equal(p.knownToControlPlane, true);
      assert.equal(p.type, ScionPathType.SCION_PATH_STANDARD);
      assert.equal(p.fingerprint, pathFingerprint(cp.interfaces));
      assert.deepEqual(p.hops.map((h) => h.isdAs), cp.ases.map((ia) => `${ia >> 48n}-${[32n, 16n, 0n].map((s) => ((ia >> s) & 0xffffn).toString(16)).join(':')}`));
      // Interfaces in order, the path's ends left at 0.
      assert.equal(p.hops[0].ingressInterface, 0);
      assert.equal(p.hops.at(-1)!.egressInterface, 0);
      assert.deepEqual(p.hops.flatMap((h) => [h.ingressInterface, h.egressInterface]).slice(1, -1), cp.interfaces.map((i) => i.ifid));
      assert.equal(p.hops[0].country, 'CH');
      assert.deepEqual(p.hops[0].geo, { latitude: 47.39, longitude: 8.515, address: 'Zurich-West, Switzerland' });
      assert.equal(p.hops.at(-1)!.country, 'DE');
      assert.equal(p.hops[0].latencyNs, BigInt(Math.round(cp.latencyMs[0]! * 1e6)));
      assert.equal(p.hops[1].latencyNs, BigInt(Math.round((cp.latencyMs[1]! + cp.latencyMs[2]!) * 1e6)));
      assert.equal(p.hops.at(-1)!.latencyNs, undefined);
      assert.equal(p.latencyNs, BigInt(Math.round(cp.totalLatencyMs * 1e6)));
      assert.equal(Number(p.expiry!.seconds) + p.expiry!.nanos / 1e9, cp.expiry);
      assert.equal(p.mtu, cp.mtu);
    });

    it('leaves latency unset where a hop announced none', () => {
      const cp = { ...paths[0], latencyMs: paths[0].latencyMs.map((l, i) => (i === 0 ? null : l)), latencyComplete: false };
      const p = describePath(cp, 1);
      assert.equal(p.hops[0].latencyNs, undefined);
      assert.notEqual(p.hops[1].latencyNs, undefined);
      assert.equal(p.latencyNs, undefined);
    });
  });

  describe('ControlPlaneCatalog', () => {
    it('finds paths by datapath id, and by their hop fields as they look anywhere along the way', () => {
      const cat = new ControlPlaneCatalog();
      cat.set(paths.map((path, i) => ({ pathId: i + 1, path })));
      assert.equal(cat.byId(2)?.fingerprint, paths[1].fingerprint);
      assert.equal(cat.byId(99), undefined);
      for (const cp of paths) {
        const raw = encodeScionPathBytes(cp.path);
        const sent = cat.byRaw(raw, 1, ZURICH, FRANKFURT);
        assert.equal(sent.knownToControlPlane, true);
        assert.equal(sent.fingerprint, cp.fingerprint);
        assert.equal(cat.byRaw(inTransit(raw), 1, ZURICH, FRANKFURT).fingerprint, cp.fingerprint);
      }
    });

    it('describes a path the control plane never handed out from its bytes alone: interfaces per AS, ends only', () => {
      const cat = new ControlPlaneCatalog();
      cat.set([]);
      // Every shape the combinator builds (core only, up+core+down, shortcuts, peering) must
      // come out with the ASes and interfaces the control plane itself lists.
      for (const cp of paths) {
        const p = cat.byRaw(encodeScionPathBytes(cp.path), 1, ZURICH, FRANKFURT);
        const want = describePath(cp, 0);
        assert.equal(p.knownToControlPlane, false);
        assert.equal(p.fingerprint, '');
        assert.deepEqual(
          p.hops.map((h) => [h.ingressInterface, h.egressInterface]),
          want.hops.map((h) => [h.ingressInterface, h.egressInterface]),
          `segments ${JSON.stringify(cp.segments)}`,
        );
        assert.equal(p.hops[0].isdAs, '64-2:0:20');
        assert.equal(p.hops.at(-1)!.isdAs, '65-2:0:20');
        assert.ok(p.hops.slice(1, -1).every((h) => h.isdAs === '' && h.geo === undefined));
      }
      assert.ok(paths.some((cp) => cp.segments.some((s) => s.peer)), 'the example has a peering path');
    });

    it('forgets a path that is no longer in the catalog', () => {
      const cat = new ControlPlaneCatalog();
      cat.set([{ pathId: 1, path: paths[0] }]);
      cat.set([]);
      assert.equal(cat.byId(1), undefined);
      assert.equal(cat.byRaw(encodeScionPathBytes(paths[0].path), 1, ZURICH, FRANKFURT).knownToControlPlane, false);
    });

    it('returns a bare unknown path for bytes that do not decode, and an empty path as known', () => {
      const cat = new ControlPlaneCatalog();
      const raw = encodeScionPathBytes(paths[0].path);
      const cut = cat.byRaw(raw.subarray(0, raw.length - 5), 1, ZURICH, FRANKFURT);
      assert.equal(cut.knownToControlPlane, false);
      assert.deepEqual(cut.hops, []);
      assert.equal(cut.srcIa, '64-2:0:20');
      const empty = cat.byRaw(new Uint8Array(0), 0, ZURICH, ZURICH);
      assert.equal(empty.type, ScionPathType.SCION_PATH_EMPTY);
      assert.equal(empty.knownToControlPlane, true);
      assert.equal(cat.byRaw(new Uint8Array(0), 2, ZURICH, ZURICH).type, ScionPathType.SCION_PATH_ONE_HOP);
    });
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
      assert.deepEqual(e.labels, ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=shop']);
      assert.equal(d.lookup('10.1.0.6'), undefined);
      d.update([]);
      assert.equal(d.lookup('10.1.0.5'), undefined);
    });

    it('takes identities from the operator\'s allocator', () => {
      const dir = mkdtempSync(join(tmpdir(), 'cillion-enrich-'));
      try {
        const alloc = IdentityAllocator.open(join(dir, 'ids.json'));
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
      assert.equal(byId.path.pathId, 5);
      assert.equal(byId.path.fingerprint, paths[0].fingerprint);
      assert.equal(byId.source?.podName, 'web-1');
      assert.equal(byId.destination, undefined);
      const stale = enrich(metered({ pathId: 9, path: encodeScionPathBytes(paths[1].path) }), d, cat);
      assert.equal(stale.path.pathId, 9);
      assert.equal(stale.path.fingerprint, paths[1].fingerprint);
      const router = enrich(metered({ inner: null, direction: 'ROUTER_FORWARD', path: encodeScionPathBytes(paths[0].path) }), d, cat);
      assert.equal(router.source, undefined);
      assert.equal(router.path.knownToControlPlane, true);
    });
  });
});
