import assert from 'node:assert/strict';
import type { Problem, Validation } from '../../../resources/problems';
import { validateSRv6PathPolicy } from '../../../resources/srv6pathpolicy';
import { resolveTenants, validateSRv6Tenant, type SRv6Tenant } from '../../../resources/srv6tenant';

function ok<T>(r: Validation<T>): T {
  if (!r.ok) assert.fail(`unexpected problems: ${JSON.stringify(r.problems)}`);
  return r.value;
}

function problems<T>(r: Validation<T>): Problem[] {
  if (r.ok) assert.fail('expected problems, got a valid resource');
  return r.problems;
}

const tenantDoc = (name: string, spec: unknown, metadata: Record<string, unknown> = {}) => ({ apiVersion: 'cillion.io/v1alpha1', kind: 'SRv6Tenant', metadata: { name, ...metadata }, spec });
const policyDoc = (spec: unknown) => ({ apiVersion: 'cillion.io/v1alpha1', kind: 'SRv6PathPolicy', metadata: { name: 'backup' }, spec });
const base = { workloadSelector: { podSelector: { matchLabels: { app: 'backup' } } }, destinations: [{ cluster: 'frankfurt' }] };
const tenant = (name: string, vrf: number, namespaces: string[]): SRv6Tenant => ok(validateSRv6Tenant(tenantDoc(name, { vrf, namespaces })));

describe('SRv6 resources', () => {
  describe('SRv6Tenant', () => {
    it('reads the VRF and its namespaces', () => {
      assert.deepEqual(tenant('voice', 100, ['voice', 'voice-lab']).spec, { vrf: 100, namespaces: ['voice', 'voice-lab'] });
    });

    it('names every bad field by its path', () => {
      const ps = problems(validateSRv6Tenant(tenantDoc('t', { vrf: 0, namespaces: ['ok', 'Not_OK', 'ok'], table: 1 })));
      assert.deepEqual(ps.map((p) => p.path).sort(), ['spec.namespaces[1]', 'spec.namespaces[2]', 'spec.table', 'spec.vrf']);
    });

    it('is cluster-scoped: a namespace in metadata is a problem', () => {
      const ps = problems(validateSRv6Tenant(tenantDoc('t', { vrf: 1, namespaces: ['a'] }, { namespace: 'voice' })));
      assert.deepEqual(ps.map((p) => p.path), ['metadata.namespace']);
    });

    it('leaves out, by name, the later tenant that repeats a namespace or a VRF', () => {
      const { active, conflicts } = resolveTenants([
        tenant('voice', 100, ['voice']),
        tenant('archive', 200, ['archive']),
        tenant('zz-late', 300, ['lab', 'voice']),
        tenant('b-dup-vrf', 200, ['other']),
      ]);
      assert.deepEqual(active.map((t) => t.metadata.name), ['archive', 'voice']);
      assert.deepEqual(conflicts, [
        { tenant: 'b-dup-vrf', reason: 'VrfInUse', message: 'VRF 200 belongs to SRv6Tenant archive' },
        { tenant: 'zz-late', reason: 'NamespaceInOtherTenant', message: 'namespace voice belongs to SRv6Tenant voice' },
      ]);
    });
  });

  describe('SRv6PathPolicy', () => {
    it('fills defaults: latency, one list, every constraint empty, 8 segments at most', () => {
      const p = ok(validateSRv6PathPolicy(policyDoc(base)));
      assert.deepEqual(p.spec.pathPolicy, { throughCountries: [], avoidCountries: [], throughNodes: [], avoidNodes: [], operators: [], maxSegments: 8 });
      assert.equal(p.spec.preference, 'latency');
      assert.equal(p.spec.mode, 'single');
      assert.equal(p.spec.lists, 1);
      assert.equal(p.spec.hmac, undefined);
    });

    it('expands a country group to avoid and keeps the HMAC key', () => {
      const p = ok(validateSRv6PathPolicy(policyDoc({ ...base, pathPolicy: { throughCountries: ['CH'], avoidCountries: ['EU'] }, hmac: { keyId: 7 } })));
      assert.ok(p.spec.pathPolicy.avoidCountries.includes('IT') && p.spec.pathPolicy.avoidCountries.includes('DE'));
      assert.ok(problems(validateSRv6PathPolicy(policyDoc({ ...base, pathPolicy: { throughCountries: ['AT'], avoidCountries: ['EU'] } }))).some((x) => x.message === 'country AT is both to cross and to avoid'));
      assert.deepEqual(p.spec.hmac, { keyId: 7 });
    });

    it('multipath: 2 lists by default, 8 at most', () => {
      assert.equal(ok(validateSRv6PathPolicy(policyDoc({ ...base, mode: 'multipath' }))).spec.lists, 2);
      assert.equal(ok(validateSRv6PathPolicy(policyDoc({ ...base, mode: 'multipath', lists: 8 }))).spec.lists, 8);
      assert.deepEqual(problems(validateSRv6PathPolicy(policyDoc({ ...base, mode: 'multipath', lists: 9 }))).map((p) => p.path), ['spec.lists']);
      assert.deepEqual(problems(validateSRv6PathPolicy(policyDoc({ ...base, lists: 2 }))).map((p) => p.path), ['spec.lists']);
    });

    it('reports every bad field in one pass', () => {
      const ps = problems(validateSRv6PathPolicy(policyDoc({
        workloadSelector: {}, destinations: [{ cluster: 'frankfurt' }, { cluster: 'frankfurt' }, { isdAS: '1-1' }],
        pathPolicy: { throughCountries: ['EU'], throughNodes: [''], maxSegments: 9, via: [] }, preference: 'bandwidth', hmac: { keyId: -1 },
      })));
      assert.deepEqual(ps.map((p) => p.path).sort(), [
        'spec.destinations[1]', 'spec.destinations[2].cluster', 'spec.destinations[2].isdAS', 'spec.hmac.keyId',
        'spec.pathPolicy.maxSegments', 'spec.pathPolicy.throughCountries[0]', 'spec.pathPolicy.throughNodes[0]', 'spec.pathPolicy.via', 'spec.preference',
      ]);
    });
  });
});
