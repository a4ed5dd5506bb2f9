// Flows that set every field the store keeps, beside the corpus's ordinary ones: for the
// round-trip tests of the store's read side (Flow objects and wire bytes alike).
import {
  DropReason, Flow, GeofenceMode, GeofenceVerdict, IdentityCheck, IPVersion, ScionObservationPoint,
  TraceObservationPoint, TrafficDirection, Verdict,
} from '../../../../proto/gen/flow/flow';
import { makeCorpus } from './corpus';

/** Flows that set what the corpus leaves out: emitter, interface, event type, ICMPv6, SCTP, every TCP flag, meter times, denying policies. */
export function everyField(): Flow[] {
  const base = makeCorpus(6, 3, Date.UTC(2027, 0, 1));
  const flags = { FIN: true, SYN: true, RST: true, PSH: true, ACK: true, URG: true, ECE: true, CWR: true, NS: true };
  const l4s = [
    { protocol: { $case: 'TCP' as const, value: { sourcePort: 65535, destinationPort: 1, flags } } },
    { protocol: { $case: 'SCTP' as const, value: { sourcePort: 9, destinationPort: 36412 } } },
    { protocol: { $case: 'ICMPv6' as const, value: { type: 128, code: 255 } } },
    { protocol: { $case: 'ICMPv4' as const, value: { type: 3, code: 4 } } },
    { protocol: { $case: 'UDP' as const, value: { sourcePort: 0, destinationPort: 53 } } },
    undefined,
  ];
  return base.map((f, i) => Flow.fromPartial({
    ...f,
    emitter: { name: 'Cillion', version: i % 2 ? '' : '0.1.0' },
    dropReason: 181,
    dropReasonDesc: DropReason.POLICY_DENIED,
    verdict: Verdict.DROPPED,
    l4: l4s[i],
    IP: i === 5 ? undefined : { source: '192.0.2.1', destination: '2001:db8::1', ipVersion: IPVersion.IPv6 },
    interface: { index: 4_000_000_000 + i, name: i ? `eth${i}` : '' },
    eventType: { type: 1, subType: 130 + i },
    traceObservationPoint: TraceObservationPoint.TO_NETWORK,
    trafficDirection: TrafficDirection.EGRESS,
    scionObservationPoint: ScionObservationPoint.SCION_ROUTER_FORWARD,
    isReply: [true, false, undefined][i % 3],
    reply: i % 3 === 0,
    geofence: i === 4 ? undefined : {
      verdict: GeofenceVerdict.GEOFENCE_VIOLATION, name: 'eu', namespace: 'ns', mode: GeofenceMode.GEOFENCE_ENFORCE,
      reason: 'hop 0 is in US', offendingHop: 0, offendingIsdAs: '3-ff00:0:310', offendingCountry: 'US',
    },
    identityExtension: i === 3 ? undefined : { identity: 4_294_967_295, clusterName: 'far', optionType: 253, authenticated: true, check: IdentityCheck.IDENTITY_MISMATCHED },
    meter: {
      packets: 18_446_744_073_709_551_615n, bytes: 2n ** 40n, droppedPackets: 3n, podBytes: 4n, wireBytes: 5n,
      lostPackets: 6n, lostBytes: 7n, foldedReports: 8,
      firstSeen: i === 1 ? undefined : { seconds: 1_700_000_000n, nanos: 999_999_999 },
      lastSeen: { seconds: 1_799_999_999n, nanos: 1 },
      dropReasonName: 'BAD_MAC',
    },
    ingressDeniedBy: i % 3 === 0 ? [{ kind: 'CillionNetworkPolicy', namespace: '', name: 'billing-from-zurich-billing', labels: [], revision: 0n }] : [],
    egressDeniedBy: i % 3 === 1
      ? [{ kind: 'CillionNetworkPolicy', namespace: 'ns', name: 'a/b', labels: [], revision: 0n }, { kind: 'K', namespace: '', name: 'second', labels: [], revision: 0n }]
      : [],
    scionPath: i === 2 ? { ...f.scionPath!, latencyNs: undefined, raw: Buffer.from([0, 1, 2, 255]) } : f.scionPath,
  }));
}

/** The corpus as a collector would have sent it: `reply` follows `isReply`. */
export function asSent(flows: Flow[]): Flow[] {
  return flows.map((f) => Flow.fromPartial({ ...f, reply: f.isReply === true }));
}
