// The demo's SRv6 provider network as planned from a catalogue shaped like examples/srv6.yaml
// (CONTRACT §B): four provider nodes in CH, IT, AT and DE, two edge nodes per cluster. The
// expected routes are worked out by hand from the link latencies, not by the planner.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadSidCatalogue } from '../../../../srv6/catalogue';
import { DemoPlanError } from '../../../../cli/demo/plan';
import { planSrv6, type Srv6LinkInput, type Srv6NodeInput, type Srv6Plan } from '../../../../cli/demo/srv6_plan';

const NODES: Srv6NodeInput[] = [
  { name: 'pe-zurich', role: 'provider', locator: 'fc00:0:1::/48' },
  { name: 'p-milan', role: 'provider', locator: 'fc00:0:2::/48' },
  { name: 'p-vienna', role: 'provider', locator: 'fc00:0:3::/48' },
  { name: 'pe-frankfurt', role: 'provider', locator: 'fc00:0:4::/48' },
  { name: 'zrh-node-1', role: 'edge', locator: 'fc00:0:101::/48' },
  { name: 'zrh-node-2', role: 'edge', locator: 'fc00:0:102::/48' },
  { name: 'fra-node-1', role: 'edge', locator: 'fc00:0:201::/48' },
  { name: 'fra-node-2', role: 'edge', locator: 'fc00:0:202::/48' },
];
const LINKS: Srv6LinkInput[] = [
  { a: 'pe-zurich', b: 'pe-frankfurt', latencyMs: 3 },
  { a: 'pe-zurich', b: 'p-milan', latencyMs: 2 },
  { a: 'p-milan', b: 'p-vienna', latencyMs: 4 },
  { a: 'p-vienna', b: 'pe-frankfurt', latencyMs: 4.5 },
  { a: 'zrh-node-1', b: 'pe-zurich', latencyMs: 0.1 },
  { a: 'zrh-node-2', b: 'pe-zurich', latencyMs: 0.1 },
  { a: 'fra-node-1', b: 'pe-frankfurt', latencyMs: 0.1 },
  { a: 'fra-node-2', b: 'pe-frankfurt', latencyMs: 0.1 },
];
const DEMO_NODES = [
  { name: 'zrh-node-1', cluster: 'zurich', ns: 'x-node-zrh-node-1' },
  { name: 'zrh-node-2', cluster: 'zurich', ns: 'x-node-zrh-node-2' },
  { name: 'fra-node-1', cluster: 'frankfurt', ns: 'x-node-fra-node-1' },
  { name: 'fra-node-2', cluster: 'frankfurt', ns: 'x-node-fra-node-2' },
];

const routeTo = (plan: Srv6Plan, from: string, locator: string) =>
  [...plan.providers, ...plan.edges].find((n) => n.name === from)?.routes.find((r) => r.prefix === locator);

