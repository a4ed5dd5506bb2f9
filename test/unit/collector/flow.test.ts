import assert from 'node:assert/strict';
import type { Enrichment } from '../../../collector/enrich';
import type { EndpointInfo } from '../../../identity/endpoint';
import { hubbleDropReason, toFlow, type NodeContext } from '../../../collector/flow';
import type { MeteredFlow } from '../../../collector/flowtable';
import { DropReason, Flow, ScionObservationPoint, ScionPathType, WanPathType, type ScionPath } from '../../../proto/gen/flow/flow';
import { enrich } from '../../../collector/enrich';
import { BACKUP, srhOf } from '../paths/srv6_fixture';

const ctx: NodeContext = { nodeName: 'zurich-n1', clusterName: 'zurich', realtimeOffsetNs: 1_700_000_000_000_000_000n, interfaceName: (i) => (i === 4 ? 'eth0' : undefined) };

const web: EndpointInfo = { identity: 300, podName: 'web-1', namespace: 'shop', labels: ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=shop'], clusterName: 'zurich' };
const path: ScionPath = { srcIa: '64-2:0:20', dstIa: '65-2:0:20', fingerprint: 'ab', hops: [], expiry: undefined, mtu: 1400, type: ScionPathType.SCION_PATH_STANDARD, pathId: 3, knownToControlPlane: true, raw: Buffer.alloc(0) };

function metered(over: Partial<MeteredFlow> = {}): MeteredFlow {
  return {
    ifindex: 4, direction: 'EGRESS_ENCAP', inner: { proto: 6, srcAddr: '10.1.0.5', dstAddr: '10.2.0.9', srcPort: 40000, dstPort: 443 }, identity: 300,
    srcIA: 1n, dstIA: 2n, pathType: 1, pathId: 3, path: new Uint8Array(0), pathTruncated: false, ingressIfid: 0, egressIfid: 1,
    firstNs: 5e9, lastNs: 6_000_000_123, packets: 3, bytes: 300, podBytes: 300, wireBytes: 600, foldedReports: 0, lostPackets: 0, lostBytes: 0, dropped: 0, tcpFlags: 0x12, firstTcpFlags: 0x02, dropReasons: 0, lastDropReason: 0, lastDropPolicyId: 0, start: true, end: 'idle', ...over,
  };
}

const enriched = (over: Partial<Enrichment> = {}): Enrichment => ({ source: web, destination: undefined, path, ...over });

describe('collector/flow', () => {
  it('makes an SRv6 record a flow of path type SRV6 carrying its SRH as evidence, and no identity option', () => {
    const raw = srhOf(BACKUP);
    const m = metered({ pathKind: 'srv6', path: raw, pathId: 7, tenantId: 200, outerSrc: 'fc00:0:101::1', srcIA: 0n, dstIA: 0n, pathType: 4 });
    const none = { catalog: { byId: () => undefined, byRaw: () => { throw new Error('an SRv6 flow has no SCION path'); } } };
    const f = toFlow(m, enrich(m, { lookup: (ip) => (ip === '10.1.0.5' ? web : undefined) }, none.catalog), ctx);
    assert.equal(f.pathType, WanPathType.WAN_PATH_SRV6);
    assert.equal(f.scionPath, undefined);
    assert.equal(f.scionObservationPoint, ScionObservationPoint.SCION_EDGE_ENCAP);
    assert.equal(f.identityExtension, undefined);
    assert.deepEqual(f.srv6Path?.segments, BACKUP);
    assert.equal(f.srv6Path?.segmentsLeft, 4);
    assert.equal(f.srv6Path?.source, 'fc00:0:101::1');
    assert.equal(f.srv6Path?.tenantId, 200);
    assert.equal(f.srv6Path?.pathId, 7);
    assert.deepEqual([...(f.srv6Path?.raw ?? [])], [...raw]);
    // What only the relay may say is left for it.
    assert.deepEqual(f.srv6Path?.hops, []);
    assert.equal(f.srv6Path?.fingerprint, '');
    // A header cut short in the ring record names no segments, and keeps its bytes.
    const cut = toFlow({ ...m, path: raw.subarray(0, 40), pathTruncated: true }, enrich({ ...m, path: raw.subarray(0, 40), pathTruncated: true }, { lookup: () => undefined }, none.catalog), ctx);
    assert.deepEqual(cut.srv6Path?.segments, []);
    assert.equal(cut.srv6Path?.raw.length, 40);
    assert.equal(toFlow(metered(), enriched(), ctx).pathType, WanPathType.WAN_PATH_SCION);
  });

  it('fills an egress flow the way Hubble fills a to-network trace event', () => {
    const f = toFlow(metered(), enriched(), ctx);
    assert.deepEqual(f.time, { seconds: 1_700_000_006n, nanos: 123 });
    // A UUIDv7 (collector/flow_uuid.ts).
    assert.match(f.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Numbers from Hubble's flow.proto: FORWARDED = 1, L3_L4 = 1, EGRESS = 2, TO_NETWORK = 11, IPv4 = 1.
    assert.equal(f.verdict, 1);
    assert.equal(f.Type, 1);
    assert.equal(f.trafficDirection, 2);
    assert.equal(f.traceObservationPoint, 11);
    // Cilium's monitor: trace notifications are type 4, their subtype the observation point.
    assert.deepEqual(f.eventType, { type: 4, subType: 11 });
    assert.deepEqual(f.IP, { source: '10.1.0.5', destination: '10.2.0.9', ipVersion: 1, sourceXlated: '', encrypted: false });
    assert.deepEqual(f.l4, { protocol: { $case: 'TCP', value: { sourcePort: 40000, destinationPort: 443, flags: { FIN: false, SYN: true, RST: false, PSH: false, ACK: true, URG: false, ECE: false, CWR: false, NS: false } } } });
    assert.deepEqual(f.source, { ID: 300, identity: 300, clusterName: 'zurich', namespace: 'shop', labels: web.labels, podName: 'web-1', workloads: [] });
    // Hubble's reserved:world identity for a peer outside the cluster.
    assert.deepEqual(f.destination, { ID: 2, identity: 2, clusterName: '', namespace: '', labels: ['reserved:world'], podName: '', workloads: [] });
    assert.equal(f.nodeName, 'zurich-n1');
    assert.equal(f.isReply, false);
    assert.deepEqual(f.interface, { index: 4, name: 'eth0' });
    assert.equal(f.dropReasonDesc, 0);
    assert.deepEqual(f.scionPath, { ...path, latencyNs: undefined });
    assert.equal(f.scionObservationPoint, 1);
    assert.deepEqual(f.identityExtension, { identity: 300, clusterName: 'zurich', optionType: 253, authenticated: false, check: 2 });
  });

  it('survives the wire: encode and decode give the same flow', () => {
    const f = toFlow(metered(), enriched(), ctx);
    assert.deepEqual(Flow.decode(Flow.encode(f).finish()), f);
  });

  it('marks a flow with drops DROPPED with the last reason as Hubble\'s nearest drop reason', () => {
    // Cillion INGRESS_DENIED (14) is a policy decision: Hubble's POLICY_DENIED = 133.
    const f = toFlow(metered({ direction: 'INGRESS_DECAP', dropped: 1, lastDropReason: 14 }), enriched(), ctx);
    assert.equal(f.verdict, 2);
    assert.equal(f.dropReasonDesc, 133);
    assert.equal(f.dropReason, 133);
    assert.deepEqual(f.eventType, { type: 1, subType: 133 });
    assert.equal(hubbleDropReason(19), 132);
    assert.equal(hubbleDropReason(22), DropReason.POLICY_DENIED, 'a CillionNetworkPolicy refusal is a Hubble policy drop');
    assert.equal(hubbleDropReason(31), 0);
  });

  it('a policy drop names the CillionNetworkPolicy and its direction, as Hubble\'s ingress/egress_denied_by', () => {
    const names = (id: number) => (id === 3 ? 'billing-ingress' : id === 4 ? 'billing-egress' : undefined);
    const c = { ...ctx, policyName: names };
    const ingress = toFlow(metered({ direction: 'INGRESS_DECAP', dropped: 2, lastDropReason: 22, lastDropPolicyId: 3 }), enriched(), c);
    assert.deepEqual(ingress.ingressDeniedBy.map((p) => [p.kind, p.name]), [['CillionNetworkPolicy', 'billing-ingress']]);
    assert.deepEqual(ingress.egressDeniedBy, []);
    assert.equal(ingress.dropReasonDesc, DropReason.POLICY_DENIED);
    assert.equal(ingress.meter?.dropReasonName, 'POLICY_DENIED');
    const egress = toFlow(metered({ dropped: 1, lastDropReason: 29, lastDropPolicyId: 4 }), enriched(), c);
    assert.deepEqual(egress.egressDeniedBy.map((p) => p.name), ['billing-egress']);
    assert.deepEqual(egress.ingressDeniedBy, []);
    assert.equal(egress.dropReasonDesc, DropReason.POLICY_DENIED);
    assert.equal(egress.meter?.dropReasonName, 'POLICY_EGRESS_DENIED');
    const gone = toFlow(metered({ direction: 'INGRESS_DECAP', dropped: 1, lastDropReason: 22, lastDropPolicyId: 9 }), enriched(), c);
    assert.deepEqual(gone.ingressDeniedBy.map((p) => p.name), ['#9'], 'a number the node no longer knows stays visible');
    const other = toFlow(metered({ direction: 'INGRESS_DECAP', dropped: 1, lastDropReason: 13, lastDropPolicyId: 3 }), enriched(), c);
    assert.deepEqual(other.ingressDeniedBy, [], 'only policy drops name a policy');
  });

  it('an ingress flow: sender identity from the packet, checked against what the directory knows', () => {
    const remote = { ...web, identity: 301, clusterName: 'frankfurt', podName: 'api-1' };
    const f = toFlow(metered({ direction: 'INGRESS_DECAP', identity: 300 }), enriched({ source: remote, destination: web }), ctx);
    assert.equal(f.trafficDirection, 1);
    assert.equal(f.traceObservationPoint, 10);
    assert.equal(f.scionObservationPoint, 2);
    assert.equal(f.source?.identity, 300);
    assert.equal(f.source?.podName, 'api-1');
    assert.equal(f.destination?.identity, 300);
    assert.deepEqual(f.identityExtension, { identity: 300, clusterName: 'frankfurt', optionType: 253, authenticated: false, check: 3 });
    const unknown = toFlow(metered({ direction: 'INGRESS_DECAP', identity: 4000 }), enriched({ source: undefined, destination: web }), ctx);
    assert.equal(unknown.source?.identity, 4000);
    assert.equal(unknown.identityExtension?.check, 0);
    const absent = toFlow(metered({ direction: 'INGRESS_DECAP', identity: 0 }), enriched({ source: undefined, destination: web }), ctx);
    assert.equal(absent.identityExtension?.check, 1);
    assert.deepEqual(absent.source?.labels, ['reserved:world']);
  });

  it('UDP and ICMP layer 4, and is_reply only where the first packet tells', () => {
    const udp = toFlow(metered({ inner: { proto: 17, srcAddr: 'a', dstAddr: 'b', srcPort: 53, dstPort: 5353 }, firstTcpFlags: 0 }), enriched(), ctx);
    assert.deepEqual(udp.l4, { protocol: { $case: 'UDP', value: { sourcePort: 53, destinationPort: 5353 } } });
    assert.equal(udp.isReply, undefined);
    const icmp = toFlow(metered({ inner: { proto: 1, srcAddr: 'a', dstAddr: 'b', srcPort: (8 << 8) | 0, dstPort: 0 } }), enriched(), ctx);
    assert.deepEqual(icmp.l4, { protocol: { $case: 'ICMPv4', value: { type: 8, code: 0 } } });
    assert.equal(toFlow(metered({ firstTcpFlags: 0x12 }), enriched(), ctx).isReply, true);
    assert.equal(toFlow(metered({ firstTcpFlags: 0x10 }), enriched(), ctx).isReply, undefined);
  });

  it('a router flow has no inner packet: no IP, no endpoints, no identity option', () => {
    const f = toFlow(metered({ direction: 'ROUTER_FORWARD', inner: null, identity: 0 }), enriched({ source: undefined }), ctx);
    assert.equal(f.IP, undefined);
    assert.equal(f.l4, undefined);
    assert.equal(f.source, undefined);
    assert.equal(f.destination, undefined);
    assert.equal(f.identityExtension, undefined);
    assert.equal(f.trafficDirection, 0);
    assert.equal(f.scionObservationPoint, 3);
  });
});
