// Geofences over SRv6 paths, with the demo's SID catalogue: each segment judged by the
// country of the node the catalogue places it at, ISD/AS rules not applying, and the
// verdict saying what it rests on.
import assert from 'node:assert/strict';
import { FlowJudge } from '../../../geofence/judge';
import { flowLabels, workloadLabels } from '../../../identity/workload_labels';
import { catalogueAuthority } from '../../../paths/srv6_authority';
import { Flow, GeofenceVerdict, ScionObservationPoint, WanPathType, type Srv6Path } from '../../../proto/gen/flow/flow';
import { BACKUP, KEY_1, SIDS, VOIP, sentSrv6, srhOf } from '../paths/srv6_fixture';
import { fence } from './fixtures';

const DACH = fence('dach-only', { allow: { countries: ['CH', 'DE', 'AT'] }, mode: 'audit' });
const ISD_ONLY = fence('isd-64', { allow: { isds: [64] } });
const ARCHIVE = flowLabels('archive', workloadLabels('archive', { app: 'backup' }, {}));

function judged(srv6Path: Srv6Path | undefined, over: Partial<Flow> = {}, fences = [DACH], withCatalogue = true): Flow {
  const judge = new FlowJudge(undefined, { srv6: withCatalogue ? catalogueAuthority(SIDS, 'demo') : undefined });
  for (const f of fences) judge.engine.upsert(f);
  const f = Flow.fromPartial({
    source: { namespace: 'archive', podName: 'backup-0', labels: ARCHIVE, clusterName: 'zurich' },
    srv6Path,
    pathType: WanPathType.WAN_PATH_SRV6,
    scionObservationPoint: ScionObservationPoint.SCION_EDGE_ENCAP,
    ...over,
  });
  judge.judge(f);
  return f;
}