describe('cli/demo/srv6_plan: the SRv6 provider network of the demo', () => {
  const plan = planSrv6({ nodes: NODES, links: LINKS }, DEMO_NODES, 'x');

  it('gives every provider node a namespace and every provider link a /64 of fd00:a::/32', () => {
    assert.deepEqual(plan.providers.map((p) => p.ns), ['x-srv6-pe-zurich', 'x-srv6-p-milan', 'x-srv6-p-vienna', 'x-srv6-pe-frankfurt']);
    assert.deepEqual(
      plan.links.map((l) => [l.a.node, l.a.ifname, l.a.ip, l.b.node, l.b.ifname, l.b.ip]),
      [
        ['pe-zurich', 'sr0', 'fd00:a:0::1', 'pe-frankfurt', 'sr0', 'fd00:a:0::2'],
        ['pe-zurich', 'sr1', 'fd00:a:1::1', 'p-milan', 'sr0', 'fd00:a:1::2'],
        ['p-milan', 'sr1', 'fd00:a:2::1', 'p-vienna', 'sr0', 'fd00:a:2::2'],
        ['p-vienna', 'sr1', 'fd00:a:3::1', 'pe-frankfurt', 'sr1', 'fd00:a:3::2'],
      ],
    );
  });

  it('puts each cluster\'s nodes and their provider on one segment, each node on device sr0', () => {
    assert.deepEqual(
      plan.segments.map((s) => [s.ns, s.provider.node, s.provider.ifname, s.provider.ip, s.members.map((m) => `${m.node}@${m.ip}`)]),
      [
        ['x-sw6-zurich-pe-zurich', 'pe-zurich', 'up-zurich', 'fd00:b:0::1', ['zrh-node-1@fd00:b:0::2', 'zrh-node-2@fd00:b:0::3']],
        ['x-sw6-frankfurt-pe-frankfurt', 'pe-frankfurt', 'up-frankfurt', 'fd00:b:1::1', ['fra-node-1@fd00:b:1::2', 'fra-node-2@fd00:b:1::3']],
      ],
    );
    assert.deepEqual(plan.edges.map((e) => [e.name, e.dev, e.ns]), DEMO_NODES.map((n) => [n.name, 'sr0', n.ns]));
    // The XDP program goes on every device of a provider.
    assert.deepEqual(plan.providers.find((p) => p.name === 'pe-frankfurt')?.devices, ['sr0', 'sr1', 'up-frankfurt']);
  });

  it('routes every locator along the lowest-latency path: Zurich to Vienna through Milan (6 ms), not Frankfurt (7.5 ms)', () => {
    assert.deepEqual(routeTo(plan, 'pe-zurich', 'fc00:0:3::/48'), { prefix: 'fc00:0:3::/48', dev: 'sr1', via: 'fd00:a:1::2' });
    assert.deepEqual(routeTo(plan, 'pe-zurich', 'fc00:0:4::/48'), { prefix: 'fc00:0:4::/48', dev: 'sr0', via: 'fd00:a:0::2' });
    // Milan to Frankfurt: through Zurich (5 ms) beats through Vienna (8.5 ms).
    assert.deepEqual(routeTo(plan, 'p-milan', 'fc00:0:4::/48'), { prefix: 'fc00:0:4::/48', dev: 'sr0', via: 'fd00:a:1::1' });
    assert.deepEqual(routeTo(plan, 'p-vienna', 'fc00:0:4::/48'), { prefix: 'fc00:0:4::/48', dev: 'sr1', via: 'fd00:a:3::2' });
    // A provider reaches an edge node's locator by the node's address on the segment.
    assert.deepEqual(routeTo(plan, 'pe-frankfurt', 'fc00:0:202::/48'), { prefix: 'fc00:0:202::/48', dev: 'up-frankfurt', via: 'fd00:b:1::3' });
    assert.deepEqual(routeTo(plan, 'p-vienna', 'fc00:0:201::/48'), { prefix: 'fc00:0:201::/48', dev: 'sr1', via: 'fd00:a:3::2' });
  });

  it('routes an edge node to every other locator through its provider, never through another edge node', () => {
    const zrh = plan.edges.find((e) => e.name === 'zrh-node-1');
    assert.equal(zrh?.routes.length, NODES.length - 1);
    for (const r of zrh?.routes ?? []) assert.deepEqual([r.dev, r.via], ['sr0', 'fd00:b:0::1'], r.prefix);
    assert.equal(routeTo(plan, 'zrh-node-1', 'fc00:0:101::/48'), undefined, 'no route to its own locator');
  });

  it('plans examples/srv6.yaml, the demo\'s catalogue, as the same network', () => {
    const cat = loadSidCatalogue(join(__dirname, '..', '..', '..', '..', 'examples', 'srv6.yaml'));
    const real = planSrv6({ nodes: cat.nodes.map((n) => ({ name: n.name, role: n.role, locator: n.locatorText })), links: cat.links }, DEMO_NODES, 'x');
    assert.deepEqual(real.providers.map((p) => [p.name, p.locator]).sort(), NODES.filter((n) => n.role === 'provider').map((n) => [n.name, n.locator]).sort());
    assert.deepEqual(real.segments.map((s) => [s.cluster, s.provider.node, s.members.map((m) => m.node)]), [
      ['zurich', 'pe-zurich', ['zrh-node-1', 'zrh-node-2']],
      ['frankfurt', 'pe-frankfurt', ['fra-node-1', 'fra-node-2']],
    ]);
    assert.equal(real.links.length, 4);
    const milan = real.links.flatMap((l) => [l.a, l.b]).find((end) => end.node === 'p-milan' && real.links.some((l) => [l.a, l.b].includes(end) && [l.a.node, l.b.node].includes('pe-zurich')));
    const zrh = real.providers.find((p) => p.name === 'pe-zurich');
    assert.equal(zrh?.routes.find((r) => r.prefix === 'fc00:0:3::/48')?.via, milan?.ip, 'Zurich reaches Vienna by Milan');
  });

  it('refuses an edge node that is no demo node, a link between edge nodes, and a node with two providers', () => {
    assert.throws(() => planSrv6({ nodes: [...NODES, { name: 'ams-node-1', role: 'edge', locator: 'fc00:0:301::/48' }], links: LINKS }, DEMO_NODES, 'x'), DemoPlanError);
    assert.throws(() => planSrv6({ nodes: NODES, links: [...LINKS, { a: 'zrh-node-1', b: 'fra-node-1', latencyMs: 1 }] }, DEMO_NODES, 'x'), /joins two edge nodes/);
    assert.throws(() => planSrv6({ nodes: NODES, links: [...LINKS, { a: 'zrh-node-1', b: 'p-milan', latencyMs: 1 }] }, DEMO_NODES, 'x'), /more than one provider/);
    assert.throws(() => planSrv6({ nodes: NODES, links: [...LINKS, { a: 'zrh-node-1', b: 'nowhere', latencyMs: 1 }] }, DEMO_NODES, 'x'), /unknown node/);
  });
});
