// The operator programming the real kernel's maps: resources from a directory, the
// embedded control plane of the test WAN, a pod on the Zurich node. A policy edit and an
// uplink failure must change the maps and the path the pod's traffic takes.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgeDatapath, RouterDatapath } from '../../bpf/datapath';
import { RingReader } from '../../bpf/native';
import { decodeBatch } from '../../bpf/records';
import type { NodeUplink } from '../../operator/datapath/desired';
import { memoryEdgeMaps, Reconciler, type EdgeMaps } from '../../operator/datapath/reconcile';
import { IdentityBook } from '../../operator/datapath/identities';
import { IdentityAllocator } from '../../identity/allocator';
import { NodeProgrammer } from '../../operator/programmer';
import { DirectorySource } from '../../operator/sources/directory';
import type { Workload } from '../../identity/workload';
import { parseIA } from '../../scion/isdas';
import { renderMaps } from '../unit/operator/datapath/render';
import { requireDatapath } from './harness/require';
import { echoServer, udpEcho } from './harness/traffic';
import { Wan } from './harness/wan';

const ROOT = join(__dirname, '..', '..');
const ZRH = parseIA('64-2:0:20');
const FRA = parseIA('65-2:0:20');
const BASEL = parseIA('64-2:0:21');
const ZRH_CORE = parseIA('64-2:0:10');

function edgeMaps(dp: EdgeDatapath): EdgeMaps {
  return {
    as_config: dp.config, interfaces: dp.interfaces, ifindex_to_ifid: dp.ifindexToIfid, endpoints: dp.endpoints,
    paths: dp.paths, egress_policy: dp.egressPolicy, ingress_enforced: dp.ingressEnforced, ingress_allow: dp.ingressAllow,
    xpolicy_selected: dp.xpolicySelected, xpolicy_allow: dp.xpolicyAllow,
    xpolicy_egress_selected: dp.xpolicyEgressSelected, xpolicy_egress_allow: dp.xpolicyEgressAllow, xpolicy_peers: dp.xpolicyPeers,
  };
}

function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 25);
    };
    tick();
  });
}

