// Flows as the collector builds them (collector/flow.ts toFlow), one for each way it fills
// a field, plus hand-made flows for the Hubble fields a non-collector client may set.
import type { Enrichment } from '../../../collector/enrich';
import type { EndpointInfo } from '../../../identity/endpoint';
import { toFlow, type NodeContext } from '../../../collector/flow';
import type { MeteredFlow } from '../../../collector/flowtable';
import { Flow, ScionPathType, type ScionPath } from '../../../proto/gen/flow/flow';

export const ctx: NodeContext = { nodeName: 'zurich-n1', clusterName: 'zurich', realtimeOffsetNs: 1_700_000_000_000_000_000n, interfaceName: (i) => (i === 4 ? 'eth0' : undefined) };

const web: EndpointInfo = { identity: 300, podName: 'web-1', namespace: 'shop', labels: ['k8s:app=web', 'k8s:io.kubernetes.pod.namespace=shop'], clusterName: 'zurich' };
const api: EndpointInfo = { identity: 301, podName: 'api-1', namespace: 'shop', labels: ['k8s:app=api', 'k8s:io.kubernetes.pod.namespace=shop', 'k8s:tier=backend'], clusterName: 'frankfurt' };

export function scionPath(n: number): ScionPath {
  return {
    srcIa: '64-2:0:20',
    dstIa: `65-2:0:${n}`,
    fingerprint: n.toString(16).padStart(64, 'a'),
    hops: [
      { isdAs: '64-2:0:20', ingressInterface: 0, egressInterface: 1, geo: { latitude: 47.37, longitude: 8.54, address: 'Zürich' }, country: 'CH', latencyNs: 1_500_000n },
      { isdAs: '64-559', ingressInterface: 2, egressInterface: n, geo: undefined, country: '', latencyNs: undefined },
      { isdAs: `65-2:0:${n}`, ingressInterface: 7, egressInterface: 0, geo: { latitude: 50.11, longitude: 8.68, address: '' }, country: 'DE', latencyNs: 0n },
    ],
    expiry: { seconds: 1_700_003_600n, nanos: 0 },
    mtu: 1472,
    type: ScionPathType.SCION_PATH_STANDARD,
    pathId: n,
    latencyNs: n % 2 === 0 ? 2_000_000n : undefined,
    knownToControlPlane: n % 3 !== 0,
    raw: Buffer.from(Array.from({ length: 72 }, (_, k) => (k * 7 + n) & 0xff)),
  };
}

export function metered(over: Partial<MeteredFlow> = {}): MeteredFlow {
  return {
    ifindex: 4, direction: 'EGRESS_ENCAP', inner: { proto: 6, srcAddr: '10.1.0.5', dstAddr: '10.2.0.9', srcPort: 40000, dstPort: 443 }, identity: 300,
    srcIA: 1n, dstIA: 2n, pathType: 1, pathId: 3, path: new Uint8Array(0), pathTruncated: false, ingressIfid: 0, egressIfid: 1,
    firstNs: 5e9, lastNs: 6_000_000_123, packets: 3, bytes: 300, podBytes: 314, wireBytes: 600, foldedReports: 2, lostPackets: 1, lostBytes: 100, dropped: 0,
    tcpFlags: 0x12, firstTcpFlags: 0x02, dropReasons: 0, lastDropReason: 0, lastDropPolicyId: 0, start: true, end: 'idle', ...over,
  } as MeteredFlow;
}

const enriched = (over: Partial<Enrichment> = {}): Enrichment => ({ source: web, destination: undefined, path: scionPath(1), ...over });

