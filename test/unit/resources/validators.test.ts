import assert from 'node:assert/strict';
import { join } from 'node:path';
import { exampleDocs } from './examples';
import { loadTopology } from '../../../controlplane/topology';
import { COUNTRY_GROUPS, expandCountry } from '../../../geo/countries';
import { validateClusterAS } from '../../../resources/clusteras';
import { validateGeofence } from '../../../resources/geofence';
import { CLUSTER_LABEL, MAX_PEERS, MAX_PORTS, MAX_RULES, validateNetworkPolicy } from '../../../resources/networkpolicy';
import type { Problem, Validation } from '../../../resources/problems';
import { resolveDestinations, validateRemoteCluster, type RemoteCluster } from '../../../resources/remotecluster';
import { validateResource, type AnyResource } from '../../../resources/resource';
import { matchesWorkload } from '../../../resources/selector';
import { validateWANPathPolicy, type WANPathPolicy } from '../../../resources/wanpathpolicy';
import { parseIA } from '../../../scion/isdas';

const TOPOLOGY = join(__dirname, '../../../examples/topology.yaml');

function ok<T>(r: Validation<T>): T {
  if (!r.ok) assert.fail(`unexpected problems: ${JSON.stringify(r.problems)}`);
  return r.value;
}

function problems<T>(r: Validation<T>): Problem[] {
  if (r.ok) assert.fail('expected problems, got a valid resource');
  return r.problems;
}

const paths = (r: Validation<unknown>): string[] => problems(r).map((p) => p.path);

const policy = (spec: unknown, metadata: unknown = { name: 'billing' }) => ({ apiVersion: 'cillion.io/v1alpha1', kind: 'WANPathPolicy', metadata, spec });
const fence = (spec: unknown) => ({ apiVersion: 'cillion.io/v1alpha1', kind: 'Geofence', metadata: { name: 'f' }, spec });
const clusterAS = (spec: unknown) => ({ apiVersion: 'cillion.io/v1alpha1', kind: 'ClusterAS', metadata: { name: 'c' }, spec });
const basePolicy = { workloadSelector: { podSelector: { matchLabels: { app: 'billing' } } }, destinations: [{ cluster: 'frankfurt' }] };

