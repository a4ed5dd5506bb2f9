// A deterministic corpus of varied flows for the store tests and the store bench: several
// namespaces, apps, nodes, protocols, verdicts, SCION and SRv6 paths with geo, geofence
// results and identity extensions, plus flows without a path.
import ipaddr from 'ipaddr.js';
import {
  Flow, Layer4, GeofenceMode, GeofenceVerdict, IdentityCheck, IPVersion, ScionObservationPoint, ScionPath,
  ScionPathType, Srv6HmacStatus, Srv6Path, TrafficDirection, Verdict, WanPathType, DropReason,
} from '../../../../proto/gen/flow/flow';
import { segmentsFingerprint } from '../../../../srv6/fingerprint';

/** Small, seedable PRNG (mulberry32) so every run builds the same corpus. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMESPACES = ['shop', 'payments', 'kube-system'];
const APPS = ['frontend', 'checkout', 'ledger', 'coredns'];
const NODES = ['node-a', 'node-b', 'node-c'];

interface HopSpec {
  ia: string;
  country: string;
  lat?: number;
  lon?: number;
}

const PATHS: { fp: string; hops: HopSpec[]; known: boolean }[] = [
  {
    fp: 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90',
    hops: [
      { ia: '1-ff00:0:110', country: 'CH', lat: 47.37, lon: 8.54 },
      { ia: '1-ff00:0:120', country: 'DE', lat: 50.11, lon: 8.68 },
      { ia: '2-ff00:0:210', country: 'DE', lat: 52.52, lon: 13.4 },
    ],
    known: true,
  },
  {
    fp: 'b7e2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90',
    hops: [
      { ia: '1-ff00:0:110', country: 'CH', lat: 47.37, lon: 8.54 },
      { ia: '3-ff00:0:310', country: 'US', lat: 40.71, lon: -74.0 },
      { ia: '2-ff00:0:210', country: 'DE', lat: 52.52, lon: 13.4 },
    ],
    known: true,
  },
  {
    fp: 'c0ffee0000000000000000000000000000000000000000000000000000000001',
    hops: [
      { ia: '1-ff00:0:111', country: 'CH', lat: 46.2, lon: 6.14 },
      { ia: '1-64512', country: '' },
    ],
    known: false,
  },
];

function scionPath(i: number): ScionPath {
  const spec = PATHS[i];
  const hops = spec.hops.map((h, k) => ({
    isdAs: h.ia,
    ingressInterface: k === 0 ? 0 : 10 + k,
    egressInterface: k === spec.hops.length - 1 ? 0 : 20 + k,
    geo: h.lat === undefined ? undefined : { latitude: h.lat, longitude: h.lon ?? 0, address: `${h.country} DC` },
    country: h.country,
    latencyNs: spec.known ? BigInt(1_000_000 * (k + 1)) : undefined,
  }));
  return ScionPath.fromPartial({
    srcIa: spec.hops[0].ia,
    dstIa: spec.hops[spec.hops.length - 1].ia,
    fingerprint: spec.fp,
    hops,
    expiry: { seconds: 1_800_000_000n, nanos: 0 },
    mtu: 1472,
    type: ScionPathType.SCION_PATH_STANDARD,
    pathId: i + 1,
    latencyNs: spec.known ? BigInt(1_000_000 * hops.length) : undefined,
    knownToControlPlane: spec.known,
  });
}

/** SRv6 segment lists as a relay rebuilds them: one through Switzerland and Germany, one by way of Italy and Austria. */
const SRV6: { hops: [sid: string, node: string, country: string, behavior: string][]; tenant: [number, string]; hmac: Srv6HmacStatus }[] = [
  {
    hops: [['fc00:0:1::1', 'pe-zurich', 'CH', 'End'], ['fc00:0:4::1', 'pe-frankfurt', 'DE', 'End'], ['fc00:0:201::100', 'fra-node-1', 'DE', 'End.DT4']],
    tenant: [100, 'voice'],
    hmac: Srv6HmacStatus.SRV6_HMAC_ABSENT,
  },
  {
    hops: [
      ['fc00:0:1::1', 'pe-zurich', 'CH', 'End'], ['fc00:0:2::1', 'p-milan', 'IT', 'End'], ['fc00:0:3::1', 'p-vienna', 'AT', 'End'],
      ['fc00:0:4::1', 'pe-frankfurt', '', 'End'], ['fc00:0:202::200', 'fra-node-2', 'DE', 'End.DT4'],
    ],
    tenant: [200, 'archive'],
    hmac: Srv6HmacStatus.SRV6_HMAC_VERIFIED,
  },
];