describe('operator: policies in, kernel maps and traffic out', function () {
  requireDatapath(this);
  this.timeout(60000);
  let wan: Wan | undefined;
  let programmer: NodeProgrammer | undefined;
  let source: DirectorySource | undefined;
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cilop-'));
    Wan.sweep(`cilop${process.pid}`);
  });
  afterEach(async () => {
    programmer?.stop();
    await source?.close();
    wan?.destroy();
    programmer = undefined;
    source = undefined;
    wan = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('programs the maps as the in-memory golden run does, follows a policy edit and fails over when an uplink goes down', async () => {
    wan = new Wan([ZRH, ZRH_CORE, parseIA('65-2:0:10'), FRA, BASEL, parseIA('65-2:0:21')], { prefix: `cilop${process.pid}` }).build([ZRH, FRA]);
    const a = wan.addPod('a', ZRH, '10.164.0.5', 1);
    const b = wan.addPod('b', FRA, '10.165.0.7', 400);
    const back = wan.paths(FRA, ZRH)[0];
    wan.route(FRA, 400, '10.164.0.0/16', [back]);
    const resources = join(dir, 'resources');
    mkdirSync(resources);
    for (const f of ['cluster.yaml', 'remote-clusters.yaml', 'billing.yaml']) copyFileSync(join(ROOT, 'examples', 'policies', 'zurich', f), join(resources, f));
    source = new DirectorySource(resources, { statusDir: join(dir, 'status'), debounceMs: 20, rescanMs: 200 });
    const zrh = wan.edges.get(ZRH) as EdgeDatapath;
    const uplinks: NodeUplink[] = [1, 2].map((ifid) => {
      const f = wan?.iface(ZRH, ifid);
      assert.ok(f);
      return { ifid, ifindex: f.ifindex, localIp: f.ip, remoteIp: f.remote.ip, localPort: f.port, remotePort: f.remote.port, localMac: f.mac, remoteMac: f.remote.mac };
    });
    const workload: Workload = { name: 'billing-0', namespace: 'shop', labels: { app: 'billing' }, namespaceLabels: { 'kubernetes.io/metadata.name': 'shop' }, ip: a.ip, node: 'zrh' };
    const hopKey = wan.topology.ases.get(ZRH)?.hopKey ?? null;
    programmer = new NodeProgrammer({
      source, workloads: () => [workload], control: wan.control, maps: edgeMaps(zrh), uplinks,
      identities: new IdentityBook(IdentityAllocator.open(join(dir, 'ids.json'), { clusterId: 1 })), hopKey, refreshMs: 60000,
    });
    // The node's stack hands remote-cluster traffic to an uplink; tc egress on it chooses the path.
    wan.hosts.exec(wan.asNs.get(ZRH) as string, 'ip', ['route', 'replace', '10.165.0.0/16', 'via', uplinks[0].remoteIp, 'dev', 'if1']);
    const first = await programmer.sync();
    assert.ok(first && first.report.failed.length === 0);

    // The kernel's maps hold exactly what an in-memory reconcile of the same state holds.
    const memory = memoryEdgeMaps();
    new Reconciler(memory).apply(first.desired);
    assert.equal(renderMaps(edgeMaps(zrh)), renderMaps(memory));
    const billing = first.desired.outcomes[0].destinations[0];
    assert.equal(billing.selection.selected[0].nextHop?.ifid, 1, 'lowest latency leaves by the Zurich core');
    const status = programmer.status({ kind: 'WANPathPolicy', namespace: '', name: 'billing' });
    assert.equal(status?.conditions.find((c) => c.type === 'Programmed')?.status, 'True');

    const srv = await echoServer(wan.hosts, b.ns, 'udp', 7000);
    const ring = new RingReader(zrh.events, { bufferBytes: 1 << 20, onBatch: () => undefined });
    const leftBy = async (port: number): Promise<Set<number>> => {
      while (ring.drain().records > 0);
      const r = await udpEcho(a.ns, b.ip, 7000, { count: 5, size: 64, srcPort: port });
      assert.equal(r.received, 5, `echoes on port ${port}`);
      const { bytes } = ring.drain();
      return new Set(decodeBatch(ring.buffer, bytes).filter((x) => x.direction === 'EGRESS_ENCAP').map((x) => x.egressIfid));
    };
    assert.deepEqual(await leftBy(46000), new Set([1]));

    // Edit the policy: billing must cross the Basel ISP. The source sees the file change.
    const yaml = readFileSync(join(resources, 'billing.yaml'), 'utf8').replace('preference: latency', 'pathPolicy:\n    sequence: "0* 64-2:0:21 0*"\n  preference: latency');
    writeFileSync(join(resources, 'billing.yaml'), yaml);
    programmer.start();
    await until('the maps to follow the edit', () => zrh.egressPolicy.entries().some(([, ids]) => zrh.paths.get(ids[0])?.egressIfid === 2));
    assert.deepEqual(await leftBy(46001), new Set([2]));
    const basel = wan.routers.get(BASEL) as RouterDatapath;
    assert.ok(basel.counter('FORWARD') >= 5n, 'the Basel router carried it');

    // Back to the original policy, then the core uplink fails: billing fails over to Basel.
    writeFileSync(join(resources, 'billing.yaml'), readFileSync(join(ROOT, 'examples', 'policies', 'zurich', 'billing.yaml')));
    await until('the maps to follow the revert', () => zrh.egressPolicy.entries().some(([, ids]) => zrh.paths.get(ids[0])?.egressIfid === 1));
    const failover = await programmer.interfaceDown(1);
    assert.ok(failover);
    assert.ok(zrh.egressPolicy.entries().every(([, ids]) => ids.every((id) => zrh.paths.get(id)?.egressIfid === 2)));
    assert.ok(zrh.paths.entries().every(([, p]) => p.egressIfid === 2), 'no path via the failed uplink stays programmed');
    assert.deepEqual(await leftBy(46002), new Set([2]));
    srv.kill();
  });
});
