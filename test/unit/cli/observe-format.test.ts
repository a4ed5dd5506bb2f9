// Each `cillion observe` output format on the shared sample flow (see test/unit/proto).
import assert from 'node:assert/strict';
import pc from 'picocolors';
import { Flow, GeofenceVerdict, Verdict, DropReason, Srv6HmacStatus, WanPathType } from '../../../proto/gen/flow/flow';
import type { GetFlowsResponse } from '../../../proto/gen/observer/observer';
import { FlowPrinter, type Output } from '../../../cli/observe/format';
import { formatTime, type TimeFormat } from '../../../cli/observe/time';
import { hubbleJson, sample } from '../proto/sample-flow';

const plain = pc.createColors(false);
const response = (flow: Flow): GetFlowsResponse => ({ responseTypes: { $case: 'flow', value: flow }, nodeName: 'zrh-node-1', time: flow.time });

function render(output: Output, flows: Flow[], opts: { color?: boolean; node?: boolean; time?: TimeFormat } = {}): string[] {
  const out: string[] = [];
  const p = new FlowPrinter(
    { output, colors: opts.color ? pc.createColors(true) : plain, printNodeName: opts.node ?? true, timeFormat: opts.time ?? 'StampMilli' },
    (l) => out.push(l),
  );
  flows.forEach((f) => p.print(response(f)));
  p.end();
  return out;
}

