import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { KINDS, PLURALS } from '../../../resources/meta';
import { IDENTITY_KIND, IDENTITY_PLURAL, validateCillionIdentity } from '../../../resources/cillionidentity';
import { validateResource } from '../../../resources/resource';
import { exampleDocs } from './examples';

const CRDS = join(__dirname, '../../../deploy/crds');

interface Crd {
  spec: { group: string; scope: string; names: { kind: string; plural: string }; versions: { name: string; subresources?: { status?: object }; additionalPrinterColumns?: unknown[]; schema: { openAPIV3Schema: object } }[] };
}

const crds: Crd[] = readdirSync(CRDS)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => parse(readFileSync(join(CRDS, f), 'utf8')) as Crd);

// Kubernetes' own schema keywords are declared; strict mode still catches a misspelt standard
// keyword. `required` inside oneOf without its own properties is how structural schemas say "one of".
const ajv = new Ajv({ strict: true, strictRequired: false, allErrors: true, formats: { 'date-time': true, int32: true, int64: true } });
ajv.addVocabulary(['x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-validations']);
const validators = new Map(crds.map((c) => [c.spec.names.kind, ajv.compile(c.spec.versions[0]!.schema.openAPIV3Schema)]));

function crdAccepts(obj: { kind: string }): boolean {
  const v = validators.get(obj.kind);
  assert.ok(v, `no CRD for ${obj.kind}`);
  return v(obj) as boolean;
}

const wpp = (spec: unknown) => ({ apiVersion: 'cillion.io/v1alpha1', kind: 'WANPathPolicy', metadata: { name: 'p' }, spec });
const gf = (spec: unknown) => ({ apiVersion: 'cillion.io/v1alpha1', kind: 'Geofence', metadata: { name: 'g' }, spec });
const cas = (spec: unknown) => ({ apiVersion: 'cillion.io/v1alpha1', kind: 'ClusterAS', metadata: { name: 'c' }, spec });
const rc = (spec: unknown) => ({ apiVersion: 'cillion.io/v1alpha1', kind: 'RemoteCluster', metadata: { name: 'r' }, spec });
const np = (spec: unknown) => ({ apiVersion: 'cillion.io/v1alpha1', kind: 'CillionNetworkPolicy', metadata: { name: 'n' }, spec });
const st = (spec: unknown) => ({ apiVersion: 'cillion.io/v1alpha1', kind: 'SRv6Tenant', metadata: { name: 't' }, spec });
const spp = (spec: unknown) => ({ apiVersion: 'cillion.io/v1alpha1', kind: 'SRv6PathPolicy', metadata: { name: 's' }, spec });
const cid = (name: string, clusterId: unknown, securityLabels: unknown) => ({ apiVersion: 'cillion.io/v1alpha1', kind: 'CillionIdentity', metadata: { name }, clusterId, securityLabels });
const NS = 'k8s:io.kubernetes.pod.namespace=default';
const sel = { podSelector: { matchLabels: { app: 'a' } } };
const billing = { matchLabels: { app: 'billing' } };
const dest = [{ cluster: 'frankfurt' }];
const up = [{ interface: 1, underlay: '10.0.0.1:1' }];

