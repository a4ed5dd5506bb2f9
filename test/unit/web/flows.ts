// Flows for the web UI's unit tests: a demo-like path with geo, a geofence verdict and
// endpoints named by their app labels.
import { Flow, GeofenceVerdict, Srv6HmacStatus, Verdict, WanPathType } from '../../../proto/gen/flow/flow';

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

/** SRv6 nodes of the demo provider network: [node, country, latitude, longitude]. */
const SRV6_NODES: Record<string, [string, string, number, number]> = {
  'fc00:0:1::1': ['pe-zurich', 'CH', 47.3769, 8.5417],
  'fc00:0:2::1': ['p-milan', 'IT', 45.4642, 9.19],
  'fc00:0:3::1': ['p-vienna', 'AT', 48.2082, 16.3738],
  'fc00:0:4::1': ['pe-frankfurt', 'DE', 50.1109, 8.6821],
  'fc00:0:201::200': ['fra-node-1', 'DE', 50.1109, 8.6821],
};
export const SRV6_VIA_AUSTRIA = ['fc00:0:1::1', 'fc00:0:2::1', 'fc00:0:3::1', 'fc00:0:4::1', 'fc00:0:201::200'];
export const SRV6_DIRECT = ['fc00:0:1::1', 'fc00:0:4::1', 'fc00:0:201::200'];

/** An SRv6 flow over `segments` (unknown SIDs have no node or geo); a violation names the first segment in IT. */
export function srv6Flow(spec: { uuid?: string; segments?: string[]; fence?: string; verdict?: 'compliant' | 'violation'; hmac?: Srv6HmacStatus } = {}): Flow {
  const segments = spec.segments ?? SRV6_VIA_AUSTRIA;
  const off = spec.verdict === 'violation' ? segments.findIndex((s) => SRV6_NODES[s]?.[1] === 'IT') : -1;
  return Flow.fromPartial({
    ...flow({ uuid: spec.uuid, src: ['zurich', 'archive', 'backup'], dst: ['frankfurt', 'archive', 'backup'] }),
    scionPath: undefined,
    pathType: WanPathType.WAN_PATH_SRV6,
    srv6Path: {
      segments,
      source: 'fc00:0:101::1',
      tenantId: 200,
      tenant: 'archive',
      hmac: { status: spec.hmac ?? Srv6HmacStatus.SRV6_HMAC_VERIFIED, keyId: 1 },
      hops: segments.map((sid) => {
        const n = SRV6_NODES[sid];
        return n
          ? { sid, behavior: sid.endsWith('::200') ? 'End.DT4' : 'End', node: n[0], operator: 'Alpine Carrier', asn: 64600, country: n[1], geo: { latitude: n[2], longitude: n[3], address: `${n[0]} site` } }
          : { sid };
      }),
    },
    geofence: spec.fence
      ? {
        verdict: spec.verdict === 'violation' ? GeofenceVerdict.GEOFENCE_VIOLATION : GeofenceVerdict.GEOFENCE_COMPLIANT,
        name: spec.fence,
        namespace: 'archive',
        offendingHop: off >= 0 ? off : undefined,
        offendingSid: off >= 0 ? segments[off] : '',
        offendingCountry: off >= 0 ? 'IT' : '',
      }
      : undefined,
  });
}
