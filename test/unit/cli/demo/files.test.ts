// The files the demo generates: read back with the same parsers the relay, the agents and
// the control plane use, and compared with what the plan and examples/ say.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadTopology, parseTopology } from '../../../../controlplane/topology';
import { IdentityAllocator } from '../../../../identity/allocator';
import { clusterIdOf } from '../../../../identity/cluster_scope';
import { validateClusterAS } from '../../../../resources/clusteras';
import { readWorkloads } from '../../../../operator/workloads/directory';
import { formatIA, parseIA } from '../../../../scion/isdas';
import { clusterASYaml, geofencesYaml, nodeWorkloadsYaml, topologyWithUnderlays } from '../../../../cli/demo/files';
import { ifaceKey, planDemo, type DemoPlan } from '../../../../cli/demo/plan';

const EXAMPLES = join(__dirname, '..', '..', '..', '..', 'examples');

describe('cli/demo/files: what the demo writes into its run directory', () => {
  let plan: DemoPlan;
  let dir: string;

  before(() => {
    const pods = (c: string) => readWorkloads(join(EXAMPLES, 'workloads', `${c}.yaml`));
    plan = planDemo(loadTopology(join(EXAMPLES, 'topology.yaml')), [
      { name: 'zurich', ia: parseIA('64-2:0:20'), uplinks: [1, 2], pods: pods('zurich'), remotePrefixes: ['10.165.0.0/16'] },
      { name: 'frankfurt', ia: parseIA('65-2:0:20'), uplinks: [1, 2, 3], pods: pods('frankfurt'), remotePrefixes: ['10.164.0.0/16'] },
    ]);
    dir = mkdtempSync(join(tmpdir(), 'cildemo-files-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the planned underlay onto every interface of the topology and changes nothing else', () => {
    const text = readFileSync(join(EXAMPLES, 'topology.yaml'), 'utf8');
    const out = topologyWithUnderlays(text, plan.underlays);
    assert.match(out, /# Cross-border peering between the regional ISPs/);
    const before = parseTopology(text);
    const after = parseTopology(out);
    assert.equal(after.ases.size, before.ases.size);
    assert.equal(after.links.length, before.links.length);
    for (const as of after.ases.values()) {
      assert.equal(as.masterKey.toString(), before.ases.get(as.ia)?.masterKey.toString());
      for (const f of as.interfaces.values()) {
        assert.equal(f.underlay, plan.underlays.get(ifaceKey(as.ia, f.ifid)));
        assert.deepEqual(f.geo, before.ases.get(as.ia)?.interfaces.get(f.ifid)?.geo);
      }
    }
    // The example's own underlays for the Zurich cluster are replaced, not kept.
    assert.equal(after.ases.get(parseIA('64-2:0:20'))?.interfaces.get(1)?.underlay, '10.200.11.2:50001');
  });

  it('points the ClusterAS uplinks at the routers on the segments and at the generated topology', () => {
    const zurich = validateClusterAS(parseAllDocuments(readFileSync(join(EXAMPLES, 'policies', 'zurich', 'cluster.yaml'), 'utf8'))[0].toJS());
    assert.ok(zurich.ok);
    const out = validateClusterAS(parseAllDocuments(clusterASYaml(zurich.value, plan, '/run/topology.yaml'))[0].toJS());
    assert.ok(out.ok, out.ok ? '' : JSON.stringify(out.problems));
    assert.equal(formatIA(out.value.spec.isdAS), '64-2:0:20');
    assert.deepEqual(out.value.spec.uplinks, [
      { interface: 1, underlay: '10.200.11.1:50004' },
      { interface: 2, underlay: '10.200.14.1:50003' },
    ]);
    assert.deepEqual(out.value.spec.controlPlane, { kind: 'embedded', topology: '/run/topology.yaml' });
    assert.equal(out.value.spec.clusterId, zurich.value.spec.clusterId, 'the cluster id is kept');
  });

  it('points the ClusterAS at the run\'s copy of its SID catalogue, and names none when it named none', () => {
    const zurich = validateClusterAS(parseAllDocuments(readFileSync(join(EXAMPLES, 'policies', 'zurich', 'cluster.yaml'), 'utf8'))[0].toJS());
    assert.ok(zurich.ok);
    assert.ok(zurich.value.spec.srv6, 'the example names a catalogue');
    const out = validateClusterAS(parseAllDocuments(clusterASYaml(zurich.value, plan, '/run/topology.yaml', '/run/srv6.yaml'))[0].toJS());
    assert.ok(out.ok, out.ok ? '' : JSON.stringify(out.problems));
    assert.deepEqual(out.value.spec.srv6, { catalogue: '/run/srv6.yaml' });
    const withoutSrv6 = { ...zurich.value.spec };
    delete withoutSrv6.srv6;
    const none = validateClusterAS(parseAllDocuments(clusterASYaml({ ...zurich.value, spec: withoutSrv6 }, plan, '/run/topology.yaml', '/run/srv6.yaml'))[0].toJS());
    assert.ok(none.ok);
    assert.equal(none.value.spec.srv6, undefined);
  });

  it('gives the two clusters different cluster ids, so billing has a different number in each', () => {
    const ids = ['zurich', 'frankfurt'].map((c) => {
      const v = validateClusterAS(parseAllDocuments(readFileSync(join(EXAMPLES, 'policies', c, 'cluster.yaml'), 'utf8'))[0].toJS());
      assert.ok(v.ok, c);
      return v.value.spec.clusterId;
    });
    assert.notEqual(ids[0], ids[1]);
    const [zrh, fra] = ids.map((clusterId) => IdentityAllocator.open(join(dir, `${clusterId}.json`), { clusterId }).acquire('shop', { app: 'billing' }).id);
    assert.notEqual(zrh, fra);
    assert.deepEqual([clusterIdOf(zrh), clusterIdOf(fra)], ids);
  });

  it("lists every pod of the cluster as the node's own for its agent", () => {
    const pods = readWorkloads(join(EXAMPLES, 'workloads', 'zurich.yaml'));
    const file = join(dir, 'node.yaml');
    writeFileSync(file, nodeWorkloadsYaml(pods, 'zrh-node-1'));
    const back = readWorkloads(file);
    assert.deepEqual(
      back.map((w) => [w.namespace, w.name, w.ip, w.labels.app, w.node]),
      pods.map((w) => [w.namespace, w.name, w.ip, w.labels.app, 'zrh-node-1']),
    );
  });

  it('gives the relay each geofence once, and nothing but geofences', () => {
    const fence = (name: string, mode: string) =>
      `apiVersion: cillion.io/v1alpha1\nkind: Geofence\nmetadata:\n  name: ${name}\nspec:\n  workloadSelector:\n    podSelector:\n      matchLabels: { app: x }\n  allow:\n    countries: [CH]\n  mode: ${mode}\n`;
    const policy = 'apiVersion: cillion.io/v1alpha1\nkind: WANPathPolicy\nmetadata:\n  name: p\nspec: {}\n';
    const out = parseAllDocuments(geofencesYaml([`${policy}---\n${fence('a', 'enforce')}`, `${fence('a', 'audit')}---\n${fence('b', 'audit')}`])).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string }; spec: { mode: string } },
    );
    assert.deepEqual(out.map((o) => [o.kind, o.metadata.name, o.spec.mode]), [['Geofence', 'a', 'enforce'], ['Geofence', 'b', 'audit']]);
  });
});