// [case, object, CRD schema verdict, TypeScript verdict]. Where they differ the TypeScript
// validator is stricter (list membership, ranges, cross-field rules the CRD leaves to CEL).
const TABLE: [string, { kind: string }, boolean, boolean][] = [
  ['minimal policy', wpp({ workloadSelector: sel, destinations: dest }), true, true],
  ['policy by ISD-AS', wpp({ workloadSelector: {}, destinations: [{ isdAS: '65-2:0:20', prefixes: ['10.0.0.0/8'] }] }), true, true],
  ['policy without destinations', wpp({ workloadSelector: sel }), false, false],
  ['policy with empty destinations', wpp({ workloadSelector: sel, destinations: [] }), false, false],
  ['destination with cluster and isdAS', wpp({ workloadSelector: sel, destinations: [{ cluster: 'a', isdAS: '65-2:0:20', prefixes: ['10.0.0.0/8'] }] }), false, false],
  ['destination isdAS without prefixes', wpp({ workloadSelector: sel, destinations: [{ isdAS: '65-2:0:20' }] }), false, false],
  ['destination ISD-AS text', wpp({ workloadSelector: sel, destinations: [{ isdAS: 'frankfurt', prefixes: ['10.0.0.0/8'] }] }), false, false],
  ['prefix with host bits', wpp({ workloadSelector: sel, destinations: [{ isdAS: '65-2:0:20', prefixes: ['10.0.0.1/8'] }] }), true, false],
  ['unknown preference', wpp({ workloadSelector: sel, destinations: dest, preference: 'cost' }), false, false],
  ['negative weight', wpp({ workloadSelector: sel, destinations: dest, preference: 'weighted', weights: { latency: -1 } }), false, false],
  ['weights without weighted (CEL rule)', wpp({ workloadSelector: sel, destinations: dest, weights: { latency: 1 } }), true, false],
  ['17 paths', wpp({ workloadSelector: sel, destinations: dest, mode: 'multipath', paths: 17 }), false, false],
  ['3 paths in single mode (CEL rule)', wpp({ workloadSelector: sel, destinations: dest, paths: 3 }), true, false],
  ['bad selector operator', wpp({ workloadSelector: { podSelector: { matchExpressions: [{ key: 'a', operator: 'Has' }] } }, destinations: dest }), false, false],
  ['acl not a list', wpp({ workloadSelector: sel, destinations: dest, pathPolicy: { acl: '+' } }), false, false],
  ['option without weight', wpp({ workloadSelector: sel, destinations: dest, pathPolicy: { options: [{ policy: {} }] } }), false, false],
  ['bad nested option (schemas cannot recurse)', wpp({ workloadSelector: sel, destinations: dest, pathPolicy: { options: [{ weight: 1, policy: { acl: 3 } }] } }), true, false],
  ['remote rule without isd_as', wpp({ workloadSelector: sel, destinations: dest, pathPolicy: { remote_isd_ases: [{ reject: true }] } }), false, false],
  ['fence', gf({ workloadSelector: sel, allow: { countries: ['EU', 'CH'] }, mode: 'enforce' }), true, true],
  ['fence without mode', gf({ workloadSelector: sel, allow: { countries: ['CH'] } }), false, false],
  ['fence with lower-case country', gf({ workloadSelector: sel, allow: { countries: ['ch'] }, mode: 'audit' }), false, false],
  ['fence with unassigned country', gf({ workloadSelector: sel, allow: { countries: ['ZZ'] }, mode: 'audit' }), true, false],
  ['fence with ISD 0', gf({ workloadSelector: sel, deny: { isds: [0] }, mode: 'audit' }), false, false],
  ['cluster AS', cas({ isdAS: '64-2:0:20', clusterId: 1, uplinks: up, controlPlane: { topology: 'x.yaml' } }), true, true],
  ['cluster AS with two control planes', cas({ isdAS: '64-2:0:20', clusterId: 1, uplinks: up, controlPlane: { topology: 'x', daemon: 'a:1' } }), false, false],
  ['cluster AS with interface 0', cas({ isdAS: '64-2:0:20', clusterId: 1, uplinks: [{ interface: 0, underlay: '10.0.0.1:1' }], controlPlane: { topology: 'x' } }), false, false],
  ['cluster AS without cluster id', cas({ isdAS: '64-2:0:20', uplinks: up, controlPlane: { topology: 'x.yaml' } }), false, false],
  ['cluster AS with cluster id 0', cas({ isdAS: '64-2:0:20', clusterId: 0, uplinks: up, controlPlane: { topology: 'x.yaml' } }), false, false],
  ['cluster AS with cluster id 256', cas({ isdAS: '64-2:0:20', clusterId: 256, uplinks: up, controlPlane: { topology: 'x.yaml' } }), false, false],
  ['cluster AS with cluster id 255', cas({ isdAS: '64-2:0:20', clusterId: 255, uplinks: up, controlPlane: { topology: 'x.yaml' } }), true, true],
  ['cluster AS with wildcard ISD', cas({ isdAS: '0-2:0:20', clusterId: 1, uplinks: up, controlPlane: { topology: 'x' } }), false, false],
  ['remote cluster', rc({ isdAS: '65-2:0:20', prefixes: ['10.165.0.0/16'] }), true, true],
  ['remote cluster without prefixes', rc({ isdAS: '65-2:0:20', prefixes: [] }), false, false],
  ['network policy', np({ endpointSelector: billing, ingress: [{ fromEndpoints: [{ matchLabels: { app: 'billing', 'io.cillion.cluster': 'frankfurt' } }], toPorts: [{ port: 8443, protocol: 'TCP' }] }] }), true, true],
  ['network policy, egress, every port', np({ endpointSelector: {}, egress: [{ toEndpoints: [{}] }] }), true, true],
  ['network policy without rules', np({ endpointSelector: billing }), false, false],
  ['network policy without endpointSelector', np({ ingress: [{ fromEndpoints: [{}] }] }), false, false],
  ['network policy rule without peers', np({ endpointSelector: billing, ingress: [{ toPorts: [{ port: 1 }] }] }), false, false],
  ['network policy with empty peers', np({ endpointSelector: billing, ingress: [{ fromEndpoints: [] }] }), false, false],
  ['network policy port 0', np({ endpointSelector: billing, ingress: [{ fromEndpoints: [{}], toPorts: [{ port: 0 }] }] }), false, false],
  ['network policy protocol ICMP', np({ endpointSelector: billing, ingress: [{ fromEndpoints: [{}], toPorts: [{ port: 1, protocol: 'ICMP' }] }] }), false, false],
  ['network policy egress with fromEndpoints', np({ endpointSelector: billing, egress: [{ fromEndpoints: [{}] }] }), false, false],
  ['network policy repeated port', np({ endpointSelector: billing, ingress: [{ fromEndpoints: [{}], toPorts: [{ port: 1 }, { port: 1, protocol: 'ANY' }] }] }), true, false],
  ['cluster AS with an SRv6 catalogue', cas({ isdAS: '64-2:0:20', clusterId: 1, uplinks: up, controlPlane: { topology: 'x' }, srv6: { catalogue: 'srv6.yaml' } }), true, true],
  ['cluster AS with an empty SRv6 catalogue', cas({ isdAS: '64-2:0:20', clusterId: 1, uplinks: up, controlPlane: { topology: 'x' }, srv6: { catalogue: '' } }), false, false],
  ['SRv6 tenant', st({ vrf: 100, namespaces: ['voice'] }), true, true],
  ['SRv6 tenant with VRF 0', st({ vrf: 0, namespaces: ['voice'] }), false, false],
  ['SRv6 tenant with VRF 2^32', st({ vrf: 2 ** 32, namespaces: ['voice'] }), false, false],
  ['SRv6 tenant with VRF 2^32-1', st({ vrf: 2 ** 32 - 1, namespaces: ['voice'] }), true, true],
  ['SRv6 tenant without namespaces', st({ vrf: 100, namespaces: [] }), false, false],
  ['SRv6 tenant with an upper-case namespace', st({ vrf: 100, namespaces: ['Voice'] }), false, false],
  ['SRv6 tenant with a repeated namespace', st({ vrf: 100, namespaces: ['voice', 'voice'] }), true, false],
  ['SRv6 policy', spp({ workloadSelector: sel, destinations: dest, pathPolicy: { throughCountries: ['AT'] }, hmac: { keyId: 1 } }), true, true],
  ['SRv6 policy, multipath by hops', spp({ workloadSelector: sel, destinations: dest, preference: 'hops', mode: 'multipath', lists: 8 }), true, true],
  ['SRv6 policy with 9 lists', spp({ workloadSelector: sel, destinations: dest, mode: 'multipath', lists: 9 }), false, false],
  ['SRv6 policy with 2 lists in single mode (CEL rule)', spp({ workloadSelector: sel, destinations: dest, lists: 2 }), true, false],
  ['SRv6 policy by ISD-AS', spp({ workloadSelector: sel, destinations: [{ isdAS: '65-2:0:20', prefixes: ['10.0.0.0/8'] }] }), false, false],
  ['SRv6 policy with preference bandwidth', spp({ workloadSelector: sel, destinations: dest, preference: 'bandwidth' }), false, false],
  ['SRv6 policy through a group', spp({ workloadSelector: sel, destinations: dest, pathPolicy: { throughCountries: ['EU'] } }), true, false],
  ['SRv6 policy avoiding a group', spp({ workloadSelector: sel, destinations: dest, pathPolicy: { avoidCountries: ['EU'] } }), true, true],
  ['SRv6 policy through and avoiding AT', spp({ workloadSelector: sel, destinations: dest, pathPolicy: { throughCountries: ['AT'], avoidCountries: ['AT'] } }), true, false],
  ['SRv6 policy with lower-case country', spp({ workloadSelector: sel, destinations: dest, pathPolicy: { avoidCountries: ['at'] } }), false, false],
  ['SRv6 policy with 9 segments', spp({ workloadSelector: sel, destinations: dest, pathPolicy: { maxSegments: 9 } }), false, false],
  ['SRv6 policy with HMAC key 0', spp({ workloadSelector: sel, destinations: dest, hmac: { keyId: 0 } }), false, false],
  ['SRv6 policy with HMAC without key', spp({ workloadSelector: sel, destinations: dest, hmac: {} }), false, false],
  ['identity', cid('65792', 1, ['k8s:app=billing', NS]), true, true],
  ['identity without labels', cid('65792', 1, []), false, false],
  ['identity with cluster id 0', cid('256', 0, [NS]), false, false],
  ['identity label without k8s: prefix', cid('65792', 1, ['app=billing', NS]), false, false],
  ['identity with 65 labels', cid('65792', 1, [NS, ...Array.from({ length: 64 }, (_, i) => `k8s:l${i}=v`)]), false, false],
  ['identity of another cluster than its name (CEL rule)', cid('131328', 1, [NS]), true, false],
  ['identity name not a number (CEL rule)', cid('billing', 1, [NS]), true, false],
  ['identity with a reserved local number (CEL rule)', cid('65537', 1, [NS]), true, false],
  ['identity labels unsorted', cid('65792', 1, [NS, 'k8s:app=billing']), true, false],
  ['identity without namespace label', cid('65792', 1, ['k8s:app=billing']), true, false],
  ['identity with an unknown field (pruned by Kubernetes)', { ...cid('65792', 1, [NS]), spec: {} }, true, false],
];