describe('resources validators', () => {
  describe('examples/policies', () => {
    const topo = loadTopology(TOPOLOGY);
    for (const cluster of ['zurich', 'frankfurt']) {
      it(`${cluster}: every document is valid and every ISD-AS exists in examples/topology.yaml`, () => {
        const rs: AnyResource[] = exampleDocs(cluster).map((d) => ok(validateResource(d)));
        const remotes = rs.filter((r): r is RemoteCluster => r.kind === 'RemoteCluster');
        const local = rs.filter((r) => r.kind === 'ClusterAS');
        assert.equal(local.length, 1);
        const as = local[0]!.kind === 'ClusterAS' ? local[0]!.spec : assert.fail();
        const topoAS = topo.ases.get(as.isdAS);
        assert.ok(topoAS, 'local AS in topology');
        for (const u of as.uplinks) assert.equal(topoAS.interfaces.get(u.interface)?.underlay, u.underlay, `uplink ${u.interface}`);
        for (const r of remotes) assert.ok(topo.ases.has(r.spec.isdAS));
        for (const p of rs.filter((r): r is WANPathPolicy => r.kind === 'WANPathPolicy')) {
          const dests = ok(resolveDestinations(p.spec.destinations, remotes));
          for (const d of dests) assert.ok(topo.ases.has(d.isdAS) && d.isdAS !== as.isdAS);
        }
      });
    }

    it('the demo story: billing single, video 3 paths, replication enforced EU+CH, analytics audited via ISD 66', () => {
      const rs = new Map(exampleDocs('zurich').map((d) => ok(validateResource(d))).map((r) => [`${r.kind}/${r.metadata.name}`, r]));
      const wpp = (n: string) => rs.get(`WANPathPolicy/${n}`) as WANPathPolicy;
      assert.deepEqual([wpp('billing').spec.mode, wpp('billing').spec.paths, wpp('billing').spec.preference], ['single', 1, 'latency']);
      assert.deepEqual([wpp('video').spec.mode, wpp('video').spec.paths], ['multipath', 3]);
      assert.deepEqual(wpp('video').spec.weights, { latency: 0.3, bandwidth: 0.7, hopCount: 0 });
      assert.equal(wpp('analytics').spec.pathPolicy.sequence, '0* 66 0*');
      const enforce = rs.get('Geofence/eu-plus-ch');
      const audit = rs.get('Geofence/eu-plus-ch-audit');
      assert.ok(enforce?.kind === 'Geofence' && audit?.kind === 'Geofence');
      assert.equal(enforce.spec.mode, 'enforce');
      assert.equal(audit.spec.mode, 'audit');
      for (const c of ['CH', 'DE', 'FR', 'NL']) assert.ok(enforce.spec.allow.countries.includes(c), c);
      for (const c of ['US', 'SG', 'GB']) assert.ok(!enforce.spec.allow.countries.includes(c), c);
      const replicaPod = { namespaceLabels: { 'kubernetes.io/metadata.name': 'db' }, podLabels: { app: 'replication', 'pod-template-hash': 'x' } };
      assert.ok(matchesWorkload(enforce.spec.workloadSelector, replicaPod));
      assert.ok(!matchesWorkload(audit.spec.workloadSelector, replicaPod));
    });
  });

  describe('WANPathPolicy', () => {
    it('fills defaults: latency preference, single path', () => {
      const v = ok(validateWANPathPolicy(policy(basePolicy)));
      assert.deepEqual([v.spec.preference, v.spec.mode, v.spec.paths, v.spec.weights], ['latency', 'single', 1, { latency: 1, bandwidth: 0, hopCount: 0 }]);
      assert.deepEqual(v.spec.pathPolicy, {});
      assert.deepEqual(v.spec.workloadSelector.namespaceSelector, { matchLabels: {}, matchExpressions: [] });
    });

    it('multipath defaults to 2 paths; weighted preference normalises', () => {
      const v = ok(validateWANPathPolicy(policy({ ...basePolicy, mode: 'multipath', preference: 'weighted', weights: { latency: 3, hopCount: 1 } })));
      assert.equal(v.spec.paths, 2);
      assert.deepEqual(v.spec.weights, { latency: 0.75, bandwidth: 0, hopCount: 0.25 });
    });

    it('reads a full SCION path policy with pathpol field names', () => {
      const pathPolicy = {
        acl: ['- 66', '- 67', '+'],
        sequence: '0* 65-2:0:10 0*',
        local_isd_ases: ['64-2:0:20'],
        remote_isd_ases: [{ isd_as: '65-0', reject: false }],
        options: [{ weight: 2, policy: { acl: ['- 64-2:0:10#1', '+'], options: [{ weight: 1, policy: { sequence: '0*' } }] } }],
        extends: ['base'],
      };
      const v = ok(validateWANPathPolicy(policy({ ...basePolicy, pathPolicy })));
      assert.deepEqual(v.spec.pathPolicy, pathPolicy);
    });

    it('destinations by ISD-AS carry prefixes', () => {
      const v = ok(validateWANPathPolicy(policy({ ...basePolicy, destinations: [{ isdAS: '65-2:0:20', prefixes: ['10.165.0.0/16', 'fd00:165::/48'] }] })));
      assert.deepEqual(v.spec.destinations, [{ isdAS: parseIA('65-2:0:20'), prefixes: ['10.165.0.0/16', 'fd00:165::/48'] }]);
    });

    const bad: [string, unknown, string[]][] = [
      ['not an object', 'billing', ['']],
      ['wrong apiVersion and kind', { ...policy(basePolicy), apiVersion: 'v1', kind: 'Geofence' }, ['apiVersion', 'kind']],
      ['missing spec', { apiVersion: 'cillion.io/v1alpha1', kind: 'WANPathPolicy', metadata: { name: 'a' } }, ['spec']],
      ['bad name, namespace on a cluster-scoped kind', policy(basePolicy, { name: 'Billing_1', namespace: 'shop' }), ['metadata.name', 'metadata.namespace']],
      ['unknown top-level and spec fields', { ...policy({ ...basePolicy, prefernce: 'latency' }), extra: 1 }, ['extra', 'spec.prefernce']],
      ['missing selector and destinations', policy({}), ['spec.workloadSelector', 'spec.destinations']],
      ['empty destinations', policy({ ...basePolicy, destinations: [] }), ['spec.destinations']],
      ['cluster and isdAS together', policy({ ...basePolicy, destinations: [{ cluster: 'x', isdAS: '65-2:0:20' }] }), ['spec.destinations[0]']],
      ['isdAS without prefixes', policy({ ...basePolicy, destinations: [{ isdAS: '65-2:0:20' }] }), ['spec.destinations[0].prefixes']],
      [
        'bad ISD-AS, wildcard, host bits, bad prefix',
        policy({ ...basePolicy, destinations: [{ isdAS: '65-2:0', prefixes: ['10.0.0.1/8'] }, { isdAS: '65-0', prefixes: ['10.0.0.0/33'] }] }),
        ['spec.destinations[0].isdAS', 'spec.destinations[0].prefixes[0]', 'spec.destinations[1].isdAS', 'spec.destinations[1].prefixes[0]'],
      ],
      ['duplicate destination', policy({ ...basePolicy, destinations: [{ cluster: 'a' }, { cluster: 'a' }] }), ['spec.destinations[1]']],
      [
        'selector: bad operator, In without values, Exists with values, bad label key and value',
        policy({
          ...basePolicy,
          workloadSelector: {
            namespaceSelector: { matchLabels: { 'bad key!': 'x', app: 'no spaces' } },
            podSelector: { matchExpressions: [{ key: 'a', operator: 'Has' }, { key: 'b', operator: 'In' }, { key: 'c', operator: 'Exists', values: ['x'] }, { operator: 'In', values: ['x'] }] },
          },
        }),
        [
          'spec.workloadSelector.namespaceSelector.matchLabels["bad key!"]',
          'spec.workloadSelector.namespaceSelector.matchLabels.app',
          'spec.workloadSelector.podSelector.matchExpressions[0].operator',
          'spec.workloadSelector.podSelector.matchExpressions[1].values',
          'spec.workloadSelector.podSelector.matchExpressions[2].values',
          'spec.workloadSelector.podSelector.matchExpressions[3].key',
        ],
      ],
      [
        'path policy shape',
        policy({ ...basePolicy, pathPolicy: { acl: '+', sequence: '', local_isd_ases: ['x'], remote_isd_ases: [{ reject: 'yes' }], options: [{ weight: 1.5, policy: { acl: [] } }], extends: ['Not A Name'], ttl: 3 } }),
        [
          'spec.pathPolicy.ttl',
          'spec.pathPolicy.acl',
          'spec.pathPolicy.sequence',
          'spec.pathPolicy.local_isd_ases[0]',
          'spec.pathPolicy.remote_isd_ases[0].isd_as',
          'spec.pathPolicy.remote_isd_ases[0].reject',
          'spec.pathPolicy.options[0].weight',
          'spec.pathPolicy.options[0].policy.acl',
          'spec.pathPolicy.extends[0]',
        ],
      ],
      ['ACL without a default', policy({ ...basePolicy, pathPolicy: { acl: ['- 66'] } }), ['spec.pathPolicy.acl']],
      ['sequence that does not parse', policy({ ...basePolicy, pathPolicy: { sequence: '0* (66' } }), ['spec.pathPolicy.sequence']],
      [
        'sequence inside an option',
        policy({ ...basePolicy, pathPolicy: { options: [{ weight: 1, policy: { sequence: '66 |' } }] } }),
        ['spec.pathPolicy.options[0].policy.sequence'],
      ],
      ['unknown preference and mode', policy({ ...basePolicy, preference: 'cheapest', mode: 'many' }), ['spec.preference', 'spec.mode']],
      ['weights without weighted', policy({ ...basePolicy, weights: { latency: 1 } }), ['spec.weights']],
      ['weighted without weights', policy({ ...basePolicy, preference: 'weighted' }), ['spec.weights']],
      ['negative and all-zero weights', policy({ ...basePolicy, preference: 'weighted', weights: { latency: -1, cost: 1 } }), ['spec.weights.cost', 'spec.weights.latency']],
      ['all-zero weights', policy({ ...basePolicy, preference: 'weighted', weights: { latency: 0 } }), ['spec.weights']],
      ['paths 3 in single mode', policy({ ...basePolicy, paths: 3 }), ['spec.paths']],
      ['paths 1 and 17 in multipath mode', policy({ ...basePolicy, mode: 'multipath', paths: 17 }), ['spec.paths']],
    ];
    for (const [name, obj, want] of bad) {
      it(`rejects: ${name}`, () => assert.deepEqual(paths(validateWANPathPolicy(obj)), want));
    }

    it('messages say what is wrong', () => {
      const ps = problems(validateWANPathPolicy(policy({ ...basePolicy, destinations: [{ isdAS: '65-2:0:20', prefixes: ['10.0.0.1/8'] }] })));
      assert.deepEqual(ps, [{ path: 'spec.destinations[0].prefixes[0]', message: '"10.0.0.1/8" has host bits set after /8' }]);
    });

    it('never throws on hostile input', () => {
      for (const junk of [null, undefined, 42, [], { spec: null }, policy(null), policy([]), policy({ ...basePolicy, destinations: [null, 7, 'x'] }), policy({ workloadSelector: [], destinations: {} })]) {
        assert.equal(validateWANPathPolicy(junk).ok, false);
      }
    });
  });

  describe('Geofence', () => {
    it('expands groups, sorts and dedupes', () => {
      const v = ok(validateGeofence(fence({ workloadSelector: {}, allow: { countries: ['CH', 'EU', 'DE'], isds: [65, 64, 65] }, deny: { ases: ['66-2:0:10'] }, mode: 'audit' })));
      assert.equal(v.spec.allow.countries.length, 28);
      assert.ok(v.spec.allow.countries.includes('CH') && v.spec.allow.countries.includes('GR'));
      assert.deepEqual(v.spec.allow.isds, [64, 65]);
      assert.deepEqual(v.spec.deny.ases, [parseIA('66-2:0:10')]);
    });

    const bad: [string, unknown, string[]][] = [
      ['no rules at all', fence({ workloadSelector: {}, mode: 'enforce' }), ['spec']],
      ['missing mode, bad mode', fence({ workloadSelector: {}, allow: { isds: [64] } }), ['spec.mode']],
      ['unknown mode', fence({ workloadSelector: {}, allow: { isds: [64] }, mode: 'block' }), ['spec.mode']],
      [
        'bad codes: lower case, alpha-3, unknown, UK',
        fence({ workloadSelector: {}, allow: { countries: ['ch', 'CHE', 'ZZ', 'UK', 'GB'] }, mode: 'enforce' }),
        ['spec.allow.countries[0]', 'spec.allow.countries[1]', 'spec.allow.countries[2]', 'spec.allow.countries[3]'],
      ],
      ['ISD 0 and wildcard AS', fence({ workloadSelector: {}, deny: { isds: [0, 70000], ases: ['64-0'] }, mode: 'enforce' }), ['spec.deny.isds[0]', 'spec.deny.isds[1]', 'spec.deny.ases[0]']],
      ['unknown rule field', fence({ workloadSelector: {}, allow: { regions: ['x'] }, mode: 'enforce' }), ['spec.allow.regions']],
    ];
    for (const [name, obj, want] of bad) {
      it(`rejects: ${name}`, () => assert.deepEqual(paths(validateGeofence(obj)), want));
    }
  });

  describe('ClusterAS and RemoteCluster', () => {
    it('reads a daemon control plane and IPv6 underlays', () => {
      const v = ok(validateClusterAS(clusterAS({ isdAS: '64-2:0:20', clusterId: 1, uplinks: [{ interface: 1, underlay: '[fd00::1]:50001' }], controlPlane: { daemon: 'sciond.scion:30255' } })));
      assert.deepEqual(v.spec.controlPlane, { kind: 'daemon', address: 'sciond.scion:30255' });
      assert.equal(v.spec.clusterId, 1);
    });

    const bad: [string, unknown, string[]][] = [
      ['missing everything', clusterAS({}), ['spec.isdAS', 'spec.clusterId', 'spec.uplinks', 'spec.controlPlane']],
      ['cluster id 0', clusterAS({ isdAS: '64-2:0:20', clusterId: 0, uplinks: [{ interface: 1, underlay: '10.0.0.1:1' }], controlPlane: { topology: 't' } }), ['spec.clusterId']],
      ['cluster id 256', clusterAS({ isdAS: '64-2:0:20', clusterId: 256, uplinks: [{ interface: 1, underlay: '10.0.0.1:1' }], controlPlane: { topology: 't' } }), ['spec.clusterId']],
      ['cluster id as text', clusterAS({ isdAS: '64-2:0:20', clusterId: '2', uplinks: [{ interface: 1, underlay: '10.0.0.1:1' }], controlPlane: { topology: 't' } }), ['spec.clusterId']],
      ['both control planes', clusterAS({ isdAS: '64-2:0:20', clusterId: 1, uplinks: [{ interface: 1, underlay: '10.0.0.1:1' }], controlPlane: { topology: 't', daemon: 'a:1' } }), ['spec.controlPlane']],
      [
        'bad uplinks: interface 0, host name underlay, duplicate',
        clusterAS({ isdAS: '64-2:0:20', clusterId: 1, uplinks: [{ interface: 0, underlay: '10.0.0.1:1' }, { interface: 2, underlay: 'router:1' }, { interface: 3, underlay: '10.0.0.1:70000' }, { interface: 4, underlay: '10.0.0.2:2' }, { interface: 4, underlay: '10.0.0.3:3' }], controlPlane: { topology: 't' } }),
        ['spec.uplinks[0].interface', 'spec.uplinks[1].underlay', 'spec.uplinks[2].underlay', 'spec.uplinks[4]'],
      ],
      ['daemon not host:port', clusterAS({ isdAS: '64-2:0:20', clusterId: 1, uplinks: [{ interface: 1, underlay: '10.0.0.1:1' }], controlPlane: { daemon: 'sciond' } }), ['spec.controlPlane.daemon']],
    ];
    for (const [name, obj, want] of bad) {
      it(`ClusterAS rejects: ${name}`, () => assert.deepEqual(paths(validateClusterAS(obj)), want));
    }

    it('RemoteCluster needs an ISD-AS and canonical prefixes', () => {
      const rc = (spec: unknown) => ({ apiVersion: 'cillion.io/v1alpha1', kind: 'RemoteCluster', metadata: { name: 'r' }, spec });
      assert.deepEqual(paths(validateRemoteCluster(rc({ isdAS: '65-2:0:20', prefixes: [] }))), ['spec.prefixes']);
      assert.deepEqual(paths(validateRemoteCluster(rc({ prefixes: ['::/0', 'fd00::1/64'] }))), ['spec.isdAS', 'spec.prefixes[1]']);
      ok(validateRemoteCluster(rc({ isdAS: '65-2_0_20', prefixes: ['::ffff:10.0.0.0/104'] })));
    });

    it('resolveDestinations names the missing RemoteCluster', () => {
      const v = ok(validateWANPathPolicy(policy({ ...basePolicy, destinations: [{ isdAS: '65-2:0:20', prefixes: ['10.0.0.0/8'] }, { cluster: 'nowhere' }] })));
      assert.deepEqual(resolveDestinations(v.spec.destinations, []), { ok: false, problems: [{ path: 'spec.destinations[1].cluster', message: 'no RemoteCluster named "nowhere"' }] });
    });
  });

  describe('countries', () => {
    it('EU has 27 members, EEA adds IS, LI, NO; Switzerland and the UK are in neither', () => {
      assert.equal(COUNTRY_GROUPS.EU!.length, 27);
      assert.deepEqual(COUNTRY_GROUPS.EEA!.filter((c) => !COUNTRY_GROUPS.EU!.includes(c)), ['IS', 'LI', 'NO']);
      for (const g of ['EU', 'EEA']) for (const c of ['CH', 'GB']) assert.ok(!COUNTRY_GROUPS[g]!.includes(c));
      for (const c of COUNTRY_GROUPS.EEA!) assert.deepEqual(expandCountry(c), [c], `${c} is an ISO code`);
      assert.equal(expandCountry('EL'), undefined);
    });
  });
});

