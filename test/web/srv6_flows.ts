// The demo's SRv6 traffic as Zurich's edge reports it, for the browser tests: voip (namespace
// voice, VRF 100) on the lowest-latency list straight to Frankfurt, backup (namespace archive,
// VRF 200) through Milan and Vienna with the HMAC TLV of key 1. A collector sends only the
// SRH as recorded and the outer source; the relay rebuilds segments, nodes, geo and the HMAC
// outcome from them with the demo's SID catalogue (examples/srv6.yaml), and judges the
// backup flows against the audit fence dach-only-audit (CH, DE, AT): a violation at Milan.
import { Flow, ScionObservationPoint, Verdict, WanPathType } from '../../proto/gen/flow/flow';
import { flowLabels, workloadLabels } from '../../identity/workload_labels';
import { BACKUP, KEY_1, sentSrv6, srhOf, VOIP } from '../unit/paths/srv6_fixture';
import type { NodeFlow } from './demo_flows';

export const SRV6_FENCE = { fence: 'dach-only-audit', sid: 'fc00:0:2::1', node: 'p-milan', country: 'IT' };

/** The audit fence the demo puts on namespace archive. */
export const SRV6_FENCE_YAML = `apiVersion: cillion.io/v1alpha1
kind: Geofence
metadata:
  name: ${SRV6_FENCE.fence}
spec:
  workloadSelector:
    namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: archive
  allow:
    countries: [CH, DE, AT]
  mode: audit
`;

const endpoint = (cluster: string, namespace: string, app: string, identity: number) => ({
  clusterName: cluster, namespace, podName: `${app}-0`, identity, labels: flowLabels(namespace, workloadLabels(namespace, { app }, {})),
});

/** `n` SRv6 flows from zrh-node-1, every third one voip, the rest backup, spread over `spanMs` before `endMs`; uuids from `first` on. */
export function srv6Flows(n: number, endMs: number, spanMs: number, first: number): NodeFlow[] {
  const backup = sentSrv6(srhOf(BACKUP, { hmac: KEY_1 }));
  const voip = sentSrv6(srhOf(VOIP));
  return Array.from({ length: n }, (_, k) => {
    const i = first + k;
    const isVoip = i % 3 === 0;
    const [ns, app, port, identity] = isVoip ? ['voice', 'voip', 5060, 31_001] : ['archive', 'backup', 7010, 31_002];
    const ms = endMs - spanMs + Math.floor((k * spanMs) / n);
    return {
      node: 'zrh-node-1',
      cluster: 'zurich',
      flow: Flow.fromPartial({
        time: { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 },
        uuid: `5e6a0000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        verdict: Verdict.FORWARDED,
        nodeName: 'zurich/zrh-node-1',
        IP: { source: isVoip ? '10.1.0.21' : '10.1.0.22', destination: isVoip ? '10.2.0.21' : '10.2.0.22', ipVersion: 1 },
        l4: { protocol: { $case: 'UDP', value: { sourcePort: 40_000 + i, destinationPort: port } } },
        source: endpoint('zurich', ns, app, identity),
        destination: endpoint('frankfurt', ns, app, identity + 1000),
        scionObservationPoint: ScionObservationPoint.SCION_EDGE_ENCAP,
        meter: { packets: 3n, bytes: 3n * 942n },
        pathType: WanPathType.WAN_PATH_SRV6,
        srv6Path: isVoip ? voip : backup,
      }),
    };
  });
}
