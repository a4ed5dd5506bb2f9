import assert from 'node:assert/strict';
import type { WorkloadLabels } from '../../../identity/workload_labels';
import { GeofenceMode as ProtoMode, GeofenceVerdict, ScionPath } from '../../../proto/gen/flow/flow';
import { GeofenceEngine, type FlowContext } from '../../../geofence/engine';
import { toFlowGeofence } from '../../../geofence/proto';
import { fence, PLACES } from './fixtures';

const workload = (ns: string, app: string): WorkloadLabels => ({ namespaceLabels: { 'kubernetes.io/metadata.name': ns }, podLabels: { app } });
const REPLICATION = workload('db', 'replication');
const ANALYTICS = workload('analytics', 'analytics');
const WEB = workload('web', 'frontend');

const selecting = (ns: string, app: string) => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
  podSelector: { matchLabels: { app } },
});

const euPlusCh = fence('eu-plus-ch', { workloadSelector: selecting('db', 'replication'), allow: { countries: ['EU', 'CH'] }, mode: 'enforce' });
const noUS = fence('no-us', { workloadSelector: selecting('db', 'replication'), deny: { countries: ['US'] }, mode: 'audit' });
const isdsOnly = fence('isds-64-65', { workloadSelector: selecting('analytics', 'analytics'), allow: { isds: [64, 65] }, mode: 'audit' });

type Stop = [isdAs: string, place: { latitude: number; longitude: number } | undefined, country: string];
const flowPath = (fingerprint: string, stops: Stop[], knownToControlPlane = true): ScionPath =>
  ScionPath.fromPartial({
    fingerprint,
    knownToControlPlane,
    hops: stops.map(([isdAs, place, country], i) => ({
      isdAs,
      ingressInterface: i === 0 ? 0 : 1,
      egressInterface: i === stops.length - 1 ? 0 : 2,
      geo: place && { ...place, address: '' },
      country,
    })),
  });

const EUROPE = flowPath('a'.repeat(64), [
  ['64-2:0:20', PLACES.zurich, 'CH'],
  ['65-2:0:10', PLACES.frankfurt, 'DE'],
  ['65-2:0:20', PLACES.frankfurt, 'DE'],
]);
const VIA_ASHBURN = flowPath('b'.repeat(64), [
  ['64-2:0:20', PLACES.zurich, 'CH'],
  ['64-2:0:10', PLACES.zurich, 'CH'],
  ['66-2:0:10', PLACES.ashburn, 'US'],
  ['65-2:0:11', PLACES.amsterdam, 'NL'],
  ['65-2:0:20', PLACES.frankfurt, 'DE'],
]);
/** A Paris hop that declared no position: fine for AS rules, unknown for country rules. */
const UNLOCATED = flowPath('c'.repeat(64), [
  ['64-2:0:20', PLACES.zurich, 'CH'],
  ['65-2:0:12', undefined, ''],
  ['65-2:0:20', PLACES.frankfurt, 'DE'],
]);

const ctx = (source: WorkloadLabels | undefined, destination: WorkloadLabels | undefined, path: ScionPath | undefined): FlowContext => ({ source, destination, path });

function engineWith(...fences: ReturnType<typeof fence>[]): GeofenceEngine {
  const e = new GeofenceEngine();
  for (const f of fences) e.upsert(f);
  return e;
}

