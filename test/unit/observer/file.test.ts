// The file-backed Observer: reading the lines `observe -o json/jsonpb` and Hubble write, and
// answering GetFlows over them exactly as the relay answers over the same flows.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { status } from '@grpc/grpc-js';
import {
  Flow, FlowFilter, GeofenceVerdict, IPVersion, TrafficDirection, Verdict, type DeepPartial,
} from '../../../proto/gen/flow/flow';
import { GetFlowsRequest, type GetFlowsResponse } from '../../../proto/gen/observer/observer';
import { NodeBook } from '../../../observer/nodes';
import { FileObserver } from '../../../observer/file';
import { FlowLineError, parseFlowLine, readFlowLines } from '../../../observer/flow_lines';
import { RequestError } from '../../../observer/request_error';
import { FlowHub } from '../../../observer/hub';
import { nsTimestamp, timestampNs } from '../../../observer/time';
import { fileCorpus, flowFile } from './file_corpus';
import { getFlows, readAll, serveObserver, uuidsOf } from './helpers';

const ALL = (1n << 64n) - 1n;
const req = (r: DeepPartial<GetFlowsRequest>) => GetFlowsRequest.fromPartial(r as GetFlowsRequest);
const ff = (f: DeepPartial<FlowFilter>) => FlowFilter.fromPartial(f as FlowFilter);

async function answer(obs: FileObserver, r: GetFlowsRequest): Promise<GetFlowsResponse[]> {
  const out: GetFlowsResponse[] = [];
  await obs.getFlows(r, (x) => out.push(x));
  return out;
}

function flowOf(line: string): Flow {
  const l = parseFlowLine(line);
  assert.equal(l.kind, 'flow');
  return (l as { flow: Flow }).flow;
}

describe('observer/flow_lines', () => {
  it('reads Hubble\'s `-o json` line (proto field names), keeping nanoseconds and the node', () => {
    // The shape hubble observe -o json prints: snake_case names, node on the envelope.
    const f = flowOf(
      '{"flow":{"time":"2026-03-01T10:00:00.123456789Z","uuid":"u-1","verdict":"DROPPED","drop_reason_desc":"POLICY_DENIED",' +
        '"IP":{"source":"10.244.1.12","destination":"10.244.2.4","ipVersion":"IPv4"},' +
        '"l4":{"TCP":{"source_port":45678,"destination_port":80,"flags":{"SYN":true}}},' +
        '"source":{"ID":3127,"identity":5678,"namespace":"default","labels":["k8s:app=web"],"pod_name":"web-1"},' +
        '"Type":"L3_L4","event_type":{"type":1,"sub_type":133},"traffic_direction":"EGRESS"},' +
        '"node_name":"kind-worker","time":"2026-03-01T10:00:00.123456789Z"}',
    );
    assert.deepEqual(f.time, { seconds: BigInt(Date.parse('2026-03-01T10:00:00Z') / 1000), nanos: 123456789 });
    assert.equal(f.uuid, 'u-1');
    assert.equal(f.verdict, Verdict.DROPPED);
    assert.equal(f.nodeName, 'kind-worker');
    assert.equal(f.source?.podName, 'web-1');
    assert.equal(f.source?.identity, 5678);
    assert.deepEqual(f.eventType, { type: 1, subType: 133 });
    assert.equal(f.trafficDirection, TrafficDirection.EGRESS);
    const l4 = f.l4?.protocol;
    assert.ok(l4?.$case === 'TCP');
    assert.deepEqual([l4.value.sourcePort, l4.value.destinationPort, l4.value.flags?.SYN], [45678, 80, true]);
  });

  it('reads jsonpb lines and bare flows, and a flow\'s own node wins over the envelope\'s', () => {
    const pb = flowOf('{"flow":{"time":"2026-03-01T10:00:00Z","uuid":"u-2","nodeName":"n-own"},"nodeName":"n-env","time":"2026-03-01T10:00:00Z"}');
    assert.equal(pb.nodeName, 'n-own');
    const bare = flowOf('{"time":"2026-03-01T10:00:00.5Z","uuid":"u-3","verdict":"FORWARDED","node_name":"n-3"}');
    assert.deepEqual([bare.uuid, bare.nodeName, bare.time?.nanos, bare.verdict], ['u-3', 'n-3', 500_000_000, Verdict.FORWARDED]);
  });

  it('tells lines without a flow and blank lines apart from flows', () => {
    assert.deepEqual(parseFlowLine('{"lostEvents":{"source":"HUBBLE_RING_BUFFER","numEventsLost":"3"},"time":"2026-03-01T10:00:00Z"}'), { kind: 'event', type: 'lost events' });
    assert.deepEqual(parseFlowLine('{"node_status":{"state_change":"NODE_CONNECTED","node_names":["a"]}}'), { kind: 'event', type: 'node status' });
    assert.deepEqual(parseFlowLine('{"agent_event":{"type":"AGENT_STARTED"},"time":"2026-03-01T10:00:00Z"}'), { kind: 'event', type: 'agent event' });
    assert.deepEqual(parseFlowLine('   '), { kind: 'blank' });
  });

  it('refuses what is not a flow line, saying why', () => {
    const bad: [string, RegExp][] = [
      ['{"flow":', /not JSON/],
      ['[1,2]', /not a JSON object/],
      ['"text"', /not a JSON object/],
      ['{}', /neither a GetFlowsResponse nor a flow/],
      ['{"flow":3}', /"flow" is not an object/],
      ['{"flow":{"time":"yesterday"}}', /bad field value/],
    ];
    for (const [line, why] of bad) assert.throws(() => parseFlowLine(line), (e: Error) => e instanceof FlowLineError && why.test(e.message), line);
  });

  it('numbers lines from 1 across blank and CRLF lines and keeps every good line', async () => {
    const text = [
      '{"time":"2026-03-01T10:00:00Z","uuid":"a"}',
      '',
      'oops',
      '{"lostEvents":{"numEventsLost":"1"}}',
      '{"time":"2026-03-01T10:00:01Z","uuid":"b"}',
      '{"flow":[]}',
    ].join('\r\n');
    const got = await readFlowLines(Readable.from([text]));
    assert.deepEqual(got.flows.map((f) => f.uuid), ['a', 'b']);
    assert.equal(got.events, 1);
    assert.deepEqual(got.errors.map((e) => e.line), [3, 6]);
  });

  it('reads back exactly the flows `observe -o json` and `-o jsonpb` wrote', async () => {
    const flows = fileCorpus(60);
    for (const output of ['json', 'jsonpb'] as const) {
      const got = await readFlowLines(Readable.from([flowFile(flows, output)]));
      assert.deepEqual(got.errors, []);
      assert.deepEqual(got.flows, flows, output);
    }
  });
});

