// The operator's SRv6 programming in the real kernel: the examples' YAML (tenants, the voip
// SRv6PathPolicy, the demo's SID catalogue) compiled for zrh-node-1 and fra-node-1 and
// reconciled into their SRv6 maps, next hops read from the kernel's routes and neighbours;
// the provider edges run End. Then a pod's UDP goes encap -> End -> End -> End.DT4 and back.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Workload } from '../../identity/workload';
import { PathIds } from '../../operator/datapath/desired';
import { groupResources, type ResourceSet } from '../../operator/datapath/resources';
import { buildSrv6Desired, Srv6Reconciler } from '../../operator/datapath/srv6';
import { srv6Maps } from '../../operator/node/runtime';
import { resolveNextHop } from '../../operator/node/srv6_nexthop';
import { DirectorySource } from '../../operator/sources/directory';
import { loadSidCatalogue } from '../../srv6/catalogue';
import { sidText } from '../../srv6/sid';
import { decodeSrh, travelOrder } from '../../srv6/srh';
import { requireDatapath } from './harness/require';
import { Srv6Net, type Srv6Node } from './harness/srv6';
import { echoServer, udpEcho } from './harness/traffic';

const PREFIX = `opsrv6${process.pid}`;
const ROOT = join(__dirname, '..', '..');

const voip = (node: string, ip: string): Workload => ({ name: 'voip-0', namespace: 'voice', labels: { app: 'voip' }, namespaceLabels: { 'kubernetes.io/metadata.name': 'voice' }, ip, node });

async function resources(cluster: string, statusDir: string): Promise<ResourceSet> {
  const source = new DirectorySource(join(ROOT, 'examples', 'policies', cluster), { statusDir, rescanMs: 0 });
  try {
    return groupResources(await source.list());
  } finally {
    await source.close();
  }
}

describe('datapath: the operator programs SRv6 edge nodes from YAML', function () {
  requireDatapath(this);
  this.timeout(60000);
  let net: Srv6Net | undefined;
  let tmp: string;

  before(() => {
    Srv6Net.sweep(PREFIX);
    tmp = mkdtempSync(join(tmpdir(), 'opsrv6-'));
  });
  after(() => {
    net?.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('voip: the lowest-latency list the policy chose carries UDP both ways, counted and recorded on every node', async () => {
    net = new Srv6Net(PREFIX);
    const zrh = net.addNode('zrh', 'fc00:0:101::/48');
    const pez = net.addNode('pez', 'fc00:0:1::/48');
    const pef = net.addNode('pef', 'fc00:0:4::/48');
    const fra = net.addNode('fra', 'fc00:0:201::/48');
    net.connect(zrh, pez);
    net.connect(pez, pef);
    net.connect(pef, fra);
    net.route6(zrh, 'fc00::/16', pez);
    net.route6(fra, 'fc00::/16', pef);
    for (const [n, loc, via] of [[pez, 'fc00:0:101::/48', zrh], [pez, 'fc00:0:4::/48', pef], [pez, 'fc00:0:201::/48', pef], [pef, 'fc00:0:1::/48', pez], [pef, 'fc00:0:101::/48', pez], [pef, 'fc00:0:201::/48', fra]] as const) net.route6(n, loc, via);
    // The provider edges' End SIDs, as `cillion srv6-node` programs them from the catalogue.
    net.sid(pez, 'fc00:0:1::1', 'End');
    net.sid(pef, 'fc00:0:4::1', 'End');
    const podZ = net.addPod('vz', zrh, '10.164.0.20', 65800);
    const podF = net.addPod('vf', fra, '10.165.0.20', 131336);
    const catalogue = loadSidCatalogue(join(ROOT, 'examples', 'srv6.yaml'));

    const program = async (node: Srv6Node, name: string, cluster: string, pod: Workload, identity: number, remote: string): Promise<number> => {
      const set = await resources(cluster, join(tmp, cluster));
      const uplink = node.ifaces[0];
      const desired = buildSrv6Desired({
        catalogue, node: name, tenants: set.tenants, policies: set.srv6Policies, remotes: set.remotes,
        workloads: [pod], clusterWorkloads: [pod], identityOf: () => identity,
        nextHop: (segment) => resolveNextHop(segment, { device: uplink.ifname, netns: node.ns }),
      }, new PathIds());
      const report = new Srv6Reconciler(srv6Maps(node.dp)).apply(desired);
      assert.deepEqual(report.failed, []);
      const policy = desired.policies.find((p) => p.policy.metadata.name === 'voip');
      assert.equal(policy?.destinations[0].problem, undefined);
      // The pod's packet to the other cluster leaves by the uplink, where srv6_encap sits ahead of everything.
      net?.hosts.exec(node.ns, 'ip', ['route', 'replace', remote, 'via', uplink.peer.ip4, 'dev', uplink.ifname]);
      node.dp.attachEncap(uplink.ifindex, { netns: `/var/run/netns/${node.ns}` });
      return desired.egress.find(([k]) => k.identity === identity)?.[1][0] ?? 0;
    };
    const idZ = await program(zrh, 'zrh-node-1', 'zurich', voip('zrh-node-1', podZ.ip), 65800, '10.165.0.0/16');
    await program(fra, 'fra-node-1', 'frankfurt', voip('fra-node-1', podF.ip), 131336, '10.164.0.0/16');
    assert.ok(idZ > 0);

    const srv = await echoServer(net.hosts, podF.ns, 'udp', 7100);
    for (const n of [zrh, pez, pef, fra]) net.drain(n);
    const res = await udpEcho(podZ.ns, podF.ip, 7100, { count: 10, size: 120, srcPort: 41000 });
    srv.kill();
    assert.deepEqual(res, { sent: 10, received: 10 });

    const [rz, rpz, rpf, rf] = [zrh, pez, pef, fra].map((n) => net?.drain(n) ?? []);
    const enc = rz.filter((x) => x.direction === 'EGRESS_ENCAP');
    assert.equal(enc.length, 10);
    for (const x of enc) {
      assert.equal(x.pathId, idZ);
      assert.equal(x.identity, 65800);
      assert.equal(x.tenantId, 100);
      assert.equal(x.outerSrc, 'fc00:0:101::1');
      const srh = decodeSrh(Buffer.from(x.path));
      assert.ok(srh.ok);
      assert.deepEqual(travelOrder(srh.srh).map((s) => sidText(s)), ['fc00:0:1::1', 'fc00:0:4::1', 'fc00:0:201::100'], 'the segment list the policy chose');
      assert.equal(srh.srh.hmac, undefined, 'voip asks for no HMAC');
    }
    assert.equal(rpz.filter((x) => x.direction === 'ROUTER_FORWARD' && x.outerSrc === 'fc00:0:101::1').length, 10);
    assert.equal(rpf.filter((x) => x.direction === 'ROUTER_FORWARD' && x.outerSrc === 'fc00:0:101::1').length, 10);
    const dec = rf.filter((x) => x.direction === 'INGRESS_DECAP');
    assert.equal(dec.length, 10);
    assert.ok(dec.every((x) => x.tenantId === 100 && x.outerDst === 'fc00:0:201::100'));
    assert.equal(zrh.dp.counter('SRV6_ENCAP'), 10n);
    assert.equal(zrh.dp.counter('SRV6_DECAP'), 10n, 'the echoes came back over frankfurt\'s voip list');
    assert.equal(pez.dp.counter('SRV6_END'), 20n);
    assert.equal(fra.dp.counter('SRV6_DECAP'), 10n);
  });
});
