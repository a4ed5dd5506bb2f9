import assert from 'node:assert/strict';
import { Flow, GeofenceVerdict, ScionObservationPoint, Verdict } from '../../../../proto/gen/flow/flow';
import { canonicalJson, type Json } from '../../../../relay/attest/canonical_json';
import { makeCorpus } from '../store/corpus';
import { canonicalFlow, canonicalLine, formatDate } from '../../../../relay/attest/canonical_flow';
import { parseEvidenceLine } from '../../../../relay/attest/evidence_line';

const flow = Flow.fromPartial({
  time: { seconds: 1_795_348_800n, nanos: 5 },
  uuid: 'u-1',
  nodeName: 'node-a',
  verdict: Verdict.FORWARDED,
  IP: { source: '10.0.0.1', destination: '10.1.0.2' },
  l4: { protocol: { $case: 'TCP', value: { sourcePort: 40000, destinationPort: 5432 } } },
  source: { identity: 1001, clusterName: 'zurich', namespace: 'db', podName: 'pg-0', labels: ['k8s:app=replication', 'k8s:tier=db'], workloads: [{ name: 'pg', kind: 'StatefulSet' }] },
  destination: { identity: 2002, clusterName: 'frankfurt', namespace: 'db', podName: 'pg-1', labels: [] },
  scionObservationPoint: ScionObservationPoint.SCION_EDGE_ENCAP,
  scionPath: { fingerprint: 'ABCDEF' },
  geofence: { verdict: GeofenceVerdict.GEOFENCE_VIOLATION, name: 'eu', reason: 'hop 1 is in US' },
  meter: { packets: 12n, bytes: 9_007_199_254_740_993n },
});

describe('relay/attest canonical forms', () => {
  it('writes canonical JSON with sorted keys and no whitespace', () => {
    assert.equal(canonicalJson({ b: [1, { d: null, c: 'x' }], a: true, é: 'ü' }), '{"a":true,"b":[1,{"c":"x","d":null}],"é":"ü"}');
    assert.throws(() => canonicalJson(Number.NaN));
  });

  it('writes the documented evidence line for a flow', () => {
    const expected =
      '{"bytes":"9007199254740993","dst":{"cluster":"frankfurt","identity":2002,"labels":[],"namespace":"db","pod":"pg-1","workload":""},' +
      '"dstIp":"10.1.0.2","dstPort":5432,"fence":{"name":"eu","reason":"hop 1 is in US","verdict":"VIOLATION"},"node":"node-a",' +
      '"packets":"12","path":"abcdef","point":"SCION_EDGE_ENCAP","proto":"TCP",' +
      '"src":{"cluster":"zurich","identity":1001,"labels":["k8s:app=replication","k8s:tier=db"],"namespace":"db","pod":"pg-0","workload":"StatefulSet/pg"},' +
      '"srcIp":"10.0.0.1","srcPort":40000,"time":"2026-11-22T12:00:00.000000005Z","uuid":"u-1","verdict":"FORWARDED"}';
    assert.equal(canonicalLine(canonicalFlow(flow)), expected);
    assert.equal(canonicalJson(canonicalFlow(flow) as unknown as Json), expected);
    assert.deepEqual(parseEvidenceLine(expected), canonicalFlow(flow));
  });

  it('writes null counts without a meter, "" without a path, null without a geofence', () => {
    const c = canonicalFlow(Flow.fromPartial({ time: { seconds: 0n, nanos: 0 }, l4: { protocol: { $case: 'ICMPv4', value: { type: 8, code: 0 } } } }));
    assert.equal(c.packets, null);
    assert.equal(c.bytes, null);
    assert.equal(c.path, '');
    assert.equal(c.fence, null);
    assert.equal(c.proto, 'ICMPv4');
    assert.equal(c.srcPort, 0);
    assert.equal(c.time, '1970-01-01T00:00:00.000000000Z');
    assert.deepEqual(parseEvidenceLine(canonicalLine(c)), c);
    assert.equal(canonicalLine(c), canonicalJson(c as unknown as Json));
  });

  it('writes every corpus flow as canonical JSON would', () => {
    for (const f of makeCorpus(500, 9)) {
      const c = canonicalFlow(f);
      assert.equal(canonicalLine(c), canonicalJson(c as unknown as Json));
    }
  });

  it('formats window bounds like flow times', () => {
    assert.equal(formatDate(new Date(Date.UTC(2026, 10, 22, 8, 0, 0, 7))), '2026-11-22T08:00:00.007000000Z');
  });

  it('refuses evidence lines that are not canonical', () => {
    const line = canonicalLine(canonicalFlow(flow));
    assert.throws(() => parseEvidenceLine(line.replace('{"bytes"', '{ "bytes"')), /canonical/);
    assert.throws(() => parseEvidenceLine(line.replace('"dstPort":5432', '"dstPort":5432.0')), /canonical/);
    assert.throws(() => parseEvidenceLine(line.replace('"packets":"12"', '"packets":12')), /wrong type/);
    assert.throws(() => parseEvidenceLine(line.replace(',"uuid":"u-1"', '')), /fields/);
    assert.throws(() => parseEvidenceLine(line.replace('"VIOLATION"', '"FINE"')), /wrong type/);
    assert.throws(() => parseEvidenceLine('[]'), /not a JSON object/);
    // Keys out of order inside an endpoint or the fence, or at the top, or one too many in an endpoint.
    assert.throws(() => parseEvidenceLine(line.replace('{"cluster":"zurich","identity":1001,', '{"identity":1001,"cluster":"zurich",')), /canonical/);
    assert.throws(() => parseEvidenceLine(line.replace('{"name":"eu","reason":"hop 1 is in US",', '{"reason":"hop 1 is in US","name":"eu",')), /canonical/);
    assert.throws(() => parseEvidenceLine(line.replace('{"bytes":"9007199254740993","dst":', '{"dst":').replace(',"dstIp":', ',"bytes":"9007199254740993","dstIp":')), /canonical/);
    assert.throws(() => parseEvidenceLine(line.replace('"workload":"StatefulSet/pg"}', '"workload":"StatefulSet/pg","x":1}')), /canonical/);
    assert.throws(() => parseEvidenceLine(line.replace('"identity":1001', '"identity":1001.0')), /canonical/);
    assert.throws(() => parseEvidenceLine(line.replace('"pod":"pg-0"', '"pod":"pg\\u002d0"')), /canonical/);
  });
});
