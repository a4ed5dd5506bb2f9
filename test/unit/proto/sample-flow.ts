// A flow with Hubble fields and every Cillion addition, and the JSON Hubble would print
// for it, shared by the proto tests.
import {
  Flow,
  FlowType,
  GeofenceMode,
  GeofenceVerdict,
  IdentityCheck,
  IPVersion,
  ScionObservationPoint,
  ScionPathType,
  TrafficDirection,
  Verdict,
} from '../../../proto/gen/flow/flow';

export const sample: Flow = Flow.fromPartial({
  time: { seconds: 1_767_225_600n, nanos: 5000 },
  uuid: '0f4c7c4e-3b8e-4c55-9a57-5b1f0d6a8c01',
  verdict: Verdict.FORWARDED,
  IP: { source: '10.0.1.5', destination: '10.8.2.9', ipVersion: IPVersion.IPv4 },
  l4: { protocol: { $case: 'TCP', value: { sourcePort: 40512, destinationPort: 443, flags: { SYN: true } } } },
  source: { ID: 812, identity: 20481, namespace: 'shop', podName: 'checkout-7d9f', labels: ['k8s:app=checkout'] },
  destination: { identity: 2, clusterName: 'zurich' },
  Type: FlowType.L3_L4,
  nodeName: 'zrh-node-1',
  trafficDirection: TrafficDirection.EGRESS,
  isReply: false,
  scionPath: {
    srcIa: '1-ff00:0:110',
    dstIa: '2-ff00:0:220',
    fingerprint: 'a3f1c0de'.repeat(8),
    hops: [
      { isdAs: '1-ff00:0:110', egressInterface: 2, geo: { latitude: 47.37, longitude: 8.54 }, country: 'CH', latencyNs: 1_500_000n },
      { isdAs: '1-ff00:0:120', ingressInterface: 5, egressInterface: 7, geo: { latitude: 50.11, longitude: 8.68 }, country: 'DE' },
      { isdAs: '2-ff00:0:220', ingressInterface: 1, country: '' },
    ],
    expiry: { seconds: 1_767_247_200n, nanos: 0 },
    mtu: 1472,
    type: ScionPathType.SCION_PATH_STANDARD,
    pathId: 17,
    knownToControlPlane: true,
  },
  geofence: {
    verdict: GeofenceVerdict.GEOFENCE_UNVERIFIED,
    name: 'eu-only',
    namespace: 'shop',
    mode: GeofenceMode.GEOFENCE_ENFORCE,
    reason: 'hop 2 (2-ff00:0:220) declares no location',
    offendingHop: 2,
    offendingIsdAs: '2-ff00:0:220',
  },
  identityExtension: { identity: 20481, clusterName: 'zurich', optionType: 253, authenticated: true, check: IdentityCheck.IDENTITY_MATCHED },
  scionObservationPoint: ScionObservationPoint.SCION_EDGE_ENCAP,
  meter: { packets: 12n, bytes: 9600n, droppedPackets: 0n, firstSeen: { seconds: 1767225599n, nanos: 5000 }, lastSeen: { seconds: 1767225600n, nanos: 5000 }, dropReasonName: '' },
});

// The same flow as Hubble's JSON output shows it (protojson names and enum names).
export const hubbleJson = {
  time: '2026-01-01T00:00:00.000005Z',
  uuid: '0f4c7c4e-3b8e-4c55-9a57-5b1f0d6a8c01',
  verdict: 'FORWARDED',
  IP: { source: '10.0.1.5', destination: '10.8.2.9', ipVersion: 'IPv4' },
  l4: { TCP: { sourcePort: 40512, destinationPort: 443, flags: { SYN: true } } },
  source: { ID: 812, identity: 20481, namespace: 'shop', labels: ['k8s:app=checkout'], podName: 'checkout-7d9f' },
  destination: { identity: 2, clusterName: 'zurich' },
  Type: 'L3_L4',
  nodeName: 'zrh-node-1',
  trafficDirection: 'EGRESS',
  isReply: false,
};
