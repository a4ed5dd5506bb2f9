// From YAML in to map dump out: the examples' resources and workloads, the embedded
// control plane at a fixed time and seed, reconciled into in-memory maps and compared
// with golden dumps (UPDATE_GOLDEN=1 rewrites them). test/datapath/operator.test.ts does
// the same against the kernel's maps.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedPathService } from '../../../../controlplane/pathservice';
import { buildDesired, PathIds, type DesiredInputs, type NodeUplink } from '../../../../operator/datapath/desired';
import { IdentityBook } from '../../../../operator/datapath/identities';
import { memoryEdgeMaps, Reconciler, type EdgeMaps, type MapLike } from '../../../../operator/datapath/reconcile';
import { groupResources, type ResourceSet } from '../../../../operator/datapath/resources';
import { IdentityAllocator } from '../../../../identity/allocator';
import { StaticIdentityDirectory } from '../../../../resources/identity_directory';
import { DirectorySource } from '../../../../operator/sources/directory';
import { readWorkloads } from '../../../../operator/workloads/directory';
import { renderMaps } from './render';

const ROOT = join(__dirname, '..', '..', '..', '..');
const NOW = 1_800_000_000;

function uplink(ifid: number): NodeUplink {
  return {
    ifid, ifindex: 10 + ifid, localIp: `10.64.20.${ifid}`, localPort: 50000 + ifid, remoteIp: `10.64.20.${100 + ifid}`,
    remotePort: 50004, localMac: `02:00:00:00:00:0${ifid}`, remoteMac: `02:00:00:00:01:0${ifid}`,
  };
}

