// FlowJudge: the path a flow is judged on is the one its hop fields give, and the engine's
// verdict cache is keyed by the fingerprint the judge computed, never the one sent.
import assert from 'node:assert/strict';
import { FlowJudge } from '../../../geofence/judge';
import { flowLabels, workloadLabels } from '../../../identity/workload_labels';
import { EmbeddedAuthority } from '../../../paths/embedded';
import { Flow, GeofenceVerdict, type ScionPath } from '../../../proto/gen/flow/flow';
import { europeAndUs, exampleControlPlane, honestPath } from '../paths/fixture';
import { fence } from './fixtures';

const control = exampleControlPlane();
const { europe, viaUs } = europeAndUs(control);
const EUROPE = honestPath(europe);
const VIA_US = honestPath(viaUs);

const flow = (scionPath: ScionPath, namespace = 'db', namespaceLabels: Record<string, string> = {}): Flow =>
  Flow.fromPartial({ source: { namespace, labels: flowLabels(namespace, workloadLabels(namespace, { app: 'x' }, namespaceLabels)) }, scionPath });

function judgeWith(paths: boolean): FlowJudge {
  const j = new FlowJudge(undefined, paths ? { paths: new EmbeddedAuthority(control) } : {});
  j.engine.upsert(fence('eu', { workloadSelector: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'db' } } }, allow: { countries: ['EU', 'CH'] } }));
  j.engine.upsert(fence('by-namespace-label', { workloadSelector: { namespaceSelector: { matchLabels: { tier: 'gold' } } }, deny: { countries: ['US'] }, mode: 'audit' }));
  return j;
}

describe('geofence/judge', () => {
  it('caches verdicts by the fingerprint it computed: a forged one neither borrows nor poisons a verdict', () => {
    const j = judgeWith(true);
    const poison = flow({ ...EUROPE, raw: VIA_US.raw });
    assert.deepEqual(j.judge(poison), { fingerprintMismatch: true });
    assert.equal(poison.geofence?.verdict, GeofenceVerdict.GEOFENCE_VIOLATION);
    assert.equal(poison.scionPath?.fingerprint, viaUs.fingerprint);
    const honest = flow(EUROPE);
    assert.deepEqual(j.judge(honest), { fingerprintMismatch: false });
    assert.equal(honest.geofence?.verdict, GeofenceVerdict.GEOFENCE_COMPLIANT);
    const disguised = flow({ ...EUROPE, raw: VIA_US.raw });
    j.judge(disguised);
    assert.equal(disguised.geofence?.verdict, GeofenceVerdict.GEOFENCE_VIOLATION);
    // Two paths seen, each evaluated once per fence that applies (one here).
    assert.deepEqual(j.engine.stats(), { paths: 2, evaluations: 2 });
  });

  it('selects fences by the namespace labels the flow carries, as the operator does', () => {
    const j = judgeWith(true);
    const gold = flow(VIA_US, 'vault', { tier: 'gold' });
    j.judge(gold);
    assert.deepEqual([gold.geofence?.name, gold.geofence?.verdict], ['by-namespace-label', GeofenceVerdict.GEOFENCE_VIOLATION]);
    const plain = flow(VIA_US, 'vault');
    j.judge(plain);
    assert.equal(plain.geofence, undefined);
  });

  it('without a control plane gives fenced flows UNVERIFIED and keeps nothing the collector said about the path', () => {
    const j = judgeWith(false);
    const f = flow(EUROPE);
    assert.deepEqual(j.judge(f), { fingerprintMismatch: true });
    assert.equal(f.geofence?.verdict, GeofenceVerdict.GEOFENCE_UNVERIFIED);
    assert.match(f.geofence?.reason ?? '', /no control plane/);
    assert.equal(f.scionPath?.knownToControlPlane, false);
    assert.equal(f.scionPath?.fingerprint, '');
    assert.ok(f.scionPath?.hops.every((h) => h.geo === undefined && h.country === ''));
    assert.deepEqual(f.scionPath?.raw, EUROPE.raw, 'the evidence stays');
  });
});