/** The TypeScript validator of a kind: the declared resources', or the operator-written identity's. */
const validatorAccepts = (obj: { kind: string }): boolean => (obj.kind === IDENTITY_KIND ? validateCillionIdentity(obj).ok : validateResource(obj).ok);

describe('deploy/crds', () => {
  it('has one CRD per kind: cluster-scoped, status subresource (not for the operator-written identity), printer columns', () => {
    assert.deepEqual(crds.map((c) => c.spec.names.kind).sort(), [...KINDS, IDENTITY_KIND].sort());
    for (const c of crds) {
      const identity = c.spec.names.kind === IDENTITY_KIND;
      assert.equal(c.spec.group, 'cillion.io');
      assert.equal(c.spec.scope, 'Cluster');
      assert.equal(c.spec.names.plural, identity ? IDENTITY_PLURAL : PLURALS[c.spec.names.kind as keyof typeof PLURALS]);
      const v = c.spec.versions[0]!;
      assert.equal(v.name, 'v1alpha1');
      assert.deepEqual(v.subresources?.status, identity ? undefined : {});
      assert.ok((v.additionalPrinterColumns ?? []).length >= 2);
    }
  });

  it('accepts every example resource', () => {
    for (const d of [...exampleDocs('zurich'), ...exampleDocs('frankfurt')]) {
      const obj = d as { kind: string };
      assert.ok(crdAccepts(obj), `${obj.kind}: ${JSON.stringify(validators.get(obj.kind)?.errors)}`);
    }
  });

  it('accepts a status as the operator writes it', () => {
    const status = {
      observedGeneration: 2,
      conditions: [{ type: 'Valid', status: 'True', reason: 'Resolved', message: '', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 2 }],
      paths: [{ destination: '65-2:0:20', fingerprint: 'ab', hops: [{ isdAS: '64-2:0:20', ingress: 0, egress: 1 }], latencyMs: 4.5, expires: '2026-01-01T06:00:00Z' }],
    };
    assert.ok(crdAccepts({ ...wpp({ workloadSelector: sel, destinations: dest }), status } as { kind: string }));
    const lists = { observedGeneration: 1, conditions: status.conditions, segmentLists: [{ destination: 'frankfurt', tenant: 200, segments: ['fc00:0:2::1', 'fc00:0:201::200'], nodes: ['p-milan', 'fra-node-1'], countries: ['CH', 'IT', 'DE'], latencyMs: 10.6, hmacKeyId: 1 }] };
    assert.ok(crdAccepts({ ...spp({ workloadSelector: sel, destinations: dest }), status: lists } as { kind: string }), JSON.stringify(validators.get('SRv6PathPolicy')?.errors));
    const bad = { ...status, conditions: [{ ...status.conditions[0], status: 'Yes', reason: 'not camel' }] };
    assert.ok(!crdAccepts({ ...wpp({ workloadSelector: sel, destinations: dest }), status: bad } as { kind: string }));
  });

  for (const [name, obj, crd, ts] of TABLE) {
    it(`${name}: CRD ${crd ? 'accepts' : 'rejects'}, validator ${ts ? 'accepts' : 'rejects'}`, () => {
      assert.equal(crdAccepts(obj), crd, JSON.stringify(validators.get(obj.kind)?.errors));
      assert.equal(validatorAccepts(obj), ts);
    });
  }

  it('the validator is never laxer than the CRD', () => {
    for (const [name, , crd, ts] of TABLE) assert.ok(crd || !ts, name);
  });
});
