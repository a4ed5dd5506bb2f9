import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadSidCatalogue, parseSidCatalogue } from '../../../srv6/catalogue';
import { describeRuledOut, MAX_SEGMENTS, selectSegmentLists, selectWithReasons, type SegmentListChoice, type SegmentListPolicy } from '../../../srv6/select';
import { sidText } from '../../../srv6/sid';

const cat = loadSidCatalogue(join(__dirname, '../../../examples/srv6.yaml'));
const req = (policy: Partial<SegmentListPolicy>, tenantId = 100, from = 'zrh-node-1', to = 'fra-node-1') =>
  ({ from, to, tenantId, policy: { preference: 'latency' as const, ...policy } });
const pick = (...a: Parameters<typeof req>) => selectSegmentLists(cat, req(...a));
const why = (...a: Parameters<typeof req>) => {
  const r = selectWithReasons(cat, req(...a));
  assert.deepEqual(r.choices, []);
  return describeRuledOut(r.ruledOut);
};
const text = (c: SegmentListChoice) => c.segments.map(sidText);

describe('srv6/select', () => {
  it('voip (VRF 100, lowest latency): pe-zurich, pe-frankfurt, then fra-node-1\'s End.DT4', () => {
    const [best, second, ...rest] = pick({});
    assert.deepEqual({ ...best, segments: text(best) }, {
      segments: ['fc00:0:1::1', 'fc00:0:4::1', 'fc00:0:201::100'],
      nodes: ['zrh-node-1', 'pe-zurich', 'pe-frankfurt', 'fra-node-1'],
      countries: ['CH', 'DE'],
      latencyNs: 3_200_000,
    });
    assert.deepEqual(second.nodes, ['zrh-node-1', 'pe-zurich', 'p-milan', 'p-vienna', 'pe-frankfurt', 'fra-node-1']);
    assert.equal(second.latencyNs, 10_700_000);
    assert.deepEqual(rest, []);
  });

  it('backup (VRF 200, through AT): pe-zurich, p-milan, p-vienna, pe-frankfurt, End.DT4 for VRF 200', () => {
    const lists = pick({ throughCountries: ['AT'] }, 200);
    assert.equal(lists.length, 1);
    assert.deepEqual(text(lists[0]), ['fc00:0:1::1', 'fc00:0:2::1', 'fc00:0:3::1', 'fc00:0:4::1', 'fc00:0:201::200']);
    assert.deepEqual(lists[0].countries, ['CH', 'IT', 'AT', 'DE']);
    assert.deepEqual(text(pick({ throughCountries: ['AT'] }, 200, 'zrh-node-2', 'fra-node-2')[0]).at(-1), 'fc00:0:202::200');
  });

  it('applies avoid and through constraints on countries (groups too), nodes and operators', () => {
    const only = (p: Partial<SegmentListPolicy>) => pick(p).map((c) => c.nodes.slice(1, -1).join(' '));
    assert.deepEqual(only({ avoidCountries: ['IT'] }), ['pe-zurich pe-frankfurt']);
    assert.deepEqual(only({ throughCountries: ['DE'] }), ['pe-zurich pe-frankfurt', 'pe-zurich p-milan p-vienna pe-frankfurt']);
    assert.deepEqual(only({ throughCountries: ['IT', 'AT'] }), ['pe-zurich p-milan p-vienna pe-frankfurt']);
    assert.deepEqual(only({ throughNodes: ['p-vienna'] }), ['pe-zurich p-milan p-vienna pe-frankfurt']);
    assert.deepEqual(only({ avoidNodes: ['p-milan'] }), ['pe-zurich pe-frankfurt']);
    assert.deepEqual(only({ operators: ['Alpine Carrier'] }), ['pe-zurich pe-frankfurt']);
    assert.deepEqual(only({ operators: ['Alpine Carrier', 'Danube Networks'] }).length, 2);
    // none left: an empty list, and what ruled the candidates out (zrh-node-2 and fra-node-2
    // are edge nodes, no transit; pe-frankfurt is reached twice, so fra-node-2 counts twice)
    assert.equal(why({ operators: ['Danube Networks'] }), 'operator 1');
    assert.equal(why({ throughCountries: ['FR'] }), 'noTransit 3, missesThrough 2');
    assert.equal(why({ avoidCountries: ['DE'] }), 'avoided 1');
    assert.equal(why({ avoidNodes: ['pe-frankfurt'] }), 'noTransit 1, avoided 2');
  });

  it('avoids a node without a location when countries are avoided, and lets it count for nothing in through', () => {
    const nowhere = parseSidCatalogue(`
nodes:
  - { name: a, role: edge, cluster: x, operator: A, source: "fc00:a::1", locator: "fc00:a::/32", sids: [], geo: { latitude: 47.4, longitude: 8.5, country: CH } }
  - { name: p1, role: provider, operator: P, locator: "fc00:1::/32", sids: [{ sid: "fc00:1::1", behavior: End }] }
  - { name: b, role: edge, cluster: y, operator: B, source: "fc00:b::1", locator: "fc00:b::/32", sids: [{ sid: "fc00:b::100", behavior: End.DT4, vrf: 1 }], geo: { latitude: 50.1, longitude: 8.7, country: DE } }
links:
  - { a: a, b: p1, latencyMs: 1 }
  - { a: p1, b: b, latencyMs: 1 }
`);
    const sel = (policy: Partial<SegmentListPolicy>) => selectWithReasons(nowhere, { from: 'a', to: 'b', tenantId: 1, policy: { preference: 'hops', ...policy } });
    assert.deepEqual(sel({}).choices[0].countries, ['CH', 'DE']);
    assert.deepEqual(sel({ avoidCountries: ['FR'] }).ruledOut.avoided, 1);
    assert.deepEqual(sel({ throughCountries: ['CH', 'DE'] }).choices.length, 1);
  });

  it('ranks by segment count for preference hops, by latency for latency', () => {
    const slow = parseSidCatalogue(`
nodes:
  - { name: a, role: edge, cluster: x, operator: A, source: "fc00:a::1", locator: "fc00:a::/32", sids: [] }
  - { name: p1, role: provider, operator: P, locator: "fc00:1::/32", sids: [{ sid: "fc00:1::1", behavior: End }] }
  - { name: p2, role: provider, operator: P, locator: "fc00:2::/32", sids: [{ sid: "fc00:2::1", behavior: End }] }
  - { name: p3, role: provider, operator: P, locator: "fc00:3::/32", sids: [{ sid: "fc00:3::1", behavior: End }] }
  - { name: b, role: edge, cluster: y, operator: B, source: "fc00:b::1", locator: "fc00:b::/32", sids: [{ sid: "fc00:b::100", behavior: End.DT4, vrf: 1 }, { sid: "fc00:b::600", behavior: End.DT6, vrf: 1 }] }
links:
  - { a: a, b: p1, latencyMs: 1 }
  - { a: p1, b: b, latencyMs: 20 }
  - { a: p1, b: p2, latencyMs: 1 }
  - { a: p2, b: p3, latencyMs: 1 }
  - { a: p3, b: b, latencyMs: 1 }
`);
    const sel = (preference: 'latency' | 'hops', family?: 4 | 6) => selectSegmentLists(slow, { from: 'a', to: 'b', tenantId: 1, family, policy: { preference } });
    assert.deepEqual(sel('latency').map((c) => c.segments.length), [4, 2]);
    assert.deepEqual(sel('hops').map((c) => c.segments.length), [2, 4]);
    assert.equal(text(sel('hops', 6)[0]).at(-1), 'fc00:b::600');
  });

  it('caps segment lists at maxSegments, at most the datapath\'s 8', () => {
    assert.equal(MAX_SEGMENTS, 8);
    assert.deepEqual(pick({ maxSegments: 5 }).map((c) => c.segments.length), [3, 5]);
    assert.deepEqual(pick({ maxSegments: 4 }).map((c) => c.segments.length), [3]);
    assert.equal(why({ maxSegments: 4, throughCountries: ['AT'] }), 'noTransit 2, tooManySegments 2, missesThrough 1');
    // a chain of 7 providers needs 8 segments: allowed; 8 providers would need 9
    const chain = (n: number) => parseSidCatalogue(`
nodes:
  - { name: a, role: edge, cluster: x, operator: A, source: "fc00:a::1", locator: "fc00:a::/32", sids: [] }
${Array.from({ length: n }, (_, i) => `  - { name: p${i}, role: provider, operator: P, locator: "fc01:${i}::/32", sids: [{ sid: "fc01:${i}::1", behavior: End }] }`).join('\n')}
  - { name: b, role: edge, cluster: y, operator: B, source: "fc00:b::1", locator: "fc00:b::/32", sids: [{ sid: "fc00:b::100", behavior: End.DT4, vrf: 1 }] }
links:
  - { a: a, b: p0, latencyMs: 1 }
${Array.from({ length: n - 1 }, (_, i) => `  - { a: p${i}, b: p${i + 1}, latencyMs: 1 }`).join('\n')}
  - { a: p${n - 1}, b: b, latencyMs: 1 }
`);
    assert.equal(selectSegmentLists(chain(7), { from: 'a', to: 'b', tenantId: 1, policy: { preference: 'hops' } })[0].segments.length, 8);
    assert.deepEqual(selectWithReasons(chain(8), { from: 'a', to: 'b', tenantId: 1, policy: { preference: 'hops' } }),
      { choices: [], ruledOut: { noTransit: 0, avoided: 0, operator: 0, tooManySegments: 1, missesThrough: 0 } });
    for (const maxSegments of [0, 9, 2.5]) assert.throws(() => pick({ maxSegments }), { code: 'BAD_ARGUMENT' });
  });

  it('bounds the search: PATH_LIMIT when more partial paths than exploreLimit', () => {
    // the demo graph from zrh-node-1 to fra-node-1 takes exactly 12 extensions
    assert.equal(selectSegmentLists(cat, { from: 'zrh-node-1', to: 'fra-node-1', tenantId: 100, exploreLimit: 12, policy: { preference: 'latency' } }).length, 2);
    assert.throws(() => selectSegmentLists(cat, { from: 'zrh-node-1', to: 'fra-node-1', tenantId: 100, exploreLimit: 11, policy: { preference: 'latency' } }), { code: 'PATH_LIMIT' });
    // a full mesh of 14 providers has far more than the default 100000 partial paths
    const n = 14;
    const mesh = parseSidCatalogue(`
nodes:
  - { name: a, role: edge, cluster: x, operator: A, source: "fc00:a::1", locator: "fc00:a::/32", sids: [] }
${Array.from({ length: n }, (_, i) => `  - { name: p${i}, role: provider, operator: P, locator: "fc01:${i}::/32", sids: [{ sid: "fc01:${i}::1", behavior: End }] }`).join('\n')}
  - { name: b, role: edge, cluster: y, operator: B, source: "fc00:b::1", locator: "fc00:b::/32", sids: [{ sid: "fc00:b::100", behavior: End.DT4, vrf: 1 }] }
links:
  - { a: a, b: p0, latencyMs: 1 }
  - { a: p${n - 1}, b: b, latencyMs: 1 }
${Array.from({ length: n }, (_, i) => Array.from({ length: n - i - 1 }, (_, k) => `  - { a: p${i}, b: p${i + k + 1}, latencyMs: 1 }`).join('\n')).join('\n')}
`);
    assert.throws(() => selectSegmentLists(mesh, { from: 'a', to: 'b', tenantId: 1, policy: { preference: 'latency' } }), { code: 'PATH_LIMIT', message: /more than 100000/ });
    assert.throws(() => selectSegmentLists(cat, { from: 'zrh-node-1', to: 'fra-node-1', tenantId: 100, exploreLimit: 0, policy: { preference: 'latency' } }), { code: 'BAD_ARGUMENT' });
  });

  it('refuses unknown nodes, countries, tenants, preferences and from = to', () => {
    assert.throws(() => pick({}, 100, 'nowhere'), { code: 'UNKNOWN_NODE' });
    assert.throws(() => pick({ throughNodes: ['nowhere'] }), { code: 'UNKNOWN_NODE' });
    assert.throws(() => pick({ avoidNodes: ['nowhere'] }), { code: 'UNKNOWN_NODE' });
    assert.throws(() => pick({ throughCountries: ['DEU'] }), { code: 'BAD_ARGUMENT' });
    assert.throws(() => pick({ throughCountries: ['XX'] }), { code: 'BAD_ARGUMENT' });
    assert.throws(() => pick({ avoidCountries: ['de'] }), { code: 'BAD_ARGUMENT' });
    // groups are the caller's to expand
    assert.throws(() => pick({ throughCountries: ['EU'] }), { code: 'BAD_ARGUMENT', message: /expand groups/ });
    assert.throws(() => pick({}, 300), { code: 'NO_DECAP_SID', message: /fra-node-1 has no End.DT4 SID for tenant 300/ });
    assert.throws(() => selectSegmentLists(cat, { from: 'zrh-node-1', to: 'fra-node-1', tenantId: 100, family: 6, policy: { preference: 'latency' } }), { code: 'NO_DECAP_SID' });
    assert.throws(() => pick({ preference: 'bandwidth' as 'latency' }), { code: 'BAD_ARGUMENT' });
    assert.throws(() => pick({}, 100, 'fra-node-1', 'fra-node-1'), { code: 'BAD_ARGUMENT' });
    // within a cluster the list hairpins at the provider edge
    assert.deepEqual(pick({}, 100, 'zrh-node-1', 'zrh-node-2').map(text), [['fc00:0:1::1', 'fc00:0:102::100']]);
    const apart = parseSidCatalogue(`
nodes:
  - { name: a, role: edge, cluster: x, operator: A, source: "fc00:a::1", locator: "fc00:a::/32", sids: [] }
  - { name: b, role: edge, cluster: y, operator: B, source: "fc00:b::1", locator: "fc00:b::/32", sids: [{ sid: "fc00:b::100", behavior: End.DT4, vrf: 1 }] }
  - { name: c, role: edge, cluster: y, operator: B, source: "fc00:c::1", locator: "fc00:c::/32", sids: [] }
links:
  - { a: a, b: c, latencyMs: 1 }
  - { a: c, b: b, latencyMs: 1 }
`);
    // c connects them but is an edge node, which is no transit
    assert.deepEqual(selectWithReasons(apart, { from: 'a', to: 'b', tenantId: 1, policy: { preference: 'hops' } }).ruledOut.noTransit, 1);
    assert.equal(describeRuledOut({ noTransit: 0, avoided: 0, operator: 0, tooManySegments: 0, missesThrough: 0 }), 'the nodes are not connected');
  });

  it('is deterministic, and hands out segments the caller may change', () => {
    assert.deepEqual(pick({}), pick({}));
    const [first] = pick({});
    first.segments[0][15] = 0x99;
    assert.equal(cat.endSid('pe-zurich')?.sid, 'fc00:0:1::1');
    assert.equal(text(pick({})[0])[0], 'fc00:0:1::1');
  });
});