describe('cli observe: output formats', () => {
  let tz: string | undefined;
  before(() => {
    tz = process.env.TZ;
    process.env.TZ = 'UTC';
  });
  after(() => {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  });

  it('compact: one line with endpoints, L4 summary, verdict, SCION hops and the geofence verdict', () => {
    assert.deepEqual(render('compact', [sample]), [
      'Jan  1 00:00:00.000 [zrh-node-1] shop/checkout-7d9f:40512 (ID:20481) -> 10.8.2.9:443 (ID:2) TCP SYN FORWARDED ' +
        'via 1-ff00:0:110 CH > 1-ff00:0:120 DE > 2-ff00:0:220  UNVERIFIED(eu-only)',
    ]);
    const dropped = Flow.fromPartial({ ...sample, verdict: Verdict.DROPPED, dropReasonDesc: DropReason.POLICY_DENIED, scionPath: undefined, geofence: undefined });
    assert.deepEqual(render('compact', [dropped], { node: false }), [
      'Jan  1 00:00:00.000 shop/checkout-7d9f:40512 (ID:20481) -> 10.8.2.9:443 (ID:2) TCP SYN DROPPED (POLICY_DENIED)',
    ]);
  });

  it('compact and dict: a policy drop names the policy and direction, the way Hubble words a policy verdict', () => {
    const policy = (name: string) => ({ kind: 'CillionNetworkPolicy', namespace: '', name, labels: [], revision: 0n });
    const base = { ...sample, verdict: Verdict.DROPPED, dropReasonDesc: DropReason.POLICY_DENIED, scionPath: undefined, geofence: undefined };
    const ingress = Flow.fromPartial({ ...base, ingressDeniedBy: [policy('billing-ingress')] });
    const egress = Flow.fromPartial({ ...base, egressDeniedBy: [policy('billing-egress')] });
    assert.deepEqual(render('compact', [ingress, egress], { node: false }), [
      'Jan  1 00:00:00.000 shop/checkout-7d9f:40512 (ID:20481) -> 10.8.2.9:443 (ID:2) TCP SYN DROPPED (POLICY_DENIED) policy-verdict:INGRESS DENIED by CillionNetworkPolicy/billing-ingress',
      'Jan  1 00:00:00.000 shop/checkout-7d9f:40512 (ID:20481) -> 10.8.2.9:443 (ID:2) TCP SYN DROPPED (POLICY_DENIED) policy-verdict:EGRESS DENIED by CillionNetworkPolicy/billing-egress',
    ]);
    assert.match(render('dict', [ingress])[0]!, /VERDICT: DROPPED \(POLICY_DENIED\) policy-verdict:INGRESS DENIED by CillionNetworkPolicy\/billing-ingress/);
  });

  it('compact: a remote end named by its cluster\'s catalogue shows the cluster, namespace and labels', () => {
    const remote = Flow.fromPartial({
      ...sample,
      scionPath: undefined,
      geofence: undefined,
      destination: { ID: 4259841, identity: 4259841, clusterName: 'frankfurt', namespace: 'shop', podName: '', labels: ['k8s:app=billing', 'k8s:io.kubernetes.pod.namespace=shop'] },
    });
    assert.deepEqual(render('compact', [remote], { node: false }), [
      'Jan  1 00:00:00.000 shop/checkout-7d9f:40512 (ID:20481) -> 10.8.2.9:443 (ID:4259841 frankfurt/shop app=billing) TCP SYN FORWARDED',
    ]);
  });

  it('colours verdicts only when asked', () => {
    const compliant = Flow.fromPartial({ ...sample, geofence: { verdict: GeofenceVerdict.GEOFENCE_COMPLIANT, name: 'eu-only' } });
    const [line] = render('compact', [compliant], { color: true });
    assert.ok(line.includes('\x1b[32mFORWARDED\x1b[39m'));
    assert.ok(line.endsWith('\x1b[32mCOMPLIANT(eu-only)\x1b[39m'));
    assert.ok(!render('compact', [compliant])[0].includes('\x1b['));
  });

  it('json: {"flow", "node_name", "time"} per line; the flow holds what Hubble prints plus Cillion\'s fields', () => {
    const [line] = render('json', [sample]);
    const obj = JSON.parse(line) as { flow: Record<string, unknown>; node_name: string; time: string };
    assert.deepEqual(Object.keys(obj), ['flow', 'node_name', 'time']);
    assert.equal(obj.node_name, 'zrh-node-1');
    assert.equal(obj.time, '2026-01-01T00:00:00.000005Z');
    for (const [k, v] of Object.entries(hubbleJson)) assert.deepEqual(obj.flow[k], v, k);
    const path = obj.flow.scionPath as Record<string, unknown>;
    assert.equal(path.fingerprint, 'a3f1c0de'.repeat(8));
    assert.equal(path.expiry, '2026-01-01T06:00:00Z');
    assert.equal((obj.flow.geofence as Record<string, unknown>).verdict, 'GEOFENCE_UNVERIFIED');
  });

  it('jsonpb: the protobuf JSON mapping of GetFlowsResponse', () => {
    const obj = JSON.parse(render('jsonpb', [sample])[0]) as Record<string, unknown>;
    assert.deepEqual(Object.keys(obj).sort(), ['flow', 'nodeName', 'time']);
    assert.equal(obj.time, '2026-01-01T00:00:00.000005Z');
    assert.equal((obj.flow as Record<string, unknown>).uuid, hubbleJson.uuid);
    const lost: GetFlowsResponse = { responseTypes: { $case: 'lostEvents', value: { source: 1, numEventsLost: 3n, cpu: 1, first: undefined, last: undefined } }, nodeName: 'n1', time: undefined };
    const out: string[] = [];
    new FlowPrinter({ output: 'jsonpb', colors: plain, printNodeName: false, timeFormat: 'StampMilli' }, (l) => out.push(l)).print(lost);
    assert.deepEqual(JSON.parse(out[0]), { lostEvents: { source: 'PERF_EVENT_RING_BUFFER', numEventsLost: '3', cpu: 1 }, nodeName: 'n1' });
  });

  describe('SRv6 paths', () => {
    const srv6Path = {
      segments: ['fc00:0:1::1', 'fc00:0:2::1', 'fc00:0:3::1', 'fc00:0:4::1', 'fc00:0:201::200'],
      segmentsLeft: 4,
      source: 'fc00:0:101::1',
      tenantId: 200,
      tenant: 'archive',
      hops: [
        { sid: 'fc00:0:1::1', behavior: 'End', node: 'pe-zurich', country: 'CH' },
        { sid: 'fc00:0:2::1', behavior: 'End', node: 'p-milan', country: 'IT' },
        { sid: 'fc00:0:3::1', behavior: 'End', node: 'p-vienna', country: 'AT' },
        { sid: 'fc00:0:4::1', behavior: 'End', node: 'pe-frankfurt', country: '' },
        { sid: 'fc00:0:201::200', behavior: 'End.DT4', node: 'fra-node-1', country: 'DE' },
      ],
      fingerprint: '5e6f'.repeat(16),
      hmac: { status: Srv6HmacStatus.SRV6_HMAC_VERIFIED, keyId: 1 },
      raw: Buffer.from([4, 10, 4, 4, 4, 0, 0, 0]),
    };
    const srv6 = Flow.fromPartial({ ...sample, scionPath: undefined, pathType: WanPathType.WAN_PATH_SRV6, srv6Path, geofence: undefined });

    it('compact: "srv6" and each segment with its node and country, the decapsulating SID with its VRF', () => {
      assert.deepEqual(render('compact', [srv6]), [
        'Jan  1 00:00:00.000 [zrh-node-1] shop/checkout-7d9f:40512 (ID:20481) -> 10.8.2.9:443 (ID:2) TCP SYN FORWARDED ' +
          'via srv6 fc00:0:1::1 (pe-zurich CH) > fc00:0:2::1 (p-milan IT) > fc00:0:3::1 (p-vienna AT) > fc00:0:4::1 (pe-frankfurt) > fc00:0:201::200 (End.DT4 vrf 200)',
      ]);
    });

    it('compact: bare segments where no relay filled the hops', () => {
      const local = Flow.fromPartial({ ...srv6, srv6Path: { ...srv6Path, hops: [] } });
      assert.match(render('compact', [local])[0], / via srv6 fc00:0:1::1 > fc00:0:2::1 > fc00:0:3::1 > fc00:0:4::1 > fc00:0:201::200$/);
    });

    it('dict: fingerprint, tenant, segments left and the SRH HMAC status', () => {
      const lines = render('dict', [srv6])[0].split('\n');
      assert.deepEqual(lines.slice(7), [
        '         PATH: srv6 fc00:0:1::1 (pe-zurich CH) > fc00:0:2::1 (p-milan IT) > fc00:0:3::1 (p-vienna AT) > fc00:0:4::1 (pe-frankfurt) > fc00:0:201::200 (End.DT4 vrf 200)',
        '  FINGERPRINT: ' + '5e6f'.repeat(16),
        '       TENANT: archive (vrf 200)',
        'SEGMENTS LEFT: 4',
        '     SRH HMAC: VERIFIED (key 1)',
        '     GEOFENCE: -',
      ]);
    });

    it('json: the proto3 JSON of the path type and SRv6 path', () => {
      const line = JSON.parse(render('json', [srv6])[0]);
      assert.equal(line.flow.pathType, 'WAN_PATH_SRV6');
      assert.equal(line.flow.srv6Path.raw, Buffer.from(srv6Path.raw).toString('base64'));
      assert.deepEqual(line.flow.srv6Path.segments, srv6Path.segments);
      assert.equal(line.flow.srv6Path.hmac.status, 'SRV6_HMAC_VERIFIED');
      assert.equal(line.flow.scionPath, undefined);
    });
  });

  it('dict: aligned key: value blocks', () => {
    assert.deepEqual(render('dict', [sample])[0].split('\n'), [
      '------------',
      '  TIMESTAMP: Jan  1 00:00:00.000',
      '       NODE: zrh-node-1',
      '     SOURCE: shop/checkout-7d9f:40512 (ID:20481)',
      'DESTINATION: 10.8.2.9:443 (ID:2)',
      '    SUMMARY: TCP SYN',
      '    VERDICT: FORWARDED',
      '       PATH: 1-ff00:0:110 CH > 1-ff00:0:120 DE > 2-ff00:0:220',
      'FINGERPRINT: ' + 'a3f1c0de'.repeat(8),
      '   GEOFENCE: UNVERIFIED(eu-only)',
      '     REASON: hop 2 (2-ff00:0:220) declares no location',
    ]);
  });

  it('table: a header and one row per flow, printed when the stream ends', () => {
    const out = render('table', [sample, sample]);
    assert.equal(out.length, 1);
    const text = out[0];
    for (const h of ['TIMESTAMP', 'NODE', 'SOURCE', 'DESTINATION', 'VERDICT', 'PATH', 'GEOFENCE']) assert.ok(text.includes(h), h);
    assert.equal(text.split('shop/checkout-7d9f:40512 (ID:20481)').length - 1, 2);
    assert.equal(text.split('UNVERIFIED(eu-only)').length - 1, 2);
  });

  it('time formats follow Go\'s layouts', () => {
    const ts = { seconds: 1_795_372_201n, nanos: 123_456_789 };
    assert.equal(new Date(1_795_372_201_000).toISOString(), '2026-11-22T18:30:01.000Z');
    assert.equal(formatTime(ts, 'StampMilli'), 'Nov 22 18:30:01.123');
    assert.equal(formatTime(ts, 'RFC3339'), '2026-11-22T18:30:01Z');
    assert.equal(formatTime(ts, 'RFC3339Milli'), '2026-11-22T18:30:01.123Z');
    assert.equal(formatTime(ts, 'RFC3339Micro'), '2026-11-22T18:30:01.123456Z');
    assert.equal(formatTime(ts, 'RFC3339Nano'), '2026-11-22T18:30:01.123456789Z');
    assert.equal(formatTime(ts, 'RFC1123Z'), 'Sun, 22 Nov 2026 18:30:01 +0000');
  });
});
