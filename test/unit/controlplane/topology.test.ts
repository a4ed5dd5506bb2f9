import assert from 'node:assert/strict';
import { join } from 'node:path';
import { formatIA, parseIA } from '../../../scion/isdas';
import { deriveHopFieldKey } from '../../../scion/mac/keys';
import { expTimeToSeconds } from '../../../scion/mac/expiry';
import { internalBetween, loadTopology, parseTopology, TopologyError } from '../../../controlplane/topology';
import { IA, SMALL_TOPOLOGY } from './small-topology';

const EXAMPLE = join(__dirname, '../../../examples/topology.yaml');

function fails(text: string, field: string, message: RegExp): TopologyError {
  try {
    parseTopology(text, 'topo.yaml');
  } catch (e) {
    assert.ok(e instanceof TopologyError, `expected a TopologyError, got ${String(e)}`);
    assert.equal(e.field, field, e.message);
    assert.match(e.message, message);
    return e;
  }
  assert.fail(`accepted, expected an error at ${field}`);
}

describe('controlplane topology', () => {
  it('reads ASes, interfaces, links and segment settings of the small topology', () => {
    const t = parseTopology(SMALL_TOPOLOGY);
    assert.equal(t.ases.size, 7);
    assert.equal(t.links.length, 8);
    const a = t.ases.get(IA.A)!;
    assert.equal(a.core, true);
    assert.equal(a.mtu, 9000);
    assert.deepEqual(a.hopKey, deriveHopFieldKey(new Uint8Array(Buffer.from('Z17SGFWeme+HCwOXNLhoow==', 'base64'))));
    assert.deepEqual([...a.interfaces.keys()].sort(), [1, 2, 3]);
    assert.equal(a.interfaces.get(2)!.linkTo, 'CHILD');
    const c = t.ases.get(IA.C)!;
    assert.equal(c.interfaces.get(1)!.linkTo, 'PARENT');
    assert.deepEqual(c.interfaces.get(1)!.remote, { ia: IA.A, ifid: 2 });
    assert.deepEqual(c.interfaces.get(2)!.geo, { latitude: 47.56, longitude: 7.59, address: 'Basel' });
    assert.equal(c.interfaces.get(3)!.geo!.country, 'CH');
    assert.deepEqual(internalBetween(c, 3, 2), { latencyMs: 0.5, bandwidthKbps: 400, hops: 3 });
    assert.deepEqual(internalBetween(c, 1, 2), { latencyMs: 1, bandwidthKbps: undefined });
    assert.equal(t.ases.get(IA.D)!.interfaces.get(2)!.linkTo, 'PEER');
    assert.equal(t.ases.get(IA.G)!.interfaces.get(1)!.underlay, '10.2.0.1:50000');
    assert.equal(t.ases.get(IA.G)!.interfaces.get(1)!.geo, undefined);
    const peer = t.links.find((l) => l.type === 'PEER')!;
    assert.deepEqual([peer.mtu, peer.medium, peer.latencyMs], [1300, 'multihop', 7]);
    assert.equal(t.segments.expTime, 20);
    assert.equal(t.segments.lifetimeSeconds, 21 * 337.5);
  });

  it('turns lifetimeSeconds into the largest ExpTime that fits and defaults to 63', () => {
    const base = SMALL_TOPOLOGY.replace('expTime: 20', 'lifetimeSeconds: 3600');
    assert.equal(parseTopology(base).segments.expTime, 9); // 10 * 337.5 s = 3375 s <= 3600 s
    const dflt = parseTopology(SMALL_TOPOLOGY.replace('segments:\n  expTime: 20\n', ''));
    assert.equal(dflt.segments.expTime, 63);
    assert.equal(dflt.segments.lifetimeSeconds, expTimeToSeconds(63));
  });

  it('loads the example WAN', () => {
    const t = loadTopology(EXAMPLE);
    const zurich = t.ases.get(parseIA('64-2:0:20'))!;
    const frankfurt = t.ases.get(parseIA('65-2:0:20'))!;
    assert.equal(zurich.core, false);
    assert.equal(frankfurt.core, false);
    assert.notEqual(formatIA(zurich.ia).split('-')[0], formatIA(frankfurt.ia).split('-')[0]);
    assert.equal(zurich.country, 'CH');
    assert.equal(frankfurt.country, 'DE');
    const coreCountries = new Set([...t.ases.values()].filter((a) => a.core).map((a) => a.country));
    for (const c of ['CH', 'DE', 'NL', 'FR', 'US', 'SG']) assert.ok(coreCountries.has(c), c);
    const keys = [...t.ases.values()].map((a) => Buffer.from(a.masterKey).toString('hex'));
    assert.equal(new Set(keys).size, keys.length, 'every AS has its own master key');
    assert.equal(zurich.interfaces.get(1)!.underlay, '10.64.20.1:50001');
  });

  describe('rejects bad files with the field and line at fault', () => {
    it('YAML syntax errors', () => {
      const e = fails('ases:\n  - { ia: 1-ff00:0:110\n', '', /YAML syntax/);
      assert.match(e.location!, /^topo\.yaml:[23]$/);
    });

    it('missing, malformed or weak master keys', () => {
      const e = fails(SMALL_TOPOLOGY.replace(', masterKey: polu0+cjN0atgoUOZE4C9g==', ''), 'ases[3].masterKey', /is required/);
      assert.equal(e.location, 'topo.yaml:17'); // the AS entry lacking the key
      fails(SMALL_TOPOLOGY.replace('polu0+cjN0atgoUOZE4C9g==', 'not*base64'), 'ases[3].masterKey', /not valid base64/);
      fails(SMALL_TOPOLOGY.replace('polu0+cjN0atgoUOZE4C9g==', 'AAAA'), 'ases[3].masterKey', /3 bytes; at least 16/);
    });

    it('bad ISD-AS numbers and duplicate ASes', () => {
      fails(SMALL_TOPOLOGY.replace('ia: 1-ff00:0:112', 'ia: 1-ff00:0:xyz'), 'ases[3].ia', /not an ISD-AS/);
      fails(SMALL_TOPOLOGY.replace('ia: 1-ff00:0:112', 'ia: 0-ff00:0:112'), 'ases[3].ia', /wildcard/);
      fails(SMALL_TOPOLOGY.replace('ia: 1-ff00:0:112', 'ia: 1-ff00:0:111'), 'ases[3].ia', /listed twice/);
    });

    it('unknown fields and bad values', () => {
      fails(SMALL_TOPOLOGY.replace('mtu: 9000', 'mtuu: 9000'), 'ases[0].mtuu', /unknown field/);
      fails(SMALL_TOPOLOGY.replace('mtu: 9000', 'mtu: 100'), 'ases[0].mtu', /below the minimum 1280/);
      fails(SMALL_TOPOLOGY.replace('country: CH }\n      2', 'country: ch }\n      2'), 'ases[2].interfaces.1.country', /ISO 3166-1 alpha-2/);
      fails(SMALL_TOPOLOGY.replace('latitude: 47.37', 'latitude: 97.37'), 'ases[2].interfaces.1.latitude', /above the maximum 90/);
      fails(SMALL_TOPOLOGY.replace('"10.2.0.1:50000"', '"somewhere"'), 'ases[6].interfaces.1.underlay', /not an IPv4/);
      fails(SMALL_TOPOLOGY.replace('expTime: 20', 'expTime: 256'), 'segments.expTime', /above the maximum 255/);
      fails(SMALL_TOPOLOGY.replace('expTime: 20', 'expTime: 20\n  lifetimeSeconds: 60'), 'segments', /not both/);
      fails(SMALL_TOPOLOGY.replace('linkType: opennet', 'linkType: fibre'), 'links[4].linkType', /must be one of/);
      fails(SMALL_TOPOLOGY.replace('type: PEER', 'type: SIBLING'), 'links[7].type', /CORE, PARENT or PEER/);
      fails(SMALL_TOPOLOGY.replace('latencyMs: 10, ', ''), 'links[0].latencyMs', /is required/);
    });

    it('links to unknown ASes or interfaces used twice, and bad interface references', () => {
      fails(SMALL_TOPOLOGY.replace('b: "2-ff00:0:211#2"', 'b: "2-ff00:0:299#2"'), 'links[7].b', /2-ff00:0:299 is not listed/);
      fails(SMALL_TOPOLOGY.replace('b: "2-ff00:0:211#2"', 'b: "2-ff00:0:211#1"'), 'links[7].b', /already used/);
      fails(SMALL_TOPOLOGY.replace('b: "2-ff00:0:211#2"', 'b: "2-ff00:0:211"'), 'links[7].b', /ISD-AS#interface/);
      fails(SMALL_TOPOLOGY.replace('b: "2-ff00:0:211#2"', 'b: "2-ff00:0:211#0"'), 'links[7].b', /1-65535/);
      fails(SMALL_TOPOLOGY.replace('b: "2-ff00:0:211#2"', 'b: "1-ff00:0:112#3"'), 'links[7]', /to itself/);
    });

    it('link types that break SCION rules', () => {
      fails(SMALL_TOPOLOGY.replace('b: "1-ff00:0:111#1", type: PARENT', 'b: "1-ff00:0:111#1", type: CORE'), 'links[1].type', /two core ASes/);
      fails(SMALL_TOPOLOGY.replace('a: "1-ff00:0:110#1", b: "1-ff00:0:120#1", type: CORE', 'a: "1-ff00:0:110#1", b: "1-ff00:0:120#1", type: PARENT'), 'links[0].b', /core and cannot have a parent/);
      fails(SMALL_TOPOLOGY.replace('a: "2-ff00:0:210#2"', 'a: "1-ff00:0:120#3"'), 'links[6].type', /inside one ISD/);
    });

    it('ASes that cannot be reached and interfaces without a link', () => {
      fails(SMALL_TOPOLOGY.replace('  - { a: "2-ff00:0:210#2", b: "2-ff00:0:211#1", type: PARENT, latencyMs: 1, bandwidthKbps: 100 }\n', ''), 'ases[6].interfaces.1', /not used by any link/);
      const noParent = SMALL_TOPOLOGY.replace('b: "1-ff00:0:112#1", type: PARENT', 'b: "1-ff00:0:112#1", type: PEER');
      fails(noParent, 'ases[3].core', /has no PARENT link/);
      const internalUnknown = SMALL_TOPOLOGY.replace('between: [2, 3]', 'between: [2, 4]');
      fails(internalUnknown, 'ases[2].internal[0].between[1]', /not listed under interfaces/);
    });

    it('a file that cannot be read', () => {
      assert.throws(() => loadTopology('/nonexistent/topology.yaml'), (e: unknown) => e instanceof TopologyError && /cannot read/.test(e.message));
    });
  });
});
