// SRv6 flows through the real relay: a collector that lies about its SRv6 paths (forged
// hops and countries, an HMAC it calls verified, headers long, cut short or stuffed with
// TLVs) gets the relay's own rebuild and verdict, and an honest collector exporting at the
// same time is judged right throughout.
import assert from 'node:assert/strict';
import { credentials } from '@grpc/grpc-js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectorySource } from '../../../operator/sources/directory';
import { flowLabels, workloadLabels } from '../../../identity/workload_labels';
import { Flow, GeofenceMode, GeofenceVerdict, ScionObservationPoint, Srv6HmacStatus, WanPathType, type Srv6Path } from '../../../proto/gen/flow/flow';
import { ObserverClient, type GetFlowsResponse } from '../../../proto/gen/observer/observer';
import { nsTimestamp } from '../../../observer/time';
import { startRelay, type Relay } from '../../../relay/server';
import { decodeSrh, encodeSrh } from '../../../srv6/srh';
import { until } from '../../until';
import { FakeCollector } from './exporter_client';
import { getFlows } from '../observer/helpers';
import { BACKUP, KEY_1, SIDS, VOIP, sentSrv6, srhOf } from '../paths/srv6_fixture';

const DACH_AUDIT = `apiVersion: cillion.io/v1alpha1
kind: Geofence
metadata:
  name: dach-only-audit
spec:
  workloadSelector:
    namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: archive
  allow:
    countries: [CH, DE, AT]
  mode: audit
`;

const ARCHIVE = flowLabels('archive', workloadLabels('archive', { app: 'backup' }, {}));
const FORGED_FENCE = { verdict: GeofenceVerdict.GEOFENCE_COMPLIANT, name: 'forged', namespace: '', mode: GeofenceMode.GEOFENCE_AUDIT, reason: 'trust me', offendingIsdAs: '', offendingCountry: '', offendingSid: '' };

let next = 0;
function flow(srv6Path: Srv6Path | undefined, pathType = WanPathType.WAN_PATH_SRV6): Flow {
  const i = next++;
  return Flow.fromPartial({
    time: nsTimestamp(BigInt(Date.now()) * 1_000_000n + BigInt(i)),
    uuid: `00000000-0000-4000-8000-${i.toString().padStart(12, '0')}`,
    IP: { source: '10.1.0.5', destination: '10.2.0.9', ipVersion: 1 },
    source: { namespace: 'archive', podName: 'backup-0', labels: ARCHIVE, clusterName: 'zurich' },
    srv6Path,
    pathType,
    scionObservationPoint: ScionObservationPoint.SCION_EDGE_ENCAP,
    geofence: FORGED_FENCE,
  });
}

/** An SRH of the voip list whose TLVs run to 1000 bytes (four of an unassigned type). */
function stuffed(): Uint8Array {
  const d = decodeSrh(srhOf(VOIP));
  assert.ok(d.ok);
  return encodeSrh({ ...d.srh, tlvs: [0, 1, 2, 3].map(() => ({ type: 0x80, value: new Uint8Array(248).fill(0xee) })) });
}

/** The voip list with its first two segments repeated back and forth to 19 segments, all in CH and DE. */
const NINETEEN = [...Array.from({ length: 18 }, (_, i) => (i % 2 === 0 ? 'fc00:0:1::1' : 'fc00:0:4::1')), 'fc00:0:201::100'];
const SIXTY_FIVE = [...Array.from({ length: 64 }, (_, i) => (i % 2 === 0 ? 'fc00:0:1::1' : 'fc00:0:4::1')), 'fc00:0:201::100'];