describe('operator/datapath: resources to maps', () => {
  let tmp: string;
  let resources: ResourceSet;
  let control: EmbeddedPathService;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'cilrec-'));
    const source = new DirectorySource(join(ROOT, 'examples', 'policies', 'zurich'), { statusDir: join(tmp, 'status'), rescanMs: 0 });
    resources = groupResources(await source.list());
    await source.close();
    control = EmbeddedPathService.fromFile(join(ROOT, 'examples', 'topology.yaml'), { now: () => NOW, seed: 7 });
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  function inputs(node: string, set: ResourceSet = resources, allocatorFile = join(tmp, `${node}.ids.json`)): DesiredInputs {
    const workloads = readWorkloads(join(ROOT, 'examples', 'workloads', 'zurich.yaml')).filter((w) => w.node === node);
    const book = new IdentityBook(IdentityAllocator.open(allocatorFile, { clusterId: set.clusters[0].spec.clusterId }));
    const topology = (control as unknown as { topology: { ases: Map<bigint, { hopKey: Uint8Array }> } }).topology;
    return {
      cluster: set.clusters[0], policies: set.policies, fences: set.fences, remotes: set.remotes, workloads,
      networkPolicies: set.networkPolicies, peers: new StaticIdentityDirectory([]),
      identities: book.sync(workloads), uplinks: [uplink(1), uplink(2)], control,
      hopKey: topology.ases.get(set.clusters[0].spec.isdAS)?.hopKey ?? null, realtimeOffsetNs: 0n, underlayMtu: 1472,
    };
  }

  function golden(name: string, text: string): void {
    const file = join(__dirname, 'golden', `${name}.txt`);
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, text);
    assert.equal(text, readFileSync(file, 'utf8'), `${file} (UPDATE_GOLDEN=1 rewrites it)`);
  }

  for (const node of ['zrh-node-1', 'zrh-node-2']) {
    it(`programs ${node} as the golden dump says, and a second pass changes nothing`, async () => {
      const maps = memoryEdgeMaps();
      const rec = new Reconciler(maps);
      const desired = await buildDesired(inputs(node), new PathIds());
      const first = rec.apply(desired);
      assert.deepEqual(first.failed, []);
      assert.ok(first.added > 0);
      golden(node, renderMaps(maps));
      const second = rec.apply(await buildDesired(inputs(node), new PathIds()));
      assert.deepEqual([second.added, second.updated, second.removed], [0, 0, 0]);
    });
  }

  it('keeps replication inside the fence and admits only compliant paths at ingress', async () => {
    const desired = await buildDesired(inputs('zrh-node-2'), new PathIds());
    const replication = desired.outcomes.find((o) => o.policy.metadata.name === 'replication');
    assert.ok(replication);
    const sel = replication.destinations[0].selection;
    assert.equal(sel.outcome, 'Selected');
    assert.equal(sel.selected.length, 2);
    assert.ok(sel.forbidden.length > 0, 'paths via the US or Singapore were refused');
    for (const p of sel.selected) assert.ok(p.ases.every((ia) => !['66', '67'].includes(String(ia >> 48n))), 'no hop in ISD 66 or 67');
    assert.equal(desired.ingressEnforced.length, 1);
    assert.ok(desired.ingressAllow.length > 0);
    const analytics = desired.outcomes.find((o) => o.policy.metadata.name === 'analytics');
    assert.equal(analytics?.destinations[0].selection.outcome, 'Selected', 'an audit fence keeps nothing out');
  });

  it('reports a policy whose every path an enforcing fence forbids, and programs nothing for it', async () => {
    const fences = resources.fences.map((f) => (f.metadata.name === 'eu-plus-ch-audit' ? { ...f, spec: { ...f.spec, mode: 'enforce' as const } } : f));
    const desired = await buildDesired(inputs('zrh-node-2', { ...resources, fences }), new PathIds());
    const analytics = desired.outcomes.find((o) => o.policy.metadata.name === 'analytics');
    assert.equal(analytics?.destinations[0].selection.outcome, 'AllPathsForbidden');
    const ids = analytics?.destinations[0].identities ?? [];
    assert.equal(ids.length, 1);
    assert.ok(!desired.egressPolicy.some(([k]) => k.identity === ids[0]), 'no egress entry for analytics');
  });

  it('removes what a deleted policy no longer backs, and keeps the rest', async () => {
    const maps = memoryEdgeMaps();
    const rec = new Reconciler(maps);
    const ids = new PathIds();
    rec.apply(await buildDesired(inputs('zrh-node-1'), ids));
    const before = maps.egress_policy.entries().length;
    const pathsBefore = maps.paths.entries().length;
    const without = { ...resources, policies: resources.policies.filter((p) => p.metadata.name !== 'video') };
    const report = rec.apply(await buildDesired(inputs('zrh-node-1', without), ids));
    assert.equal(maps.egress_policy.entries().length, before - 1);
    assert.ok(maps.paths.entries().length < pathsBefore, 'paths only video used are gone');
    assert.ok(report.removed >= 2);
    assert.equal(report.added, 0);
  });

  it('retries a failing key with backoff while the other keys and the last good value stay', async () => {
    let now = 0;
    const maps = memoryEdgeMaps();
    let broken = true;
    const real = maps.egress_policy;
    const flaky: MapLike<Parameters<typeof real.set>[0], number[]> = {
      get: (k) => real.get(k),
      delete: (k) => real.delete(k),
      entries: () => real.entries(),
      set: (k, v) => {
        if (broken && k.prefix === '10.165.0.0/16') throw new Error('ENOMEM');
        real.set(k, v);
      },
    };
    const rec = new Reconciler({ ...maps, egress_policy: flaky } as EdgeMaps, { now: () => now, retryMs: 1000 });
    const desired = await buildDesired(inputs('zrh-node-1'), new PathIds());
    const first = rec.apply(desired);
    assert.ok(first.failed.length > 0 && first.failed.every((f) => f.map === 'egress_policy' && f.error === 'ENOMEM'));
    assert.ok(maps.paths.entries().length > 0, 'the other maps went ahead');
    assert.equal(rec.nextRetryAt(), 1000);
    const early = rec.apply(desired);
    assert.equal(early.deferred, first.failed.length, 'not retried before its backoff');
    broken = false;
    now = 1000;
    const later = rec.apply(desired);
    assert.deepEqual(later.failed, []);
    assert.equal(maps.egress_policy.entries().length, desired.egressPolicy.length);
    assert.equal(rec.nextRetryAt(), null);
  });
});
