import { strict as assert } from 'node:assert';
import { BoundedRing } from '../../../web/state/ring';
import { FlowDeck } from '../../../web/state/flow_deck';
import { ServiceGraphTally } from '../../../web/state/service_graph';
import { layoutServices } from '../../../web/state/service_layout';
import { WorldTally } from '../../../web/state/world_tally';
import { ComplianceTally } from '../../../web/state/compliance_tally';
import { flow, SRV6_DIRECT, SRV6_VIA_AUSTRIA, srv6Flow } from './flows';

const US_PATH = ['64-2:0:20', '64-2:0:10', '66-2:0:10', '65-2:0:10', '65-2:0:20'];

describe('web: flow holder and tallies', () => {
  it('the ring keeps the newest items, oldest first, and counts all', () => {
    const r = new BoundedRing<number>(3);
    for (let i = 1; i <= 5; i++) r.push(i);
    assert.deepEqual(r.toArray(), [3, 4, 5]);
    assert.equal(r.size, 3);
    assert.equal(r.total, 5);
    assert.equal(r.at(0), 3);
    assert.equal(r.at(3), undefined);
    assert.throws(() => new BoundedRing(0), RangeError);
  });

  it('service graph: workloads by app label and cluster, edges with verdict counts, cross-cluster marked', () => {
    const g = new ServiceGraphTally('zurich');
    g.add(flow({ src: ['zurich', 'db', 'replication'], dst: ['frankfurt', 'db', 'replication'] }));
    g.add(flow({ src: ['zurich', 'db', 'replication'], dst: ['frankfurt', 'db', 'replication'], dropped: true }));
    g.add(flow({ src: ['zurich', 'shop', 'frontend'], dst: ['zurich', 'shop', 'billing'] }));
    const e = g.edges.get('zurich/db/replication>frankfurt/db/replication');
    assert.ok(e);
    assert.equal(e.flows, 2);
    assert.equal(e.crossCluster, true);
    assert.deepEqual(e.verdicts, { FORWARDED: 1, DROPPED: 1 });
    assert.equal(g.edges.get('zurich/shop/frontend>zurich/shop/billing')?.crossCluster, false);
    assert.deepEqual([...g.workloads.keys()].sort(), ['frankfurt/db/replication', 'zurich/db/replication', 'zurich/shop/billing', 'zurich/shop/frontend']);
  });

  it('service graph: past its bound a new edge is counted as overflow, old edges still count', () => {
    const g = new ServiceGraphTally('zurich', 400, 2);
    for (let i = 0; i < 5; i++) g.add(flow({ src: ['zurich', 'ns', `a${i}`], dst: ['zurich', 'ns', 'b'] }));
    g.add(flow({ src: ['zurich', 'ns', 'a0'], dst: ['zurich', 'ns', 'b'] }));
    assert.equal(g.edges.size, 2);
    assert.equal(g.overflow, 3);
    assert.equal(g.edges.get('zurich/ns/a0>zurich/ns/b')?.flows, 2);
  });

  it('layout is the same whatever order the workloads came in, clusters side by side', () => {
    const refs = ['zurich/db/replication', 'frankfurt/db/replication', 'zurich/shop/billing', 'zurich/shop/frontend', 'zurich/db/backup'].map((k) => {
      const [cluster, namespace, workload] = k.split('/');
      return { key: k, cluster, namespace, workload };
    });
    const a = layoutServices(refs);
    const b = layoutServices([...refs].reverse());
    assert.deepEqual([...a.workloads.entries()].sort(), [...b.workloads.entries()].sort());
    assert.deepEqual(a.clusters.map((c) => c.cluster), ['frankfurt', 'zurich']);
    const z = a.clusters[1];
    assert.ok(z.x > a.clusters[0].x + a.clusters[0].w, 'clusters do not overlap');
    for (const w of a.workloads.values()) {
      const c = a.clusters.find((x) => x.cluster === w.cluster) as { x: number; y: number; w: number; h: number };
      assert.ok(w.x >= c.x && w.x + w.w <= c.x + c.w && w.y >= c.y && w.y + w.h <= c.y + c.h, `${w.key} inside its cluster`);
    }
    const boxes = [...a.workloads.values()];
    for (const p of boxes) for (const q of boxes) if (p !== q) assert.ok(p.x + p.w <= q.x || q.x + q.w <= p.x || p.y + p.h <= q.y || q.y + q.h <= p.y, `${p.key} and ${q.key} overlap`);
  });

  it('world: ASes by their geo, links with the worst verdict, crossed countries, offending hops by fence', () => {
    const w = new WorldTally();
    w.add(flow({ fence: 'eu-plus-ch', verdict: 'compliant' }));
    w.add(flow({ fence: 'eu-plus-ch-audit', verdict: 'violation', path: US_PATH }));
    w.add(flow({ fence: 'eu-plus-ch-audit', verdict: 'violation', path: [...US_PATH].reverse() }));
    assert.deepEqual([...w.ases.keys()].sort(), ['64-2:0:10', '64-2:0:20', '65-2:0:10', '65-2:0:20', '66-2:0:10']);
    assert.equal(w.ases.get('66-2:0:10')?.country, 'US');
    assert.equal(w.links.get('64-2:0:10|66-2:0:10')?.verdict, 'violation');
    assert.equal(w.links.get('64-2:0:10|66-2:0:10')?.flows.violation, 2, 'both directions are one link');
    assert.equal(w.links.get('64-2:0:10|65-2:0:10')?.verdict, 'compliant');
    assert.equal(w.links.get('64-2:0:20|64-2:0:10'), undefined);
    assert.equal(w.links.get('64-2:0:10|64-2:0:20')?.flows.violation, 2, 'the shared first link turned violating');
    assert.deepEqual([...w.countries.keys()].sort(), ['CH', 'DE', 'US']);
    assert.deepEqual([...w.offending.values()], [{ ia: '66-2:0:10', country: 'US', fence: 'eu-plus-ch-audit', flows: 2 }]);
  });

  it('world: SRv6 segments\' nodes by their catalogue geo, apart from ASes; links between them; the offending segment by node and fence', () => {
    const w = new WorldTally();
    w.add(flow({ fence: 'dach', verdict: 'compliant' }));
    w.add(srv6Flow({ fence: 'dach-only-audit', verdict: 'violation' }));
    w.add(srv6Flow({ fence: 'dach-only-audit', verdict: 'violation' }));
    w.add(srv6Flow({ segments: SRV6_DIRECT, fence: 'dach-only-audit', verdict: 'compliant' }));
    w.add(srv6Flow({ segments: ['fc00:0:1::1', 'fc00:9::1', 'fc00:0:201::200'] }));
    assert.deepEqual([...w.srv6Nodes.keys()].sort(), ['fra-node-1', 'p-milan', 'p-vienna', 'pe-frankfurt', 'pe-zurich'], 'an unknown SID has no geo: not placed');
    assert.equal(w.ases.size, 4, 'SRv6 nodes are not ASes');
    assert.deepEqual([w.srv6Nodes.get('p-milan')?.country, w.srv6Nodes.get('pe-zurich')?.flows], ['IT', 4]);
    assert.equal(w.srv6Links.get('p-milan|pe-zurich')?.verdict, 'violation');
    assert.deepEqual(w.srv6Links.get('pe-frankfurt|pe-zurich')?.flows, { compliant: 1, violation: 0, unverified: 0, none: 0 });
    assert.equal(w.srv6Links.get('fc00:9::1|pe-zurich')?.verdict, 'none', 'an unknown SID links by its SID');
    assert.equal(w.links.get('p-milan|pe-zurich'), undefined, 'SRv6 links are kept apart from SCION\'s');
    assert.deepEqual([...w.countries.keys()].sort(), ['AT', 'CH', 'DE', 'IT']);
    assert.deepEqual([...w.offendingSegments.values()], [{ node: 'p-milan', sid: 'fc00:0:2::1', country: 'IT', fence: 'dach-only-audit', flows: 2 }]);
    assert.equal(w.offending.size, 0);
  });

  it('world: past its bound a new SRv6 node, link or offending segment is counted as overflow', () => {
    const w = new WorldTally(2);
    w.add(srv6Flow({ segments: SRV6_VIA_AUSTRIA, fence: 'f', verdict: 'violation' }));
    assert.equal(w.srv6Nodes.size, 2);
    assert.equal(w.srv6Links.size, 2);
    // 3 nodes and 2 links past the bound.
    assert.equal(w.overflow, 5);
    for (const fence of ['g', 'h']) w.add(srv6Flow({ segments: SRV6_VIA_AUSTRIA, fence, verdict: 'violation' }));
    assert.equal(w.offendingSegments.size, 2);
    assert.equal(w.overflow, 5 + 2 * 5 + 1);
  });

  it('compliance: SRv6 violations listed by their segments\' nodes, apart from SCION paths', () => {
    const c = new ComplianceTally();
    c.add(srv6Flow({ fence: 'dach-only-audit', verdict: 'violation' }));
    c.add(srv6Flow({ fence: 'dach-only-audit', verdict: 'violation' }));
    c.add(srv6Flow({ segments: SRV6_DIRECT, fence: 'dach-only-audit', verdict: 'compliant' }));
    assert.deepEqual(c.fences.get('dach-only-audit')?.totals, { compliant: 1, violation: 2, unverified: 0 });
    assert.deepEqual(c.topPaths(5), [{
      fence: 'dach-only-audit', kind: 'SRv6', hops: ['pe-zurich', 'p-milan', 'p-vienna', 'pe-frankfurt', 'fra-node-1'], offendingIa: 'p-milan', offendingCountry: 'IT', flows: 2,
    }]);
  });

  it('compliance: per fence totals and buckets by flow time, top violating paths', () => {
    const c = new ComplianceTally(10_000, 3);
    const t0 = 1_767_225_600_000;
    c.add(flow({ fence: 'eu', verdict: 'compliant', timeMs: t0 }));
    c.add(flow({ fence: 'eu', verdict: 'unverified', timeMs: t0 + 5_000 }));
    c.add(flow({ fence: 'audit', verdict: 'violation', path: US_PATH, timeMs: t0 + 12_000 }));
    c.add(flow({ fence: 'audit', verdict: 'violation', path: US_PATH, timeMs: t0 + 13_000 }));
    c.add(flow({ fence: 'audit', verdict: 'violation', path: [...US_PATH].reverse(), timeMs: t0 + 14_000 }));
    c.add(flow({}));
    assert.deepEqual(c.fences.get('eu')?.totals, { compliant: 1, violation: 0, unverified: 1 });
    assert.deepEqual(c.fences.get('audit')?.totals, { compliant: 0, violation: 3, unverified: 0 });
    assert.deepEqual([...(c.fences.get('eu')?.buckets.entries() ?? [])], [[t0, { compliant: 1, violation: 0, unverified: 1 }]]);
    const top = c.topPaths(1);
    assert.equal(top.length, 1);
    assert.deepEqual(top[0], { fence: 'audit', kind: 'SCION', hops: US_PATH, offendingIa: '66-2:0:10', offendingCountry: 'US', flows: 2 });
    for (let i = 0; i < 5; i++) c.add(flow({ fence: 'eu', verdict: 'compliant', timeMs: t0 + 20_000 + i * 10_000 }));
    assert.deepEqual([...(c.fences.get('eu')?.buckets.keys() ?? [])].sort(), [t0 + 40_000, t0 + 50_000, t0 + 60_000], 'only the newest buckets stay');
  });

  it('deck: while paused flows wait up to the bound, the rest counted; resume takes them in order', () => {
    const d = new FlowDeck('zurich', { ring: 100, pending: 3 });
    d.add([flow({ uuid: 'a' })]);
    d.pause();
    d.add([flow({ uuid: 'b' }), flow({ uuid: 'c' })]);
    d.add([flow({ uuid: 'd' }), flow({ uuid: 'e' })]);
    assert.equal(d.ring.size, 1, 'nothing shown changes while paused');
    assert.equal(d.pending, 3);
    assert.equal(d.pendingDropped, 1);
    d.resume();
    assert.deepEqual(d.ring.toArray().map((f) => f.uuid), ['a', 'b', 'c', 'd']);
    assert.equal(d.pending, 0);
    assert.equal(d.graph.edges.get('zurich/db/replication>frankfurt/db/replication')?.flows, 4);
  });

  it('deck: 100k flows go in within a bound and the holder stays at its size', () => {
    const d = new FlowDeck('zurich', { ring: 20_000, pending: 50_000 });
    const batch = Array.from({ length: 1000 }, (_, i) => flow({ fence: 'eu', verdict: i % 10 === 0 ? 'violation' : 'compliant', path: i % 10 === 0 ? US_PATH : undefined, src: ['zurich', 'ns', `app${i % 50}`] }));
    const start = performance.now();
    for (let i = 0; i < 100; i++) d.add(batch);
    const ms = performance.now() - start;
    assert.equal(d.ring.size, 20_000);
    assert.equal(d.ring.total, 100_000);
    assert.equal(d.graph.edges.size, 50);
    assert.ok(ms < 3000, `100k flows took ${ms.toFixed(0)} ms`);
  });
});
