// buildDesired's steps on their own: the fence groups a path policy selects for, the
// control plane asked once per AS pair, and the enforcing fences' receiving side.
import assert from 'node:assert/strict';
import { cachedPaths, enforcedIngress, fenceGroups, identitiesOf } from '../../../../operator/datapath/desired';
import type { ControlPlanePath } from '../../../../controlplane/combinator';
import type { PathService } from '../../../../controlplane/pathservice';
import type { Geofence } from '../../../../resources/geofence';
import type { WANPathPolicy } from '../../../../resources/wanpathpolicy';
import type { WorkloadSelector } from '../../../../resources/selector';
import type { Workload } from '../../../../identity/workload';
import { IdentityBook } from '../../../../operator/datapath/identities';

const selector = (podLabels: Record<string, string>): WorkloadSelector => ({
  namespaceSelector: { matchLabels: {}, matchExpressions: [] },
  podSelector: { matchLabels: podLabels, matchExpressions: [] },
});

const pod = (name: string, labels: Record<string, string>, ip: string): Workload => ({ name, namespace: 'shop', labels, namespaceLabels: {}, ip, node: 'n1' });

const fence = (name: string, app: string, mode: 'audit' | 'enforce'): Geofence =>
  ({ metadata: { name }, spec: { workloadSelector: selector({ app }), allow: {}, deny: {}, mode } }) as unknown as Geofence;

const policyFor = (podLabels: Record<string, string>): WANPathPolicy => ({ metadata: { name: 'p' }, spec: { workloadSelector: selector(podLabels) } }) as unknown as WANPathPolicy;

const PODS = [pod('a', { app: 'db', tier: 'x' }, '10.0.0.1'), pod('b', { app: 'web', tier: 'x' }, '10.0.0.2'), pod('c', { app: 'db', tier: 'x' }, '10.0.0.3')];
const identityOf = identitiesOf({ identities: new Map(PODS.map((w, i) => [IdentityBook.key(w), 100 + i])) });

describe('buildDesired steps', () => {
  it('fenceGroups: workloads under the same fences share a group; no workload selects for the policy\'s labels', () => {
    const fences = [fence('db-fence', 'db', 'enforce')];
    const groups = fenceGroups(policyFor({ tier: 'x' }), { workloads: PODS, fences }, identityOf);
    assert.deepEqual([...groups].map(([k, g]) => [k, g.fences.map((f) => f.metadata.name), [...g.identities]]), [
      ['db-fence', ['db-fence'], [100, 102]],
      ['', [], [101]],
    ]);
    const none = fenceGroups(policyFor({ app: 'db' }), { workloads: [], fences }, identityOf);
    assert.deepEqual([...none].map(([k, g]) => [k, g.fences.map((f) => f.metadata.name), g.identities.size]), [['', ['db-fence'], 0]]);
  });

  it('identitiesOf: a workload without an identity is an error naming it', () => {
    assert.throws(() => identityOf(pod('z', {}, '10.0.0.9')), /no identity for/);
  });

  it('cachedPaths: the control plane is asked once per AS pair', async () => {
    const asked: string[] = [];
    const control = { paths: async (src: bigint, dst: bigint) => (asked.push(`${src}>${dst}`), [] as ControlPlanePath[]) } as unknown as PathService;
    const pathsTo = cachedPaths(control);
    await Promise.all([pathsTo(1n, 2n), pathsTo(1n, 2n), pathsTo(2n, 1n)]);
    assert.deepEqual(asked, ['1>2', '2>1']);
  });

  it('enforcedIngress: each identity under an enforcing fence once; audit fences enforce nothing', async () => {
    const fences = [fence('db-fence', 'db', 'enforce'), fence('web-audit', 'web', 'audit')];
    const twin = pod('a2', { app: 'db' }, '10.0.0.4');
    const ids = identitiesOf({ identities: new Map([...PODS.map((w, i) => [IdentityBook.key(w), 100 + i] as [string, number]), [IdentityBook.key(twin), 100]]) });
    const none = async (): Promise<ControlPlanePath[]> => [];
    const out = await enforcedIngress({ workloads: [...PODS, twin], fences, remotes: [], cluster: { spec: { isdAS: 1n } } as never }, ids, none);
    assert.deepEqual(out, { enforced: [[100, 1], [102, 1]], allow: [] });
  });
});