describe('GeofenceEngine', () => {
  describe('which fences apply', () => {
    const e = engineWith(euPlusCh, noUS, isdsOnly);

    it('selects fences by the source or the destination workload, enforcing first, then by name', () => {
      const names = (src?: WorkloadLabels, dst?: WorkloadLabels) => e.fencesFor(src, dst).map((f) => f.metadata.name);
      assert.deepEqual(names(REPLICATION, WEB), ['eu-plus-ch', 'no-us']);
      assert.deepEqual(names(WEB, REPLICATION), ['eu-plus-ch', 'no-us']);
      assert.deepEqual(names(ANALYTICS, REPLICATION), ['eu-plus-ch', 'isds-64-65', 'no-us']);
      assert.deepEqual(names(WEB, undefined), []);
      assert.deepEqual(names(undefined, undefined), []);
      assert.deepEqual(e.list().map((f) => f.metadata.name), ['eu-plus-ch', 'isds-64-65', 'no-us']);
    });

    it('gives no verdict to a flow no fence selects', () => {
      assert.equal(e.check(ctx(WEB, WEB, VIA_ASHBURN)), undefined);
    });
  });

  describe('combining fences', () => {
    const e = engineWith(euPlusCh, noUS, isdsOnly);

    it('records the violating fence when any fence is violated', () => {
      const r = e.check(ctx(REPLICATION, WEB, VIA_ASHBURN))!;
      assert.equal(r.decision.name, 'eu-plus-ch');
      assert.equal(r.decision.verdict, 'VIOLATION');
      assert.equal(r.decision.reason, 'hop 2 (66-2:0:10) is in US, outside allowed EU, CH');
      assert.deepEqual(
        r.fences.map((f) => [f.name, f.verdict]),
        [
          ['eu-plus-ch', 'VIOLATION'],
          ['no-us', 'VIOLATION'],
        ],
      );
    });

    it('makes the flow UNVERIFIED when no fence is violated but one cannot verify', () => {
      const r = e.check(ctx(ANALYTICS, REPLICATION, UNLOCATED))!;
      assert.deepEqual(
        r.fences.map((f) => [f.name, f.verdict]),
        [
          ['eu-plus-ch', 'UNVERIFIED'],
          ['isds-64-65', 'COMPLIANT'],
          ['no-us', 'UNVERIFIED'],
        ],
      );
      assert.equal(r.decision.name, 'eu-plus-ch');
      assert.equal(r.decision.reason, 'hop 1 (65-2:0:12) declares no location, so its country is unknown');
    });

    it('is COMPLIANT only when every fence is, recording the first', () => {
      const r = e.check(ctx(ANALYTICS, REPLICATION, EUROPE))!;
      assert.deepEqual(
        r.fences.map((f) => f.verdict),
        ['COMPLIANT', 'COMPLIANT', 'COMPLIANT'],
      );
      assert.equal(r.decision.name, 'eu-plus-ch');
      assert.equal(r.decision.mode, 'enforce');
    });

    it('prefers the violation of an enforcing fence to that of an audit fence, whatever their names', () => {
      const audit = fence('a-audit', { workloadSelector: selecting('db', 'replication'), deny: { isds: [66] }, mode: 'audit' });
      const enforce = fence('z-enforce', { workloadSelector: selecting('db', 'replication'), deny: { countries: ['US'] }, mode: 'enforce' });
      const r = engineWith(audit, enforce).check(ctx(REPLICATION, WEB, VIA_ASHBURN))!;
      assert.deepEqual(
        r.fences.map((f) => [f.name, f.verdict]),
        [
          ['z-enforce', 'VIOLATION'],
          ['a-audit', 'VIOLATION'],
        ],
      );
      assert.equal(r.decision.name, 'z-enforce');
    });

    it('makes flows with no path, an unknown path or no hops UNVERIFIED under every fence', () => {
      const cases: [ScionPath | undefined, string][] = [
        [undefined, 'the flow carries no SCION path'],
        [{ ...EUROPE, knownToControlPlane: false }, 'the path is not known to the control plane: its hop fields match no segment it handed out'],
        [flowPath('d'.repeat(64), []), 'the path has no hops to check'],
      ];
      for (const [path, reason] of cases) {
        const r = e.check(ctx(REPLICATION, undefined, path))!;
        assert.deepEqual(
          r.fences.map((f) => [f.name, f.verdict, f.reason]),
          [
            ['eu-plus-ch', 'UNVERIFIED', reason],
            ['no-us', 'UNVERIFIED', reason],
          ],
        );
      }
      // A path the judge could not check at all is UNVERIFIED whatever it says about itself.
      const unchecked: [FlowContext['unchecked'], string][] = [
        ['noHopFields', 'the flow carries no hop fields'],
        ['malformed', "the flow's path bytes or ISD-ASes do not decode"],
        ['noControlPlane', 'no control plane to check the hop fields against (the relay runs without --topology or --daemon)'],
      ];
      for (const [why, reason] of unchecked) {
        const r = e.check({ ...ctx(REPLICATION, undefined, EUROPE), unchecked: why })!;
        assert.deepEqual(
          r.fences.map((f) => [f.name, f.verdict, f.reason]),
          [
            ['eu-plus-ch', 'UNVERIFIED', reason],
            ['no-us', 'UNVERIFIED', reason],
          ],
        );
      }
    });

    it('converts to the flow.Geofence message', () => {
      const r = e.check(ctx(REPLICATION, WEB, VIA_ASHBURN))!;
      assert.deepEqual(toFlowGeofence(r.decision), {
        verdict: GeofenceVerdict.GEOFENCE_VIOLATION,
        name: 'eu-plus-ch',
        namespace: '',
        mode: ProtoMode.GEOFENCE_ENFORCE,
        reason: 'hop 2 (66-2:0:10) is in US, outside allowed EU, CH',
        offendingHop: 2,
        offendingIsdAs: '66-2:0:10',
        offendingCountry: 'US',
        offendingSid: '',
      });
      const ok = toFlowGeofence(e.check(ctx(ANALYTICS, WEB, EUROPE))!.decision);
      assert.equal(ok.verdict, GeofenceVerdict.GEOFENCE_COMPLIANT);
      assert.equal(ok.mode, ProtoMode.GEOFENCE_AUDIT);
      assert.equal(ok.offendingHop, undefined);
      assert.equal(ok.offendingIsdAs, '');
    });
  });

  describe('caching', () => {
    it('evaluates each (path, fence) once and then answers with the same object', () => {
      const e = engineWith(euPlusCh, noUS);
      const first = e.check(ctx(REPLICATION, WEB, VIA_ASHBURN));
      assert.equal(e.stats().evaluations, 2);
      for (let i = 0; i < 100; i++) assert.equal(e.check(ctx(REPLICATION, WEB, VIA_ASHBURN)), first);
      // Other workload objects and a copy of the path with the same fingerprint: still no new evaluation.
      assert.equal(e.check(ctx(WEB, workload('db', 'replication'), { ...VIA_ASHBURN })), first);
      assert.deepEqual(e.stats(), { paths: 1, evaluations: 2 });
    });

    it('re-evaluates only the fence that changed, and keeps verdicts over an unchanged resync', () => {
      const e = engineWith(euPlusCh, noUS);
      assert.equal(e.check(ctx(REPLICATION, WEB, VIA_ASHBURN))!.decision.verdict, 'VIOLATION');
      assert.equal(e.upsert(fence('eu-plus-ch', { workloadSelector: selecting('db', 'replication'), allow: { countries: ['EU', 'CH'] } })), false);
      e.check(ctx(REPLICATION, WEB, VIA_ASHBURN));
      assert.equal(e.stats().evaluations, 2);

      const widened = fence('eu-plus-ch', { workloadSelector: selecting('db', 'replication'), allow: { countries: ['EU', 'CH', 'US'] } });
      const narrowed = fence('no-us', { workloadSelector: selecting('db', 'replication'), deny: { countries: ['SG'] }, mode: 'audit' });
      assert.equal(e.upsert(widened), true);
      let r = e.check(ctx(REPLICATION, WEB, VIA_ASHBURN))!;
      assert.equal(e.stats().evaluations, 3);
      assert.deepEqual(
        r.fences.map((f) => f.verdict),
        ['COMPLIANT', 'VIOLATION'],
      );
      assert.equal(e.upsert(narrowed), true);
      r = e.check(ctx(REPLICATION, WEB, VIA_ASHBURN))!;
      assert.equal(e.stats().evaluations, 4);
      assert.equal(r.decision.verdict, 'COMPLIANT');
    });

    it('follows a fence that starts or stops selecting a workload, and one removed and added again', () => {
      const e = engineWith(euPlusCh);
      assert.equal(e.check(ctx(ANALYTICS, WEB, VIA_ASHBURN)), undefined);
      e.upsert(fence('eu-plus-ch', { workloadSelector: selecting('analytics', 'analytics'), allow: { countries: ['EU', 'CH'] } }));
      assert.equal(e.check(ctx(ANALYTICS, WEB, VIA_ASHBURN))!.decision.verdict, 'VIOLATION');
      assert.equal(e.check(ctx(REPLICATION, WEB, VIA_ASHBURN)), undefined);
      assert.equal(e.remove('eu-plus-ch'), true);
      assert.equal(e.remove('eu-plus-ch'), false);
      assert.equal(e.check(ctx(ANALYTICS, WEB, VIA_ASHBURN)), undefined);
      // Same name, different rules: the verdict cached for the old fence must not come back.
      e.upsert(fence('eu-plus-ch', { workloadSelector: selecting('analytics', 'analytics'), allow: { countries: ['US', 'EU', 'CH'] } }));
      assert.equal(e.check(ctx(ANALYTICS, WEB, VIA_ASHBURN))!.decision.verdict, 'COMPLIANT');
    });

    it('keeps at most maxPaths paths, least recently used out first, and forgets all on invalidatePaths', () => {
      const e = new GeofenceEngine({ maxPaths: 2 });
      e.upsert(euPlusCh);
      for (const p of [EUROPE, VIA_ASHBURN, EUROPE, UNLOCATED]) e.check(ctx(REPLICATION, WEB, p));
      assert.deepEqual(e.stats(), { paths: 2, evaluations: 3 });
      e.check(ctx(REPLICATION, WEB, EUROPE));
      assert.equal(e.stats().evaluations, 3, 'EUROPE was used recently and stayed');
      e.check(ctx(REPLICATION, WEB, VIA_ASHBURN));
      assert.equal(e.stats().evaluations, 4, 'VIA_ASHBURN had been evicted');
      e.invalidatePaths();
      assert.equal(e.stats().paths, 0);
      e.check(ctx(REPLICATION, WEB, VIA_ASHBURN));
      assert.equal(e.stats().evaluations, 5);
    });

    it('judges the fingerprint-less empty path afresh each time', () => {
      const e = engineWith(euPlusCh);
      const local = flowPath('', [['64-2:0:20', PLACES.zurich, 'CH']]);
      assert.equal(e.check(ctx(REPLICATION, WEB, local))!.decision.reason, 'the only hop is inside the fence');
      e.check(ctx(REPLICATION, WEB, local));
      assert.deepEqual(e.stats(), { paths: 0, evaluations: 2 });
    });
  });
});