/** One flow for every way collector/flow.ts fills a field. */
export function collectorFlows(): Flow[] {
  return [
    // TCP with every flag the datapath reports, is_reply false (first packet SYN), world destination.
    toFlow(metered({ tcpFlags: 0xff }), enriched(), ctx),
    // is_reply true (SYN+ACK first), known destination, a path with latency.
    toFlow(metered({ firstTcpFlags: 0x12 }), enriched({ destination: api, path: scionPath(2) }), ctx),
    // is_reply unset (no SYN seen), no interface name.
    toFlow(metered({ firstTcpFlags: 0x10, ifindex: 9 }), enriched(), ctx),
    toFlow(metered({ inner: { proto: 17, srcAddr: '10.1.0.5', dstAddr: '10.2.0.9', srcPort: 53, dstPort: 5353 }, firstTcpFlags: 0 }), enriched(), ctx),
    toFlow(metered({ inner: { proto: 1, srcAddr: '10.1.0.5', dstAddr: '10.2.0.9', srcPort: (8 << 8) | 3, dstPort: 0 } }), enriched(), ctx),
    // An inner protocol without Layer4 (GRE): IP but no l4.
    toFlow(metered({ inner: { proto: 47, srcAddr: '10.1.0.5', dstAddr: '10.2.0.9', srcPort: 0, dstPort: 0 } }), enriched(), ctx),
    // Ingress, dropped: identity from the packet checked against the directory, drop names.
    toFlow(metered({ direction: 'INGRESS_DECAP', identity: 300, dropped: 1, lastDropReason: 14 }), enriched({ source: api, destination: web }), ctx),
    // Ingress without the identity option: IDENTITY_ABSENT and a reserved:world source.
    toFlow(metered({ direction: 'INGRESS_DECAP', identity: 0 }), enriched({ source: undefined, destination: web }), ctx),
    // Ingress from an identity nobody here knows.
    toFlow(metered({ direction: 'INGRESS_DECAP', identity: 4000 }), enriched({ source: undefined, destination: web, path: scionPath(3) }), ctx),
    // Router: no inner packet, so no IP, l4, endpoints or identity option.
    toFlow(metered({ direction: 'ROUTER_FORWARD', inner: null, identity: 0, podBytes: 0 }), enriched({ source: undefined, path: scionPath(4) }), ctx),
  ];
}

/** What Hubble clients may set beyond the collector: the other Layer4 cases, edge values. */
export function handMadeFlows(): Flow[] {
  const base = { time: { seconds: 1_700_000_000n, nanos: 999_999_999 }, uuid: '00000000-0000-4000-8000-000000000000' };
  return [
    Flow.fromPartial({ ...base, l4: { protocol: { $case: 'ICMPv6', value: { type: 128, code: 255 } } } }),
    Flow.fromPartial({ ...base, uuid: 'ffffffff-ffff-4fff-bfff-ffffffffffff', l4: { protocol: { $case: 'SCTP', value: { sourcePort: 65535, destinationPort: 1 } } } }),
    Flow.fromPartial({ ...base, l4: { protocol: { $case: 'TCP', value: { sourcePort: 1, destinationPort: 2, flags: { NS: true, FIN: true } } } } }),
    Flow.fromPartial({ ...base, l4: {} }),
    // Before 1970, and a meter without first/last seen but with the largest counts.
    Flow.fromPartial({
      time: { seconds: -5n, nanos: 7 },
      uuid: '0123abcd-4567-89ef-0123-456789abcdef',
      meter: { packets: (1n << 64n) - 1n, bytes: 1n, foldedReports: 0xffffffff, dropReasonName: 'BAD_MAC' },
      interface: { index: 0xffffffff, name: '' },
      emitter: { name: '', version: '' },
      eventType: { type: 0, subType: 0 },
      identityExtension: { identity: 0xffffffff, clusterName: 'x', optionType: 255, authenticated: true, check: 3 },
      source: { ID: 1, identity: 1, labels: [], workloads: [{ name: 'web', kind: 'Deployment' }] },
      scionPath: { raw: Buffer.alloc(0), hops: [] },
      verdict: 5, dropReason: 0xffff, dropReasonDesc: 205, Type: 2, trafficDirection: 2, traceObservationPoint: 101, scionObservationPoint: 3, isReply: false,
    }),
  ];
}