describe('observer/file: FileObserver', () => {
  const flows = fileCorpus(300);
  // Written shuffled, as concatenated files would be; answered in time order all the same.
  const shuffled = flows.map((f, i) => [(i * 7919) % 300, f] as const).sort((a, b) => a[0] - b[0]).map(([, f]) => f);
  const obs = new FileObserver(shuffled);
  const uuids = (pick: (f: Flow) => boolean) => flows.filter(pick).map((f) => f.uuid);
  const t = (i: number) => timestampNs(flows[i].time) as bigint;

  it('holds every flow of the file and answers in time order', async () => {
    assert.equal(obs.size, 300);
    assert.deepEqual(uuidsOf(await answer(obs, req({ number: ALL }))), uuids(() => true));
  });

  it('answers --last N, --first N and --since/--until (ns, inclusive) like the relay', async () => {
    assert.deepEqual(uuidsOf(await answer(obs, req({ number: 20n }))), flows.slice(-20).map((f) => f.uuid));
    assert.deepEqual(uuidsOf(await answer(obs, req({ number: 5n, first: true }))), flows.slice(0, 5).map((f) => f.uuid));
    assert.deepEqual(uuidsOf(await answer(obs, req({ number: 1000n }))), uuids(() => true));
    const window = req({ since: nsTimestamp(t(10)), until: nsTimestamp(t(20)) });
    assert.deepEqual(uuidsOf(await answer(obs, window)), flows.slice(10, 21).map((f) => f.uuid));
    const tight = req({ since: nsTimestamp(t(10) + 1n), until: nsTimestamp(t(20) - 1n) });
    assert.deepEqual(uuidsOf(await answer(obs, tight)), flows.slice(11, 20).map((f) => f.uuid));
    const lastInWindow = req({ since: nsTimestamp(t(10)), until: nsTimestamp(t(20)), number: 3n });
    assert.deepEqual(uuidsOf(await answer(obs, lastInWindow)), flows.slice(18, 21).map((f) => f.uuid));
  });

  // One filter per dimension, each against a predicate written from the corpus, not flowMatcher.
  const hops = (f: Flow) => f.scionPath?.hops ?? [];
  const l4 = (f: Flow) => f.l4?.protocol;
  const ports = (f: Flow) => {
    const p = l4(f);
    return p?.$case === 'TCP' || p?.$case === 'UDP' ? p.value : undefined;
  };
  const cases: [string, DeepPartial<FlowFilter>, (f: Flow) => boolean][] = [
    ['uuid', { uuid: [flows[42].uuid] }, (f) => f === flows[42]],
    ['source pod', { sourcePod: ['shop/che'] }, (f) => f.source?.namespace === 'shop' && !!f.source.podName.startsWith('che')],
    ['destination namespace', { destinationPod: ['payments/'] }, (f) => f.destination?.namespace === 'payments'],
    ['source label', { sourceLabel: ['app=frontend'] }, (f) => !!f.source?.labels.includes('k8s:app=frontend')],
    ['destination label', { destinationLabel: ['k8s:app.kubernetes.io/name=ledger'] }, (f) => !!f.destination?.labels.includes('k8s:app.kubernetes.io/name=ledger')],
    ['source CIDR', { sourceIp: ['10.0.1.0/24'] }, (f) => !!f.IP?.source.startsWith('10.0.1.')],
    ['destination IPv6', { destinationIp: ['fd00::1:3'] }, (f) => f.IP?.destination === 'fd00::1:3'],
    ['source identity', { sourceIdentity: [1011] }, (f) => f.source?.identity === 1011],
    ['destination identity', { destinationIdentity: [1011] }, (f) => f.destination?.identity === 1011],
    ['protocol', { protocol: ['udp'] }, (f) => l4(f)?.$case === 'UDP'],
    ['protocol icmp', { protocol: ['icmp'] }, (f) => l4(f)?.$case === 'ICMPv4'],
    ['destination port', { destinationPort: ['53'] }, (f) => ports(f)?.destinationPort === 53],
    ['verdict', { verdict: [Verdict.DROPPED] }, (f) => f.verdict === Verdict.DROPPED],
    ['event type', { eventType: [{ type: 4, matchSubType: true, subType: 3 }] }, (f) => f.eventType?.type === 4 && f.eventType.subType === 3],
    ['node name', { nodeName: ['node-c'] }, (f) => f.nodeName === 'node-c'],
    ['traffic direction', { trafficDirection: [TrafficDirection.INGRESS] }, (f) => f.trafficDirection === TrafficDirection.INGRESS],
    ['TCP flags', { tcpFlags: [{ SYN: true }] }, (f) => { const p = l4(f); return p?.$case === 'TCP' && !!p.value.flags?.SYN; }],
    ['IP version', { ipVersion: [IPVersion.IPv6] }, (f) => f.IP?.ipVersion === IPVersion.IPv6],
    ['source IA', { srcIa: ['1-ff00:0:111'] }, (f) => f.scionPath?.srcIa === '1-ff00:0:111'],
    ['destination ISD wildcard', { dstIa: ['2-0'] }, (f) => !!f.scionPath?.dstIa.startsWith('2-')],
    ['through IA', { throughIa: ['3-ff00:0:310'] }, (f) => hops(f).some((h) => h.isdAs === '3-ff00:0:310')],
    ['through ISD', { throughIsd: [3] }, (f) => hops(f).some((h) => h.isdAs.startsWith('3-'))],
    ['through country', { throughCountry: ['us'] }, (f) => hops(f).some((h) => h.country === 'US')],
    ['path fingerprint', { pathFingerprint: ['B7E2'] }, (f) => f.scionPath?.fingerprint.startsWith('b7e2') === true],
    ['geofence verdict', { geofenceVerdict: [GeofenceVerdict.GEOFENCE_VIOLATION] }, (f) => f.geofence?.verdict === GeofenceVerdict.GEOFENCE_VIOLATION],
    ['geofence name', { geofenceName: ['payments/dach'] }, (f) => f.geofence?.name === 'dach' && f.geofence.namespace === 'payments'],
  ];

  for (const [name, filter, pick] of cases) {
    it(`filters by ${name}, allowed and denied`, async () => {
      const want = uuids(pick);
      assert.ok(want.length > 0 && want.length < flows.length, `${name} selects a proper subset`);
      assert.deepEqual(uuidsOf(await answer(obs, req({ number: ALL, whitelist: [ff(filter)] }))), want);
      assert.deepEqual(uuidsOf(await answer(obs, req({ number: ALL, blacklist: [ff(filter)] }))), uuids((f) => !pick(f)));
    });
  }

  it('gives the same answers as the relay serving the same flows over gRPC', async () => {
    const hub = new FlowHub({ capacity: flows.length });
    hub.publish(flows);
    const served = await serveObserver({ hub, nodes: new NodeBook(), status: () => ({ version: 't', uptimeNs: 0n }) });
    try {
      const requests = [
        req({ number: 20n }),
        req({ number: 7n, first: true, whitelist: [ff({ protocol: ['tcp'] })] }),
        req({ since: nsTimestamp(t(100)), until: nsTimestamp(t(150)), blacklist: [ff({ verdict: [Verdict.DROPPED] })] }),
        ...cases.map(([, filter]) => req({ number: 25n, whitelist: [ff(filter), ff({ nodeName: ['node-a'] })] })),
      ];
      for (const r of requests) {
        const relay = await readAll(getFlows(served.client, r));
        assert.deepEqual(await answer(obs, r), relay, JSON.stringify(GetFlowsRequest.toJSON(r)));
      }
    } finally {
      await served.close();
    }
  });

  it('refuses --follow and bad filters as the relay does, with INVALID_ARGUMENT', async () => {
    for (const r of [req({ follow: true }), req({ whitelist: [ff({ sourceIp: ['10.0.0.0/33'] })] }), req({ first: true })]) {
      await assert.rejects(answer(obs, r), (e: unknown) => e instanceof RequestError && e.code === status.INVALID_ARGUMENT);
    }
  });

  it('answers from an empty file with nothing', async () => {
    assert.deepEqual(await answer(new FileObserver([]), req({ number: 20n })), []);
  });
});