export function srv6Path(i: number, segmentsLeft = 0): Srv6Path {
  const spec = SRV6[i];
  const n = spec.hops.length;
  // The SRH as carried: segments in SRH order (the last segment first), as the relay would decode them.
  const raw = Buffer.alloc(8 + 16 * n);
  raw.writeUInt8(4, 0);
  raw.writeUInt8(2 * n, 1);
  raw.writeUInt8(4, 2);
  raw.writeUInt8(segmentsLeft, 3);
  raw.writeUInt8(n - 1, 4);
  spec.hops.forEach(([sid], k) => raw.set(ipaddr.IPv6.parse(sid).toByteArray(), 8 + 16 * (n - 1 - k)));
  return Srv6Path.fromPartial({
    segments: spec.hops.map(([sid]) => sid),
    segmentsLeft,
    source: 'fc00:0:101::1',
    tenantId: spec.tenant[0],
    tenant: spec.tenant[1],
    hops: spec.hops.map(([sid, node, country, behavior], k) => ({
      sid, behavior, node, operator: `${node} operator`, asn: 64600 + k, locator: `${sid.split('::')[0]}::/48`, country,
      geo: country === '' ? undefined : { latitude: 45 + k, longitude: 8 + k, address: `${node} PoP` },
      latencyNs: k === n - 1 ? undefined : BigInt(2_000_000 + k),
    })),
    fingerprint: segmentsFingerprint(spec.hops.map(([sid]) => Uint8Array.from(ipaddr.IPv6.parse(sid).toByteArray()))),
    knownToCatalogue: true,
    hmac: { status: spec.hmac, keyId: spec.hmac === Srv6HmacStatus.SRV6_HMAC_VERIFIED ? 1 : 0 },
    raw,
    pathId: i + 1,
    latencyNs: BigInt(3_000_000 * n),
  });
}

/**
 * Where a corpus starts unless told: two hours ago on a whole minute, fixed for the process.
 * Relative to now, since the rollup keeps its minutes for a TTL counted from the flows' own
 * time: a fixed date ages out of it, and the tests reading the rollup then find it empty.
 */
export const CORPUS_START_MS = Math.floor((Date.now() - 2 * 3_600_000) / 60_000) * 60_000;

