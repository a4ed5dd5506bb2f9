import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadSidCatalogue, parseSidCatalogue } from '../../../srv6/catalogue';
import { parseSid } from '../../../srv6/sid';

const EXAMPLE = join(__dirname, '../../../examples/srv6.yaml');

const node = (name: string, locator: string, extra = '') => `
  - name: ${name}
    role: provider
    operator: Op ${name}
    locator: ${locator}
    sids:
      - { sid: "${locator.replace(/\/\d+$/, '')}1", behavior: End }${extra}`;
const doc = (nodes: string, links = '', keys = '') => `${keys}\nnodes:${nodes}\n${links ? `links:\n${links}` : 'links: []'}\n`;

function rejects(text: string, path: string, message: RegExp): void {
  assert.throws(() => parseSidCatalogue(text, 'cat.yaml'), (e: Error & { code?: string; path?: string }) => {
    assert.equal(e.code, 'BAD_CATALOGUE', e.message);
    assert.equal(e.path, path, e.message);
    assert.match(e.message, message);
    assert.match(e.message, /^cat\.yaml(:\d+)?: /);
    return true;
  });
}

describe('srv6/catalogue', () => {
  describe('the demo catalogue (examples/srv6.yaml)', () => {
    const cat = loadSidCatalogue(EXAMPLE);

    it('has the four provider nodes, the four cluster nodes and their links', () => {
      assert.deepEqual(cat.nodes.filter((n) => n.role === 'provider').map((n) => [n.name, n.geo?.country]),
        [['pe-zurich', 'CH'], ['p-milan', 'IT'], ['p-vienna', 'AT'], ['pe-frankfurt', 'DE']]);
      assert.deepEqual(cat.edgeNodes('zurich').map((n) => n.name), ['zrh-node-1', 'zrh-node-2']);
      assert.deepEqual(cat.edgeNodes('frankfurt').map((n) => n.name), ['fra-node-1', 'fra-node-2']);
      assert.equal(cat.node('p-vienna')?.operator, 'Danube Networks');
      assert.deepEqual(cat.neighbours('pe-zurich').map((n) => [n.node, n.latencyNs]),
        [['p-milan', 2_000_000], ['pe-frankfurt', 3_000_000], ['zrh-node-1', 100_000], ['zrh-node-2', 100_000]]);
      assert.equal(cat.hmacKeys.get(1)?.length, 32);
    });

    it('looks SIDs up by longest locator prefix, with or without a declared SID', () => {
      const hit = cat.lookup('fc00:0:3::1');
      assert.equal(hit?.node.name, 'p-vienna');
      assert.equal(hit?.sid?.behavior, 'End');
      assert.equal(hit?.locator, 'fc00:0:3::/48');
      const inLocator = cat.lookup(parseSid('fc00:0:3::99'));
      assert.equal(inLocator?.node.name, 'p-vienna');
      assert.equal(inLocator?.sid, undefined);
      assert.equal(cat.lookup('fc00:0:5::1'), undefined);
      assert.equal(cat.lookup(new Uint8Array(4)), undefined);
    });

    it('finds decapsulation SIDs per node and tenant, End SIDs, and nodes by outer source', () => {
      assert.equal(cat.dt4Sid('fra-node-1', 100)?.sid, 'fc00:0:201::100');
      assert.equal(cat.dt4Sid('fra-node-2', 200)?.sid, 'fc00:0:202::200');
      assert.equal(cat.dt4Sid('fra-node-1', 300), undefined);
      assert.equal(cat.dt6Sid('fra-node-1', 100), undefined);
      assert.equal(cat.endSid('p-milan')?.sid, 'fc00:0:2::1');
      assert.equal(cat.endSid('zrh-node-1'), undefined);
      assert.deepEqual(cat.sidsOf('nope'), []);
      assert.equal(cat.nodeBySource('fc00:0:101::1')?.name, 'zrh-node-1');
      assert.equal(cat.nodeBySource(parseSid('fc00:0:1::1')), undefined);
    });

    it('has a generation that follows the content', () => {
      const text = `${doc(node('a', 'fc00:1::/32'))}`;
      assert.equal(parseSidCatalogue(text).generation, parseSidCatalogue(text).generation);
      assert.notEqual(parseSidCatalogue(text).generation, parseSidCatalogue(text.replace('Op a', 'Op b')).generation);
    });
  });

  it('requires the country of a located node, as declared', () => {
    const geo = (g: string) => parseSidCatalogue(doc(node('a', 'fc00:1::/32', `\n    geo: ${g}`))).node('a')?.geo;
    assert.deepEqual(geo('{ latitude: 48.2082, longitude: 16.3738, address: Vienna, country: AT }'), { latitude: 48.2082, longitude: 16.3738, address: 'Vienna', country: 'AT' });
    assert.equal(geo('{ latitude: 48.2082, longitude: 16.3738, country: DE }')?.address, '');
    rejects(doc(node('a', 'fc00:1::/32', '\n    geo: { latitude: 48.2, longitude: 16.4 }')), 'nodes[0].geo.country', /required/);
  });

  it('accepts End.X with a linked adjacency, End.DT6, nested locators of other lengths in lookup order', () => {
    const cat = parseSidCatalogue(doc(
      node('a', 'fc00:1::/32', '\n      - { sid: "fc00:1::2", behavior: End.X, adjacency: b }\n      - { sid: "fc00:1::6", behavior: End.DT6, vrf: 7 }') +
      node('b', 'fc00:2:1::/48'),
      '  - { a: a, b: b, latencyMs: 1 }',
    ));
    assert.equal(cat.lookup('fc00:1::2')?.sid?.adjacency, 'b');
    assert.equal(cat.dt6Sid('a', 7)?.sid, 'fc00:1::6');
    assert.equal(cat.lookup('fc00:2:1::5')?.node.name, 'b');
    assert.equal(cat.lookup('fc00:2:2::5'), undefined);
  });

  describe('refuses, naming the YAML path and line', () => {
    const two = node('a', 'fc00:1::/32') + node('b', 'fc00:2::/32');
    it('structure: unknown fields, missing lists, wrong types', () => {
      rejects('nodes: [', '', /YAML syntax/);
      rejects('- 1', '', /mapping/);
      rejects(doc(two) + 'extra: 1\n', 'extra', /unknown field/);
      rejects('links: []\n', 'nodes', /required/);
      rejects('nodes: []\n', 'nodes', /at least one/);
      rejects(doc(node('a', 'fc00:1::/32', '\n    colour: red')), 'nodes[0].colour', /unknown field/);
      rejects(doc(node('a', 'fc00:1::/32').replace('operator: Op a', 'operator: ""')), 'nodes[0].operator', /non-empty/);
      rejects(doc(node('a', 'fc00:1::/32').replace('role: provider', 'role: core')), 'nodes[0].role', /provider or edge/);
      rejects(doc(node('a', 'fc00:1::/32', '\n    asn: 4294967296')), 'nodes[0].asn', /outside/);
      rejects(doc(node('a', 'fc00:1::/32', '\n    asn: 1.5')), 'nodes[0].asn', /integer/);
    });

    it('names: a node listed twice', () => {
      rejects(doc(node('a', 'fc00:1::/32') + node('a', 'fc00:2::/32')), 'nodes[1].name', /twice/);
    });

    it('locators: malformed, host bits set, overlapping another node', () => {
      rejects(doc(node('a', 'fc00:1::/32').replace('locator: fc00:1::/32', 'locator: fc00:1::1/32')), 'nodes[0].locator', /host bits/);
      rejects(doc(node('a', 'fc00:1::/32').replace('locator: fc00:1::/32', 'locator: nowhere')), 'nodes[0].locator', /BAD_PREFIX/);
      rejects(doc(node('a', 'fc00:1::/32') + node('b', 'fc00:1:5::/48')), 'nodes[1].locator', /overlaps a's locator fc00:1::\/32/);
      rejects(doc(node('b', 'fc00:1:5::/48') + node('a', 'fc00:1::/32')), 'nodes[1].locator', /overlaps b's/);
      // nested three deep, innermost first: the first node (in file order) that overlaps an earlier one
      rejects(doc(node('c', 'fc00:1:5::/48') + node('b', 'fc00:1::/32') + node('a', 'fc00::/16')), 'nodes[1].locator', /fc00:1::\/32 overlaps c's/);
      rejects(doc(node('a', 'fc00:1::/32') + node('b', 'fc00:2::/32') + node('c', 'fc00:1:0:1::/64')), 'nodes[2].locator', /overlaps a's/);
      rejects(doc(node('a', 'fc00:1::/32') + node('b', 'fc00:2::/32') + node('c', 'fc00:2:0:1::/64')), 'nodes[2].locator', /overlaps b's/);
    });

    it('SIDs: outside the locator, listed twice, bad behavior, VRF rules, End.X adjacency', () => {
      rejects(doc(node('a', 'fc00:1::/32', '\n      - { sid: "fc00:2::1", behavior: End }')), 'nodes[0].sids[1].sid', /outside the node's locator fc00:1::\/32/);
      rejects(doc(node('a', 'fc00:1::/32', '\n      - { sid: "fc00:1::1", behavior: End }')), 'nodes[0].sids[1].sid', /twice/);
      rejects(doc(node('a', 'fc00:1::/32', '\n      - { sid: "fc00:1::x", behavior: End }')), 'nodes[0].sids[1].sid', /BAD_SID/);
      rejects(doc(node('a', 'fc00:1::/32', '\n      - { sid: "fc00:1::2", behavior: End.B6 }')), 'nodes[0].sids[1].behavior', /not one of/);
      rejects(doc(node('a', 'fc00:1::/32', '\n      - { sid: "fc00:1::2", behavior: End.DT4 }')), 'nodes[0].sids[1].vrf', /required/);
      rejects(doc(node('a', 'fc00:1::/32', '\n      - { sid: "fc00:1::2", behavior: End.DT4, vrf: 0 }')), 'nodes[0].sids[1].vrf', /outside 1\.\./);
      rejects(doc(node('a', 'fc00:1::/32', '\n      - { sid: "fc00:1::2", behavior: End, vrf: 3 }')), 'nodes[0].sids[1].vrf', /only End.DT4/);
      rejects(doc(node('a', 'fc00:1::/32', '\n      - { sid: "fc00:1::2", behavior: End.DT4, vrf: 3 }\n      - { sid: "fc00:1::3", behavior: End.DT4, vrf: 3 }')),
        'nodes[0].sids[2].vrf', /already has a End.DT4 SID for VRF 3/);
      rejects(doc(node('a', 'fc00:1::/32', '\n      - { sid: "fc00:1::2", behavior: End.X }')), 'nodes[0].sids[1].adjacency', /required/);
      rejects(doc(node('a', 'fc00:1::/32', '\n      - { sid: "fc00:1::2", behavior: End, adjacency: b }')), 'nodes[0].sids[1].adjacency', /only End.X/);
      rejects(doc(node('a', 'fc00:1::/32', '\n      - { sid: "fc00:1::2", behavior: End.X, adjacency: b }') + node('b', 'fc00:2::/32')), 'nodes[0].sids[1].adjacency', /no link to "b"/);
    });

    it('edge nodes: cluster and an outer source inside the locator', () => {
      const edge = (extra: string) => doc(`
  - name: e
    role: edge
    operator: E
    locator: fc00:9::/32${extra}
    sids: []`);
      assert.equal(parseSidCatalogue(edge('\n    cluster: c\n    source: "fc00:9::1"')).node('e')?.source, 'fc00:9::1');
      rejects(edge('\n    source: "fc00:9::1"'), 'nodes[0].cluster', /required for an edge/);
      rejects(edge('\n    cluster: c'), 'nodes[0].source', /required for an edge/);
      rejects(edge('\n    cluster: c\n    source: "fc00:8::1"'), 'nodes[0].source', /outside the node's locator/);
    });

    it('geo: coordinates out of range, country not alpha-2', () => {
      rejects(doc(node('a', 'fc00:1::/32', '\n    geo: { latitude: 91, longitude: 0 }')), 'nodes[0].geo.latitude', /outside -90\.\.90/);
      rejects(doc(node('a', 'fc00:1::/32', '\n    geo: { latitude: 0, longitude: 181 }')), 'nodes[0].geo.longitude', /outside/);
      rejects(doc(node('a', 'fc00:1::/32', '\n    geo: { latitude: 0, longitude: 1, country: ch }')), 'nodes[0].geo.country', /alpha-2/);
      rejects(doc(node('a', 'fc00:1::/32', '\n    geo: { latitude: 0, longitude: 1, country: XX }')), 'nodes[0].geo.country', /alpha-2/);
      rejects(doc(node('a', 'fc00:1::/32', '\n    geo: { latitude: 0 }')), 'nodes[0].geo.longitude', /required/);
    });

    it('links: unknown nodes, self links, duplicates either way round, bad latency', () => {
      rejects(doc(two, '  - { a: a, b: c, latencyMs: 1 }'), 'links[0].b', /"c" is not a node/);
      rejects(doc(two, '  - { a: a, b: a, latencyMs: 1 }'), 'links[0]', /to itself/);
      rejects(doc(two, '  - { a: a, b: b, latencyMs: 1 }\n  - { a: b, b: a, latencyMs: 2 }'), 'links[1]', /linked twice/);
      rejects(doc(two, '  - { a: a, b: b, latencyMs: -1 }'), 'links[0].latencyMs', /outside/);
      rejects(doc(two, '  - { a: a, b: b }'), 'links[0].latencyMs', /required/);
      rejects(doc(two, '  - { a: a, b: b, latencyMs: 1, bw: 3 }'), 'links[0].bw', /unknown field/);
    });

    it('HMAC keys: secrets under 16 bytes, not base64, other algorithms, ids twice or out of range', () => {
      const key = (k: string) => doc(two, '', `hmacKeys:\n  - ${k}\n`);
      const b64 = (n: number) => Buffer.alloc(n, 1).toString('base64');
      assert.equal(parseSidCatalogue(key(`{ id: 2, algorithm: hmac-sha256, secret: "${b64(16)}" }`)).hmacKeys.get(2)?.length, 16);
      rejects(key(`{ id: 2, algorithm: hmac-sha256, secret: "${b64(15)}" }`), 'hmacKeys[0].secret', /15 bytes; at least 16/);
      rejects(key(`{ id: 2, algorithm: hmac-sha256, secret: "not base64!" }`), 'hmacKeys[0].secret', /not base64/);
      rejects(key(`{ id: 2, algorithm: hmac-sha1, secret: "${b64(32)}" }`), 'hmacKeys[0].algorithm', /not supported/);
      rejects(key(`{ id: 0, algorithm: hmac-sha256, secret: "${b64(32)}" }`), 'hmacKeys[0].id', /outside 1\.\./);
      rejects(doc(two, '', `hmacKeys:\n  - { id: 2, algorithm: hmac-sha256, secret: "${b64(32)}" }\n  - { id: 2, algorithm: hmac-sha256, secret: "${b64(32)}" }\n`), 'hmacKeys[1].id', /twice/);
    });

    it('reports the line of the offending field', () => {
      const text = doc(two, '  - { a: a, b: zz, latencyMs: 1 }');
      const line = text.split('\n').findIndex((l) => l.includes('zz')) + 1;
      assert.throws(() => parseSidCatalogue(text, 'cat.yaml'), { message: new RegExp(`^cat\\.yaml:${line}: BAD_CATALOGUE at links\\[0\\]\\.b`) });
    });
  });

  it('handles a catalogue of 2000 nodes: overlap sweep, lookups by locator and source', () => {
    // (the YAML parser, about 1 ms a node here, is what bounds the size a test can afford)
    const n = 2000;
    const big = (extra: string) => `nodes:\n${Array.from({ length: n }, (_, i) =>
      `  - { name: n${i}, role: edge, cluster: c, operator: O, source: "fc00:${i.toString(16)}::1", locator: "fc00:${i.toString(16)}::/32", sids: [{ sid: "fc00:${i.toString(16)}::100", behavior: End.DT4, vrf: 1 }] }`).join('\n')}\n${extra}links: []\n`;
    const cat = parseSidCatalogue(big(''));
    assert.equal(cat.nodes.length, n);
    assert.equal(cat.lookup('fc00:7cf::100')?.node.name, 'n1999');
    assert.equal(cat.lookup('fc00:7cf::100')?.sid?.vrf, 1);
    assert.equal(cat.nodeBySource('fc00:7cf::1')?.name, 'n1999');
    assert.equal(cat.nodeBySource(new Uint8Array(3)), undefined);
    assert.throws(() => parseSidCatalogue(big('  - { name: late, role: provider, operator: O, locator: "fc00:3e8:5::/48", sids: [] }\n')), { path: `nodes[${n}].locator`, message: /overlaps n1000's/ });
  });

  it('fails to load a missing file with CATALOGUE_IO', () => {
    assert.throws(() => loadSidCatalogue('/nonexistent/srv6.yaml'), { code: 'CATALOGUE_IO' });
  });
});
