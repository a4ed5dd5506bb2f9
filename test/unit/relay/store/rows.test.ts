import assert from 'node:assert/strict';
import { Flow, GeofenceVerdict, Verdict } from '../../../../proto/gen/flow/flow';
import { appOf, canonicalIA, decodeFlow, flowLines, flowValues } from '../../../../relay/store/rows';
import { FLOW_COLUMNS } from '../../../../relay/store/schema';

describe('relay/store rows', () => {
  it('names the app from the usual Kubernetes labels, most specific first', () => {
    const ep = (labels: string[]) => ({ ID: 0, identity: 0, clusterName: '', namespace: '', labels, podName: '', workloads: [] });
    assert.equal(appOf(ep(['k8s:app=web', 'k8s:app.kubernetes.io/name=shop'])), 'shop');
    assert.equal(appOf(ep(['k8s:k8s-app=kube-dns'])), 'kube-dns');
    assert.equal(appOf(ep(['app=plain'])), 'plain');
    assert.equal(appOf(ep(['k8s:myapp=x'])), '');
    assert.equal(appOf(undefined), '');
  });

  it('writes ISD-AS in the canonical text form of the SCION addressing spec', () => {
    assert.equal(canonicalIA('1-ff00_0_110'), '1-ff00:0:110');
    assert.equal(canonicalIA('1-FF00:0:0110'), '1-ff00:0:110');
    assert.equal(canonicalIA('71-2:0:4a'), '71-2:0:4a');
    assert.equal(canonicalIA('1-0:0:fc00'), '1-64512');
    assert.equal(canonicalIA('not an ia'), 'not an ia');
  });

  it('fills the filter columns from a flow, and the blob decodes to the same flow', () => {
    const flow = Flow.fromPartial({
      time: { seconds: 1_700_000_000n, nanos: 123_456_789 },
      uuid: 'u1',
      verdict: Verdict.DROPPED,
      nodeName: 'node-a',
      IP: { source: '10.0.0.1', destination: 'fd00::2', ipVersion: 1 },
      l4: { protocol: { $case: 'UDP', value: { sourcePort: 5353, destinationPort: 53 } } },
      source: { namespace: 'shop', podName: 'web-0', identity: 42, labels: ['k8s:app=web'] },
      scionPath: {
        srcIa: '1-ff00_0_110', dstIa: '2-ff00:0:210', fingerprint: 'ABCD',
        hops: [{ isdAs: '1-ff00:0:110', country: 'ch' }, { isdAs: '2-ff00:0:210', country: 'DE' }],
      },
      geofence: { verdict: GeofenceVerdict.GEOFENCE_VIOLATION, name: 'eu', offendingIsdAs: '2-ff00_0_210' },
    });
    const values = flowValues(flow, 3, { sessionId: 's', sequence: 9n, receivedAt: 1_700_000_100 });
    assert.equal(values.length, FLOW_COLUMNS.length);
    const row = Object.fromEntries(FLOW_COLUMNS.map((c, i) => [c, values[i]]));
    assert.equal(row.time, '1700000000123456789');
    assert.equal(row.sequence, '9');
    assert.equal(row.batch_index, 3);
    assert.equal(row.verdict, 'DROPPED');
    assert.equal(row.protocol, 'UDP');
    assert.equal(row.destination_port, 53);
    assert.equal(row.source_app, 'web');
    assert.equal(row.src_ia, '1-ff00:0:110');
    assert.equal(row.path_fingerprint, 'abcd');
    assert.deepEqual(row.path_isds, [1, 2]);
    assert.deepEqual(row.path_countries, ['CH', 'DE']);
    assert.equal(row.geofence_verdict, 'GEOFENCE_VIOLATION');
    assert.equal(row.geofence_offending_isd_as, '2-ff00:0:210');
    assert.equal(row.identity_check, '');
    assert.deepEqual(decodeFlow(row.flow_b64 as string), flow);
  });

  it('writes a batch as one JSON array per line, each blob the flow encoded on its own', () => {
    // Flows small and large (a blob past 127 bytes needs a two-byte length in the batch writer).
    const flows = [
      Flow.fromPartial({ uuid: 'a' }),
      Flow.fromPartial({ uuid: 'b'.repeat(300), nodeName: 'n', source: { labels: Array.from({ length: 40 }, (_, i) => `k8s:l${i}=v`) } }),
      Flow.fromPartial({}),
    ];
    const ctx = { sessionId: 's', sequence: 2n, receivedAt: 1_700_000_100 };
    const text = flowLines(flows, ctx).toString();
    assert.ok(text.endsWith('\n'));
    const lines = text.slice(0, -1).split('\n').map((l) => JSON.parse(l) as unknown[]);
    assert.equal(lines.length, flows.length);
    lines.forEach((values, i) => {
      assert.equal(values[FLOW_COLUMNS.indexOf('batch_index')], i);
      assert.equal(values[FLOW_COLUMNS.indexOf('flow_b64')], Buffer.from(Flow.encode(flows[i]).finish()).toString('base64'));
      assert.deepEqual(values, JSON.parse(JSON.stringify(flowValues(flows[i], i, ctx))));
    });
  });
});
