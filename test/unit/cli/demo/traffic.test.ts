// Who sends what in the demo, read off the example policies: every Zurich app to its
// Frankfurt counterpart, Frankfurt's replication back, voip and backup both ways over SRv6,
// nothing a policy does not cover.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadTopology } from '../../../../controlplane/topology';
import { groupResources, type ResourceSet } from '../../../../operator/datapath/resources';
import { DirectorySource } from '../../../../operator/sources/directory';
import { readWorkloads } from '../../../../operator/workloads/directory';
import { parseIA } from '../../../../scion/isdas';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { planDemo } from '../../../../cli/demo/plan';
import { planTraffic, type PodTraffic } from '../../../../cli/demo/traffic';

const EXAMPLES = join(__dirname, '..', '..', '..', '..', 'examples');
const ZRH = parseIA('64-2:0:20');
const FRA = parseIA('65-2:0:20');

async function resources(cluster: string, scratch: string): Promise<ResourceSet> {
  const source = new DirectorySource(join(EXAMPLES, 'policies', cluster), { statusDir: join(scratch, cluster), rescanMs: 0 });
  try {
    return groupResources(await source.list());
  } finally {
    await source.close();
  }
}

describe('cli/demo/traffic: the demo traffic follows the example policies', () => {
  let traffic: PodTraffic[];

  before(async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'cildemo-traffic-'));
    try {
      const sets = new Map([['zurich', await resources('zurich', scratch)], ['frankfurt', await resources('frankfurt', scratch)]]);
      const pods = (c: string) => readWorkloads(join(EXAMPLES, 'workloads', `${c}.yaml`));
      const plan = planDemo(loadTopology(join(EXAMPLES, 'topology.yaml')), [
        { name: 'zurich', ia: ZRH, uplinks: [1, 2], pods: pods('zurich'), remotePrefixes: ['10.165.0.0/16'] },
        { name: 'frankfurt', ia: FRA, uplinks: [1, 2, 3], pods: pods('frankfurt'), remotePrefixes: ['10.164.0.0/16'] },
      ]);
      traffic = planTraffic(plan.pods, sets, new Map([['zurich', ZRH], ['frankfurt', FRA]]));
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  const of = (cluster: string, name: string): PodTraffic => {
    const t = traffic.find((x) => x.pod.cluster === cluster && x.pod.workload.name === name);
    assert.ok(t, `${cluster}/${name}`);
    return t;
  };

  it('sends every Zurich app to the Frankfurt pod of the same app, and video and billing a probe to each other', () => {
    assert.deepEqual(of('zurich', 'billing-0').targets, ['frankfurt/shop/billing-0', 'frankfurt/media/video-0 (probe)']);
    assert.deepEqual(of('zurich', 'video-0').targets, ['frankfurt/media/video-0', 'frankfurt/shop/billing-0 (probe)']);
    const probe = of('zurich', 'video-0').config.send[1];
    assert.deepEqual([probe.dst, probe.port, probe.srcPorts.length, probe.pps], ['10.165.0.5', 7000, 1, 1], 'one slow flow to billing\'s port');
    assert.deepEqual(of('zurich', 'replication-0').targets, ['frankfurt/db/replication-0']);
    assert.deepEqual(of('zurich', 'analytics-0').targets, ['frankfurt/analytics/analytics-0']);
    const video = of('zurich', 'video-0').config.send[0];
    assert.equal(video.dst, '10.165.0.6');
    // Several flows, so the multipath policy has something to spread.
    assert.ok(video.srcPorts.length >= 4);
  });

  it("sends Frankfurt's replication back to Zurich and nothing Frankfurt has no policy for", () => {
    assert.deepEqual(of('frankfurt', 'replication-0').targets, ['zurich/db/replication-0']);
    assert.equal(of('frankfurt', 'replication-0').config.send[0].dst, '10.164.1.5');
    for (const name of ['billing-0', 'video-0', 'analytics-0']) assert.deepEqual(of('frankfurt', name).config.send, []);
  });

  it('sends voip and backup to their counterparts in the other cluster, both ways, by their SRv6PathPolicies', () => {
    assert.deepEqual(of('zurich', 'voip-0').targets, ['frankfurt/voice/voip-0']);
    assert.deepEqual(of('zurich', 'backup-0').targets, ['frankfurt/archive/backup-0']);
    assert.deepEqual(of('frankfurt', 'voip-0').targets, ['zurich/voice/voip-0']);
    assert.deepEqual(of('frankfurt', 'backup-0').targets, ['zurich/archive/backup-0']);
    const voip = of('zurich', 'voip-0').config.send[0];
    assert.deepEqual([voip.dst, voip.port, voip.pps, voip.size], ['10.165.0.7', 7010, 50, 172], 'G.711 in RTP: 50 packets a second');
    const backup = of('zurich', 'backup-0').config.send[0];
    assert.deepEqual([backup.dst, backup.port, backup.srcPorts.length], ['10.165.1.7', 7011, 2]);
  });

  it('has every pod listen on the port its app sends to, and stays under the pod MTU', () => {
    for (const t of traffic) {
      for (const s of t.config.send) {
        const receiver = traffic.find((x) => x.pod.workload.ip === s.dst);
        assert.ok(receiver?.config.listen.includes(s.port), `${s.dst}:${s.port}`);
        // 1280-byte pod MTU, 28 bytes of IPv4 and UDP.
        assert.ok(s.size <= 1252);
      }
      const ports = t.config.send.flatMap((s) => s.srcPorts);
      assert.equal(new Set(ports).size, ports.length);
    }
  });
});