describe('geofence over SRv6 paths', () => {
  it('names Milan when the backup list leaves a DACH fence, and says what the verdict rests on', () => {
    const f = judged(sentSrv6(srhOf(BACKUP, { hmac: KEY_1 })));
    const g = f.geofence!;
    assert.equal(g.verdict, GeofenceVerdict.GEOFENCE_VIOLATION);
    assert.equal(g.name, 'dach-only');
    assert.equal(g.offendingHop, 1);
    assert.equal(g.offendingSid, 'fc00:0:2::1');
    assert.equal(g.offendingCountry, 'IT');
    assert.equal(g.offendingIsdAs, '');
    assert.match(g.reason, /^segment 1 fc00:0:2::1 \(p-milan\) is in IT, outside allowed AT, CH, DE/);
    assert.match(g.reason, /as the encapsulating edge wrote it, not a per-hop proof; its HMAC \(key 1\) verifies/);
    assert.equal(f.srv6Path?.hops[1].node, 'p-milan');
    assert.equal(f.pathType, WanPathType.WAN_PATH_SRV6);
  });

  it('passes the voip list, naming where it was seen', () => {
    const g = judged(sentSrv6(srhOf(VOIP)), { scionObservationPoint: ScionObservationPoint.SCION_ROUTER_FORWARD }).geofence!;
    assert.equal(g.verdict, GeofenceVerdict.GEOFENCE_COMPLIANT);
    assert.equal(g.reason, "all 3 segments are inside the fence (by the SID catalogue's geo for the segment list as a transit node we run saw it, not a per-hop proof; no HMAC)");
    assert.equal(g.offendingSid, '');
  });

  it('lets no fence of ISD and AS rules only judge an SRv6 path', () => {
    const g = judged(sentSrv6(srhOf(VOIP)), {}, [ISD_ONLY]).geofence!;
    assert.equal(g.verdict, GeofenceVerdict.GEOFENCE_UNVERIFIED);
    assert.match(g.reason, /only ISD and AS rules, which do not apply to SRv6 segments/);
    // With country rules beside them, the country rules judge and the AS rules are left out.
    const both = fence('both', { allow: { isds: [64], countries: ['CH', 'DE'] } });
    assert.equal(judged(sentSrv6(srhOf(VOIP)), {}, [both]).geofence?.verdict, GeofenceVerdict.GEOFENCE_COMPLIANT);
  });

  it('is UNVERIFIED at a segment the catalogue does not know, unless another segment provably leaves', () => {
    const unknown = judged(sentSrv6(srhOf(['fc00:0:1::1', 'fc00:99::1', 'fc00:0:201::200']))).geofence!;
    assert.equal(unknown.verdict, GeofenceVerdict.GEOFENCE_UNVERIFIED);
    assert.match(unknown.reason, /^segment 1 fc00:99::1 \(not in the SID catalogue\) is a SID no catalogue node owns, so its country is unknown/);
    const both = judged(sentSrv6(srhOf(['fc00:0:1::1', 'fc00:99::1', 'fc00:0:2::1', 'fc00:0:201::200']))).geofence!;
    assert.equal(both.verdict, GeofenceVerdict.GEOFENCE_VIOLATION);
    assert.equal(both.offendingSid, 'fc00:0:2::1');
  });

  it('calls no path compliant whose HMAC does not verify, and keeps a violation a violation', () => {
    const signedElsewhere = sentSrv6(srhOf(VOIP, { hmac: KEY_1, source: 'fc00:0:102::1' }));
    const g = judged(signedElsewhere).geofence!;
    assert.equal(g.verdict, GeofenceVerdict.GEOFENCE_UNVERIFIED);
    assert.match(g.reason, /HMAC \(key 1\) does not verify/);
    const v = judged(sentSrv6(srhOf(BACKUP, { hmac: KEY_1, source: 'fc00:0:102::1' }))).geofence!;
    assert.equal(v.verdict, GeofenceVerdict.GEOFENCE_VIOLATION);
    // An unknown key is not checked, which the verdict says.
    const noKey = judged(sentSrv6(srhOf(VOIP, { hmac: { ...KEY_1, keyId: 9 } }))).geofence!;
    assert.equal(noKey.verdict, GeofenceVerdict.GEOFENCE_COMPLIANT);
    assert.match(noKey.reason, /HMAC key 9 is unknown to this relay, not checked/);
  });

  it('gives UNVERIFIED with the reason for a missing or malformed SRH and without a catalogue', () => {
    const none = judged(sentSrv6(new Uint8Array(0))).geofence!;
    assert.equal(none.verdict, GeofenceVerdict.GEOFENCE_UNVERIFIED);
    assert.match(none.reason, /carries no Segment Routing Header/);
    const cut = judged(sentSrv6(srhOf(VOIP).subarray(0, 30))).geofence!;
    assert.equal(cut.reason, "the flow's Segment Routing Header does not decode (SRH_TRUNCATED)");
    const blind = judged(sentSrv6(srhOf(VOIP)), {}, [DACH], false).geofence!;
    assert.equal(blind.verdict, GeofenceVerdict.GEOFENCE_UNVERIFIED);
    assert.match(blind.reason, /no SID catalogue/);
  });

  it('takes the path type from the evidence, not the claim, and never passes a flow with two paths', () => {
    const scionPath = { srcIa: '1-ff00:0:110', dstIa: '1-ff00:0:111', raw: Buffer.alloc(0) };
    const claimNoPath = judged(undefined, { pathType: WanPathType.WAN_PATH_SRV6 });
    assert.equal(claimNoPath.pathType, WanPathType.WAN_PATH_TYPE_UNKNOWN);
    assert.equal(claimNoPath.geofence?.verdict, GeofenceVerdict.GEOFENCE_UNVERIFIED);
    assert.equal(judged(sentSrv6(srhOf(VOIP)), { pathType: WanPathType.WAN_PATH_SCION }).pathType, WanPathType.WAN_PATH_SRV6);
    const two = judged(sentSrv6(srhOf(VOIP)), { scionPath: scionPath as Flow['scionPath'], pathType: WanPathType.WAN_PATH_SCION });
    assert.equal(two.pathType, WanPathType.WAN_PATH_SCION);
    assert.equal(two.geofence?.verdict, GeofenceVerdict.GEOFENCE_UNVERIFIED);
    assert.match(two.geofence!.reason, /both a SCION path and an SRv6 path/);
    assert.equal(judged(sentSrv6(srhOf(VOIP)), { scionPath: scionPath as Flow['scionPath'], pathType: 9 as WanPathType }).pathType, WanPathType.WAN_PATH_TYPE_UNKNOWN);
  });

  it('evaluates each (segment list, basis, fence) once', () => {
    const judge = new FlowJudge(undefined, { srv6: catalogueAuthority(SIDS, 'demo') });
    judge.engine.upsert(DACH);
    const flows = [0, 1, 2].map(() => Flow.fromPartial({ source: { namespace: 'archive', labels: ARCHIVE }, srv6Path: sentSrv6(srhOf(BACKUP)), scionObservationPoint: 1 }));
    for (const f of flows) judge.judge(f);
    assert.equal(judge.engine.stats().evaluations, 1);
    assert.equal(flows[0].geofence, flows[2].geofence);
    // Seen elsewhere, the same list rests on other evidence: a verdict of its own.
    judge.judge(Flow.fromPartial({ source: { namespace: 'archive', labels: ARCHIVE }, srv6Path: sentSrv6(srhOf(BACKUP)), scionObservationPoint: 2 }));
    assert.equal(judge.engine.stats().evaluations, 2);
  });
});