describe('CillionNetworkPolicy', () => {
  const np = (spec: unknown) => ({ apiVersion: 'cillion.io/v1alpha1', kind: 'CillionNetworkPolicy', metadata: { name: 'billing-ingress' }, spec });
  const billing = { matchLabels: { app: 'billing' } };

  it('reads rules with defaults: ANY protocol, every port when toPorts is absent', () => {
    const v = ok(validateNetworkPolicy(np({
      endpointSelector: billing,
      ingress: [
        { fromEndpoints: [{ matchLabels: { app: 'billing', [CLUSTER_LABEL]: 'frankfurt' } }], toPorts: [{ port: 8443, protocol: 'TCP' }, { port: 53 }] },
        { fromEndpoints: [{}] },
      ],
    })));
    assert.deepEqual(v.spec.ingress?.[0]?.toPorts, [{ protocol: 'TCP', port: 8443 }, { protocol: 'ANY', port: 53 }]);
    assert.deepEqual(v.spec.ingress?.[1], { peers: [{ matchLabels: {}, matchExpressions: [] }], toPorts: [] });
    assert.equal(v.spec.egress, undefined);
  });

  it('reports every bad field by path in one pass', () => {
    const r = validateNetworkPolicy(np({
      endpointSelector: { matchLabels: { app: 7 } },
      ingress: [{ fromEndpoints: [{ matchLabel: {} }], toPorts: [{ port: 70000, protocol: 'icmp' }] }, 'x'],
      egress: [{ toEndpoints: [] }],
    }));
    assert.deepEqual(paths(r).sort(), [
      'spec.egress[0].toEndpoints',
      'spec.endpointSelector.matchLabels.app',
      'spec.ingress[0].fromEndpoints[0].matchLabel',
      'spec.ingress[0].toPorts[0].port',
      'spec.ingress[0].toPorts[0].protocol',
      'spec.ingress[1]',
    ]);
  });

  it('bounds rules, peers and ports so one resource cannot flood the maps', () => {
    const many = (n: number, f: (i: number) => unknown) => Array.from({ length: n }, (_, i) => f(i));
    const r = validateNetworkPolicy(np({
      endpointSelector: billing,
      ingress: many(MAX_RULES + 1, () => ({ fromEndpoints: many(MAX_PEERS + 1, () => ({})), toPorts: many(MAX_PORTS + 1, (i) => ({ port: i + 1 })) })),
    }));
    const ps = paths(r);
    assert.ok(ps.includes('spec.ingress'));
    assert.ok(ps.includes('spec.ingress[0].fromEndpoints'));
    assert.ok(ps.includes('spec.ingress[0].toPorts'));
  });

  it('never throws on garbage: every shape is a problem list', () => {
    const junk: unknown[] = [null, 1, 'x', [], {}, { ingress: null }, { endpointSelector: [], ingress: {} }, { endpointSelector: {}, ingress: [{ fromEndpoints: 'all' }] }, { endpointSelector: {}, ingress: [{ fromEndpoints: [null], toPorts: [null] }] }];
    for (const spec of junk) assert.equal(validateResource(np(spec)).ok, false, JSON.stringify(spec));
  });
});
