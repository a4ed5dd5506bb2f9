// Flows for the web UI's unit tests: a demo-like path with geo, a geofence verdict and
// endpoints named by their app labels.
import { Flow, GeofenceVerdict, Verdict } from '../../../proto/gen/flow/flow';

const GEO: Record<string, [number, number, string]> = {
  '64-2:0:20': [47.39, 8.51, 'CH'],
  '64-2:0:10': [47.38, 8.54, 'CH'],
  '66-2:0:10': [39.04, -77.49, 'US'],
  '65-2:0:10': [50.11, 8.68, 'DE'],
  '65-2:0:20': [50.12, 8.7, 'DE'],
};

export interface FlowSpec {
  uuid?: string;
  src?: [cluster: string, ns: string, app: string];
  dst?: [cluster: string, ns: string, app: string];
  path?: string[];
  fence?: string;
  verdict?: 'compliant' | 'violation' | 'unverified';
  dropped?: boolean;
  timeMs?: number;
}

let n = 0;

export function flow(spec: FlowSpec = {}): Flow {
  const [sc, sns, sapp] = spec.src ?? ['zurich', 'db', 'replication'];
  const [dc, dns, dapp] = spec.dst ?? ['frankfurt', 'db', 'replication'];
  const path = spec.path ?? ['64-2:0:20', '64-2:0:10', '65-2:0:10', '65-2:0:20'];
  const verdict = { compliant: GeofenceVerdict.GEOFENCE_COMPLIANT, violation: GeofenceVerdict.GEOFENCE_VIOLATION, unverified: GeofenceVerdict.GEOFENCE_UNVERIFIED }[spec.verdict ?? 'compliant'];
  const off = spec.verdict === 'violation' ? path.findIndex((ia) => GEO[ia]?.[2] === 'US') : -1;
  const ms = spec.timeMs ?? 1_767_225_600_000;
  return Flow.fromPartial({
    uuid: spec.uuid ?? `uuid-${++n}`,
    time: { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 },
    verdict: spec.dropped ? Verdict.DROPPED : Verdict.FORWARDED,
    nodeName: `${sc}/${sc}-node-1`,
    source: { clusterName: sc, namespace: sns, labels: [`k8s:app=${sapp}`], podName: `${sapp}-0` },
    destination: { clusterName: dc, namespace: dns, labels: [`k8s:app=${dapp}`], podName: `${dapp}-0` },
    scionPath: {
      srcIa: path[0],
      dstIa: path[path.length - 1],
      hops: path.map((ia) => ({ isdAs: ia, geo: GEO[ia] ? { latitude: GEO[ia][0], longitude: GEO[ia][1], address: '' } : undefined, country: GEO[ia]?.[2] ?? '' })),
    },
    geofence: spec.fence
      ? { verdict, name: spec.fence, namespace: sns, offendingHop: off >= 0 ? off : undefined, offendingIsdAs: off >= 0 ? path[off] : '', offendingCountry: off >= 0 ? 'US' : '' }
      : undefined,
  });
}