describe('relay: SRv6 flows from an honest and a lying collector', function () {
  this.timeout(60_000);
  let dir: string;
  let resources: DirectorySource;
  let relay: Relay;
  let client: ObserverClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-pipeline-srv6-'));
    writeFileSync(join(dir, 'fence.yaml'), DACH_AUDIT);
    resources = new DirectorySource(dir, { rescanMs: 200 });
    await resources.list();
    relay = await startRelay({ listen: '127.0.0.1:0', metricsListen: '127.0.0.1:0', resources, srv6Catalogue: SIDS, mergeWindowMs: 200, shutdownGraceMs: 200 });
    client = new ObserverClient(relay.address, credentials.createInsecure());
    await until('the fence in force', () => relay.geofences.get('dach-only-audit') !== undefined);
  });
  after(async () => {
    client.close();
    await relay.close();
    await resources.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rebuilds and judges every lie, keeps serving the honest node, and counts HMAC outcomes', async () => {
    const live: Flow[] = [];
    const followers = relay.hub.followers;
    const stream = getFlows(client, { follow: true });
    stream.on('data', (r: GetFlowsResponse) => r.responseTypes?.$case === 'flow' && live.push(r.responseTypes.value));
    stream.on('error', () => undefined);
    await until('the follower', () => relay.hub.followers > followers);

    const honest = new FakeCollector(relay.address, 'zrh-node-2');
    const mallory = new FakeCollector(relay.address, 'zrh-node-1');
    const honestUuids: string[] = [];
    let stop = false;
    const honestLoop = (async () => {
      while (!stop) {
        const f = flow(sentSrv6(srhOf(VOIP, { hmac: KEY_1, source: 'fc00:0:102::1' }), { source: 'fc00:0:102::1' }));
        honestUuids.push(f.uuid);
        await honest.acked(honest.send([f]));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    const allCh = BACKUP.map((sid) => ({ sid, behavior: 'End', node: 'pe-zurich', operator: 'Alpine Carrier', asn: 64600, locator: 'fc00:0:1::/48', country: 'CH', geo: { latitude: 47.3769, longitude: 8.5417, address: 'Zurich' }, latencyNs: undefined }));
    const lies = {
      forgedHops: flow(sentSrv6(srhOf(BACKUP, { hmac: KEY_1 }), { segments: VOIP, hops: allCh, knownToCatalogue: true, fingerprint: 'ab'.repeat(32), hmac: { status: Srv6HmacStatus.SRV6_HMAC_VERIFIED, keyId: 1 } })),
      badMac: flow(sentSrv6(srhOf(VOIP, { hmac: KEY_1, source: 'fc00:0:202::1' }), { hmac: { status: Srv6HmacStatus.SRV6_HMAC_VERIFIED, keyId: 1 } })),
      nineteen: flow(sentSrv6(srhOf(NINETEEN))),
      truncated: flow(sentSrv6(srhOf(BACKUP).subarray(0, 40), { segments: VOIP })),
      stuffed: flow(sentSrv6(stuffed(), { segments: BACKUP })),
      tooLong: flow(sentSrv6(srhOf(SIXTY_FIVE))),
      // Past RFC 8754's largest SRH ((255 + 1) * 8 bytes), whatever it says inside.
      oversized: flow(sentSrv6(Buffer.concat([srhOf(VOIP), Buffer.alloc(2048)]))),
      claimOnly: flow(undefined),
    };
    await mallory.acked(mallory.send(Object.values(lies)));
    await until('the judged lies', () => [lies.forgedHops, lies.badMac, lies.nineteen, lies.truncated, lies.stuffed, lies.claimOnly].every((l) => live.some((f) => f.uuid === l.uuid)), 10_000);
    const got = (l: Flow): Flow => live.find((f) => f.uuid === l.uuid) as Flow;

    const forged = got(lies.forgedHops);
    assert.equal(forged.geofence?.verdict, GeofenceVerdict.GEOFENCE_VIOLATION);
    assert.equal(forged.geofence?.name, 'dach-only-audit');
    assert.equal(forged.geofence?.offendingSid, 'fc00:0:2::1');
    assert.equal(forged.geofence?.offendingCountry, 'IT');
    assert.deepEqual(forged.srv6Path?.segments, BACKUP);
    assert.deepEqual(forged.srv6Path?.hops.map((h) => h.country), ['CH', 'IT', 'AT', 'DE', 'DE']);
    assert.equal(forged.srv6Path?.hmac?.status, Srv6HmacStatus.SRV6_HMAC_VERIFIED, 'the MAC itself is genuine');
    assert.notEqual(forged.srv6Path?.fingerprint, 'ab'.repeat(32));
    assert.equal(forged.pathType, WanPathType.WAN_PATH_SRV6);

    const badMac = got(lies.badMac);
    assert.equal(badMac.srv6Path?.hmac?.status, Srv6HmacStatus.SRV6_HMAC_MISMATCH);
    assert.equal(badMac.geofence?.verdict, GeofenceVerdict.GEOFENCE_UNVERIFIED);

    const nineteen = got(lies.nineteen);
    assert.equal(nineteen.srv6Path?.hops.length, 19);
    assert.equal(nineteen.geofence?.verdict, GeofenceVerdict.GEOFENCE_COMPLIANT);

    const truncated = got(lies.truncated);
    assert.equal(truncated.geofence?.verdict, GeofenceVerdict.GEOFENCE_UNVERIFIED);
    assert.match(truncated.geofence!.reason, /does not decode \(SRH_TRUNCATED\)/);
    assert.deepEqual(truncated.srv6Path?.segments, []);

    const stuffedFlow = got(lies.stuffed);
    assert.deepEqual(stuffedFlow.srv6Path?.segments, VOIP);
    assert.equal(stuffedFlow.srv6Path?.raw.length, 8 + 3 * 16 + 1000);
    assert.equal(stuffedFlow.geofence?.verdict, GeofenceVerdict.GEOFENCE_COMPLIANT);

    const claimOnly = got(lies.claimOnly);
    assert.equal(claimOnly.pathType, WanPathType.WAN_PATH_TYPE_UNKNOWN);
    assert.equal(claimOnly.geofence?.verdict, GeofenceVerdict.GEOFENCE_UNVERIFIED);

    // Over the segment bound (--max-hops) or the SRH size: refused alone, not stored, not shown.
    assert.equal(live.some((f) => f.uuid === lies.tooLong.uuid || f.uuid === lies.oversized.uuid), false);
    const metrics = await relay.metrics.text();
    assert.match(metrics, /cillion_flows_rejected_total\{reason="invalid"\} 2\b/);
    assert.match(metrics, /cillion_srv6_hmac_total\{status="SRV6_HMAC_MISMATCH"\} 1\b/);
    assert.match(metrics, /cillion_srv6_hmac_total\{status="SRV6_HMAC_VERIFIED"\} \d+/);
    assert.match(metrics, /cillion_flows_by_path_type_total\{path_type="WAN_PATH_TYPE_UNKNOWN"\} 1\b/);

    stop = true;
    await honestLoop;
    await until('the honest flows', () => honestUuids.every((u) => live.some((f) => f.uuid === u)), 10_000);
    const honestFlows = live.filter((f) => honestUuids.includes(f.uuid));
    assert.ok(honestFlows.length >= 1);
    for (const f of honestFlows) {
      assert.equal(f.geofence?.verdict, GeofenceVerdict.GEOFENCE_COMPLIANT, f.geofence?.reason);
      assert.equal(f.srv6Path?.hmac?.status, Srv6HmacStatus.SRV6_HMAC_VERIFIED);
    }
    stream.cancel();
    await honest.close();
    await mallory.close();
  });
});
