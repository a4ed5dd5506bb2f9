// The demo's plan for examples/: which namespaces, links, addresses and routes it builds.
// The expectations come from examples/topology.yaml and examples/workloads/ as written
// (11 ASes, 20 links, two clusters of two nodes and six pods each), not from the planner.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadTopology, type Topology } from '../../../../controlplane/topology';
import { readWorkloads } from '../../../../operator/workloads/directory';
import { formatIA, parseIA } from '../../../../scion/isdas';
import { DemoPlanError, ifaceKey, planDemo, type ClusterInput, type DemoPlan } from '../../../../cli/demo/plan';

const EXAMPLES = join(__dirname, '..', '..', '..', '..', 'examples');
const ZRH = parseIA('64-2:0:20');
const FRA = parseIA('65-2:0:20');

function clusters(): ClusterInput[] {
  return [
    { name: 'zurich', ia: ZRH, uplinks: [1, 2], pods: readWorkloads(join(EXAMPLES, 'workloads', 'zurich.yaml')), remotePrefixes: ['10.165.0.0/16'] },
    { name: 'frankfurt', ia: FRA, uplinks: [1, 2, 3], pods: readWorkloads(join(EXAMPLES, 'workloads', 'frankfurt.yaml')), remotePrefixes: ['10.164.0.0/16'] },
  ];
}

describe('cli/demo/plan: the demo laid out over examples/', () => {
  let topology: Topology;
  let plan: DemoPlan;

  before(() => {
    topology = loadTopology(join(EXAMPLES, 'topology.yaml'));
    plan = planDemo(topology, clusters());
  });

  it('runs a router in every AS that is not a cluster, and wires every link once', () => {
    assert.deepEqual(
      plan.routers.map((r) => formatIA(r.ia)),
      ['64-2:0:10', '64-2:0:11', '64-2:0:21', '65-2:0:10', '65-2:0:11', '65-2:0:12', '65-2:0:21', '66-2:0:10', '67-2:0:10'],
    );
    assert.equal(plan.wanLinks.length, 15);
    assert.equal(plan.segments.length, 5);
    const indices = [...plan.wanLinks.map((l) => l.index), ...plan.segments.map((s) => s.index)].sort((a, b) => a - b);
    assert.deepEqual(indices, Array.from({ length: 20 }, (_, i) => i));
  });

  it('gives both ends of a link addresses in one /24 and the port 50000 + interface id', () => {
    // links[0] of the topology: 64-2:0:10#1 to 65-2:0:10#1.
    const l = plan.wanLinks.find((x) => x.index === 0);
    assert.ok(l);
    assert.equal(ifaceKey(l.a.ia, l.a.ifid), '64-2:0:10#1');
    assert.equal(ifaceKey(l.b.ia, l.b.ifid), '65-2:0:10#1');
    assert.deepEqual([l.a.ip, l.a.port, l.b.ip, l.b.port], ['10.200.0.1', 50001, '10.200.0.2', 50001]);
    assert.equal(plan.underlays.get('64-2:0:10#1'), '10.200.0.1:50001');
    assert.equal(plan.underlays.get('65-2:0:10#1'), '10.200.0.2:50001');
  });

  it('puts the router and every node of a cluster on each uplink segment, and takes turns for the receiving node', () => {
    // links[11] is 64-2:0:10#4 to the Zurich cluster's interface 1; links[14] 64-2:0:21#3 to its interface 2.
    const zrh1 = plan.segments.find((s) => s.cluster === 'zurich' && s.ifid === 1);
    const zrh2 = plan.segments.find((s) => s.cluster === 'zurich' && s.ifid === 2);
    assert.ok(zrh1 && zrh2);
    assert.equal(ifaceKey(zrh1.router.ia, zrh1.router.ifid), '64-2:0:10#4');
    assert.equal(ifaceKey(zrh2.router.ia, zrh2.router.ifid), '64-2:0:21#3');
    assert.deepEqual(zrh1.members.map((m) => [m.node, m.ip]), [['zrh-node-1', '10.200.11.2'], ['zrh-node-2', '10.200.11.3']]);
    assert.equal(zrh1.receiver, 'zrh-node-1');
    assert.equal(zrh2.receiver, 'zrh-node-2');
    assert.deepEqual(
      plan.segments.filter((s) => s.cluster === 'frankfurt').sort((a, b) => a.ifid - b.ifid).map((s) => s.receiver),
      ['fra-node-1', 'fra-node-2', 'fra-node-1'],
    );
    // The router sends to the receiving node; the cluster's interface is that node's address.
    assert.equal(plan.underlays.get('64-2:0:10#4'), '10.200.11.1:50004');
    assert.equal(plan.underlays.get('64-2:0:20#1'), '10.200.11.2:50001');
    assert.equal(plan.underlays.get('64-2:0:20#2'), '10.200.14.3:50002');
  });

  it('gives every interface of the topology an underlay, and every namespace the prefix and a name of its own', () => {
    for (const as of topology.ases.values()) {
      for (const ifid of as.interfaces.keys()) assert.ok(plan.underlays.has(ifaceKey(as.ia, ifid)), ifaceKey(as.ia, ifid));
    }
    const names = [...plan.routers.map((r) => r.ns), ...plan.segments.map((s) => s.ns), ...plan.nodes.map((n) => n.ns), ...plan.pods.map((p) => p.ns)];
    assert.equal(names.length, 9 + 5 + 4 + 12);
    assert.equal(new Set(names).size, names.length);
    assert.ok(names.every((n) => n.startsWith('cildemo-')));
  });

  it('routes pods of the other node over the node LAN and the remote cluster to the first uplink', () => {
    const n1 = plan.nodes.find((n) => n.name === 'zrh-node-1');
    const n2 = plan.nodes.find((n) => n.name === 'zrh-node-2');
    assert.ok(n1 && n2);
    assert.deepEqual(n1.uplinks, [1, 2]);
    assert.deepEqual(n1.routes, [
      { prefix: '10.164.0.5/32', dev: 'lxc0' },
      { prefix: '10.164.0.6/32', dev: 'lxc1' },
      { prefix: '10.164.0.7/32', dev: 'lxc2' },
      { prefix: '10.164.1.5/32', dev: 'lan0', via: n2.lanIp },
      { prefix: '10.164.1.6/32', dev: 'lan0', via: n2.lanIp },
      { prefix: '10.164.1.7/32', dev: 'lan0', via: n2.lanIp },
      { prefix: '10.165.0.0/16', dev: 'if1', via: '10.200.11.1' },
    ]);
    assert.notEqual(n1.lanIp, n2.lanIp);
    const pod = plan.pods.find((p) => p.workload.name === 'replication-0' && p.cluster === 'zurich');
    assert.equal(pod?.node, 'zrh-node-2');
    assert.equal(pod?.workload.ip, '10.164.1.5');
  });

  it('refuses clusters the topology cannot carry', () => {
    const [zrh, fra] = clusters();
    assert.throws(() => planDemo(topology, [{ ...zrh, ia: parseIA('64-2:0:99') }, fra]), DemoPlanError);
    assert.throws(() => planDemo(topology, [{ ...zrh, uplinks: [1, 7] }, fra]), /uplink 7 is not an interface/);
    assert.throws(() => planDemo(topology, [{ ...zrh, pods: [] }, fra]), /has no pods/);
    // Two clusters joined directly: the Zurich core made a cluster next to the Zurich cluster.
    assert.throws(() => planDemo(topology, [zrh, { ...fra, name: 'core', ia: parseIA('64-2:0:10'), uplinks: [4] }]), /joins two clusters/);
  });
});