/** `n` flows, one per millisecond-ish step from `startMs`, all fields the relay sets. */
export function makeCorpus(n: number, seed = 1, startMs = CORPUS_START_MS): Flow[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const flows: Flow[] = [];
  for (let i = 0; i < n; i++) {
    const ns = pick(NAMESPACES);
    const app = pick(APPS);
    const dns = pick(NAMESPACES);
    const dapp = pick(APPS);
    const pathIdx = rnd() < 0.1 ? -1 : Math.floor(rnd() * PATHS.length);
    const proto = pick(['TCP', 'UDP', 'ICMPv4'] as const);
    const v6 = rnd() < 0.2;
    const sport = 30000 + Math.floor(rnd() * 1000);
    const dport = pick([53, 80, 443, 8080]);
    const verdict = rnd() < 0.15 ? Verdict.DROPPED : Verdict.FORWARDED;
    const ms = startMs + i * 7 + Math.floor(rnd() * 5);
    // Half the flows without a SCION path took an SRv6 one (by i, so the draws stay as they were).
    const srv6Idx = pathIdx < 0 && i % 2 === 0 ? (i >> 1) % SRV6.length : -1;
    const fence = pathIdx < 0 ? srv6Fence(srv6Idx, ns) : {
      verdict: pathIdx === 1 ? GeofenceVerdict.GEOFENCE_VIOLATION
        : pathIdx === 2 ? GeofenceVerdict.GEOFENCE_UNVERIFIED : GeofenceVerdict.GEOFENCE_COMPLIANT,
      name: pick(['eu-only', 'dach']),
      namespace: ns,
      mode: pick([GeofenceMode.GEOFENCE_ENFORCE, GeofenceMode.GEOFENCE_AUDIT]),
      reason: pathIdx === 1 ? 'hop 1 (3-ff00:0:310) is in US' : '',
      offendingHop: pathIdx === 1 ? 1 : undefined,
      offendingIsdAs: pathIdx === 1 ? '3-ff00:0:310' : '',
      offendingCountry: pathIdx === 1 ? 'US' : '',
      offendingSid: '',
    };
    const l4 = proto === 'TCP'
      ? Layer4.fromPartial({ protocol: { $case: 'TCP', value: { sourcePort: sport, destinationPort: dport, flags: { SYN: rnd() < 0.5, ACK: true } } } })
      : proto === 'UDP'
        ? Layer4.fromPartial({ protocol: { $case: 'UDP', value: { sourcePort: sport, destinationPort: dport } } })
        : Layer4.fromPartial({ protocol: { $case: 'ICMPv4', value: { type: 8, code: 0 } } });
    flows.push(Flow.fromPartial({
      time: { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 + (i % 1000) * 997 },
      uuid: `00000000-0000-4000-8000-${(seed * 1_000_000 + i).toString(16).padStart(12, '0')}`,
      verdict,
      dropReasonDesc: verdict === Verdict.DROPPED ? DropReason.POLICY_DENIED : DropReason.DROP_REASON_UNKNOWN,
      IP: {
        source: v6 ? `fd00::${(i % 250) + 1}` : `10.0.${i % 4}.${(i % 250) + 1}`,
        destination: v6 ? `fd00::1:${(i % 7) + 1}` : `10.1.${i % 3}.${(i % 7) + 1}`,
        ipVersion: v6 ? IPVersion.IPv6 : IPVersion.IPv4,
      },
      l4,
      source: {
        ID: 100 + (i % 5),
        identity: 1000 + NAMESPACES.indexOf(ns) * 10 + APPS.indexOf(app),
        clusterName: 'alpha',
        namespace: ns,
        labels: [`k8s:app=${app}`, `k8s:io.kubernetes.pod.namespace=${ns}`, ...(rnd() < 0.5 ? ['k8s:tier=web'] : [])],
        podName: `${app}-${Math.floor(rnd() * 3)}`,
        workloads: [{ name: app, kind: 'Deployment' }],
      },
      destination: {
        identity: 1000 + NAMESPACES.indexOf(dns) * 10 + APPS.indexOf(dapp),
        clusterName: pick(['alpha', 'beta']),
        namespace: dns,
        labels: [`k8s:app.kubernetes.io/name=${dapp}`, `k8s:io.kubernetes.pod.namespace=${dns}`],
        podName: `${dapp}-${Math.floor(rnd() * 3)}`,
      },
      Type: 1,
      nodeName: pick(NODES),
      trafficDirection: pick([TrafficDirection.EGRESS, TrafficDirection.INGRESS]),
      ...reply(rnd() < 0.5),
      scionPath: pathIdx < 0 ? undefined : scionPath(pathIdx),
      pathType: pathIdx >= 0 ? WanPathType.WAN_PATH_SCION : srv6Idx >= 0 ? WanPathType.WAN_PATH_SRV6 : WanPathType.WAN_PATH_TYPE_UNKNOWN,
      srv6Path: srv6Idx < 0 ? undefined : srv6Path(srv6Idx, i % 3),
      geofence: fence,
      identityExtension: pathIdx < 0 ? undefined : {
        identity: 1000 + APPS.indexOf(app),
        clusterName: 'alpha',
        optionType: 253,
        authenticated: rnd() < 0.5,
        check: pick([IdentityCheck.IDENTITY_MATCHED, IdentityCheck.IDENTITY_MISMATCHED]),
      },
      scionObservationPoint: pick([ScionObservationPoint.SCION_EDGE_ENCAP, ScionObservationPoint.SCION_EDGE_DECAP]),
      meter: {
        packets: BigInt(1 + (i % 40)),
        bytes: BigInt((1 + (i % 40)) * (100 + (i % 13) * 97)),
        droppedPackets: verdict === Verdict.DROPPED ? 1n : 0n,
        dropReasonName: verdict === Verdict.DROPPED ? 'INGRESS_DENIED' : '',
      },
    }));
  }
  return flows;
}

/** An SRv6 flow's verdict: the list through Italy breaks a DACH fence at its Milan segment. */
function srv6Fence(srv6Idx: number, ns: string) {
  if (srv6Idx < 0) return undefined;
  const violation = srv6Idx === 1;
  return {
    verdict: violation ? GeofenceVerdict.GEOFENCE_VIOLATION : GeofenceVerdict.GEOFENCE_COMPLIANT,
    name: 'dach',
    namespace: ns,
    mode: GeofenceMode.GEOFENCE_AUDIT,
    reason: violation ? 'segment 1 (fc00:0:2::1, p-milan) is in IT' : '',
    offendingHop: violation ? 1 : undefined,
    offendingIsdAs: '',
    offendingCountry: violation ? 'IT' : '',
    offendingSid: violation ? 'fc00:0:2::1' : '',
  };
}

/** Hubble's is_reply with its deprecated twin, as a collector sets both. */
function reply(isReply: boolean): Pick<Flow, 'isReply' | 'reply'> {
  return { isReply, reply: isReply };
}
