// The column codec alone, on one core: encode as a collector does (batches cut at the
// exporter's byte bound), the wire bytes per flow, and the relay's view and rebuild of every
// flow. Run: npx tsx bench/columns.ts [flows]
import { randomUUID } from 'node:crypto';
import type { EndpointInfo } from '../identity/endpoint';
import { toFlow, type NodeContext } from '../collector/flow';
import type { MeteredFlow } from '../collector/flowtable';
import { ColumnEncoder } from '../columns/encode';
import { flowAt } from '../columns/rebuild';
import { viewColumns } from '../columns/view';
import { FlowColumns } from '../proto/gen/export/v1/export';
import { Flow, ScionPathType, type ScionPath } from '../proto/gen/flow/flow';

const N = Number(process.argv[2] ?? 300_000);
const BATCH = 4096;
const MAX_BYTES = 1024 * 1024;

const ctx: NodeContext = { nodeName: 'zurich-n1', clusterName: 'zurich', realtimeOffsetNs: 1_700_000_000_000_000_000n, interfaceName: () => 'eth0' };

const pods: EndpointInfo[] = Array.from({ length: 500 }, (_, i) => ({
  identity: 1000 + i,
  podName: `app${i % 50}-${i.toString(36)}-x7k2p`,
  namespace: `team-${i % 20}`,
  clusterName: 'zurich',
  labels: [
    `k8s:app=app${i % 50}`,
    `k8s:io.kubernetes.pod.namespace=team-${i % 20}`,
    `k8s:io.cilium.k8s.policy.serviceaccount=sa-${i % 50}`,
    `k8s:version=v${i % 3}`,
    `k8s:tier=${['web', 'api', 'db'][i % 3]}`,
    `k8s:pod-template-hash=${(i * 7919).toString(16)}`,
  ],
}));

const paths: ScionPath[] = Array.from({ length: 1000 }, (_, n) => ({
  srcIa: '64-2:0:20',
  dstIa: `65-2:0:${n % 40}`,
  fingerprint: (n * 2654435761).toString(16).padStart(64, '0'),
  hops: Array.from({ length: 3 + (n % 3) }, (_, h) => ({
    isdAs: `6${h % 2}-2:0:${h * 10 + (n % 7)}`,
    ingressInterface: h === 0 ? 0 : h + 1,
    egressInterface: h === 2 + (n % 3) ? 0 : (n % 9) + 1,
    geo: { latitude: 47 + h, longitude: 8 + h, address: '' },
    country: ['CH', 'DE', 'FR', 'AT'][h % 4],
    latencyNs: 1_000_000n * BigInt(h + 1),
  })),
  expiry: { seconds: 1_700_021_600n, nanos: 0 },
  mtu: 1472,
  type: ScionPathType.SCION_PATH_STANDARD,
  pathId: n + 1,
  latencyNs: 6_000_000n,
  knownToControlPlane: true,
  raw: Buffer.alloc(0),
}));
const raws = paths.map((_, n) => Buffer.from(Array.from({ length: 4 + 16 + 12 * (3 + (n % 3)) }, (_, k) => (k * 31 + n) & 0xff)));

function flow(i: number): Flow {
  const path = paths[i % paths.length];
  const m = {
    ifindex: 4, direction: i % 2 ? 'EGRESS_ENCAP' : 'INGRESS_DECAP', inner: { proto: i % 5 ? 6 : 17, srcAddr: `10.1.${i % 250}.${i % 200}`, dstAddr: `10.2.${i % 13}.9`, srcPort: 30000 + (i % 30000), dstPort: 443 },
    identity: 1000 + (i % 500), srcIA: 1n, dstIA: 2n, pathType: 1, pathId: path.pathId, path: raws[i % raws.length], pathTruncated: false, ingressIfid: 0, egressIfid: 1,
    firstNs: 5e9 + i, lastNs: 6e9 + i * 1000, packets: 1 + (i % 100), bytes: 1500 * (1 + (i % 100)), podBytes: 1514 * (1 + (i % 100)), wireBytes: 1600 * (1 + (i % 100)),
    foldedReports: 0, lostPackets: 0, lostBytes: 0, dropped: i % 50 === 0 ? 1 : 0, tcpFlags: 0x18, firstTcpFlags: 0x02, dropReasons: 0, lastDropReason: i % 50 === 0 ? 14 : 0, lastDropPolicyId: 0, start: true, end: 'idle',
  } as MeteredFlow;
  const f = toFlow(m, { source: pods[i % 500], destination: pods[(i * 7) % 500], path: { ...path, raw: Buffer.from(raws[i % raws.length]) } }, ctx);
  f.uuid = randomUUID();
  return f;
}

const rate = (n: number, ms: number): string => `${Math.round((n / ms) * 1000).toLocaleString('en')} flows/s`;

/** CPU time of this process in ms: on a machine others share, wall time says more about them than about the code. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Flows come and go as at a collector: made a chunk at a time, only their encoding timed. */
function encodeAll(enc: ColumnEncoder, n: number): { batches: FlowColumns[]; ms: number; protoBytes: number } {
  const batches: FlowColumns[] = [];
  let ms = 0;
  let protoBytes = 0;
  for (let at = 0; at < n; at += 1024) {
    const flows = Array.from({ length: Math.min(1024, n - at) }, (_, k) => flow(at + k));
    protoBytes += Flow.encode(flows[0]).finish().length * flows.length;
    const t = cpuMs();
    for (const f of flows) {
      let r = enc.add(f, MAX_BYTES);
      if (r === 'full') {
        batches.push(enc.finish());
        r = enc.add(f, MAX_BYTES);
      }
      if (r !== 'added') throw new Error(`refused: ${JSON.stringify(r)}`);
    }
    ms += cpuMs() - t;
  }
  if (enc.count > 0) batches.push(enc.finish());
  return { batches, ms, protoBytes: protoBytes / n };
}

function main(): void {
  const enc = new ColumnEncoder(BATCH);
  encodeAll(enc, Math.min(N, 50_000));
  const { batches, ms: encodeMs, protoBytes } = encodeAll(enc, N);

  // What the exporter did per flow before columns, twice (to size the batch, then to send it).
  const sample = Array.from({ length: 20_000 }, (_, i) => flow(i));
  let t = cpuMs();
  for (const f of sample) Flow.encode(f).finish();
  const flowEncodeMs = cpuMs() - t;

  t = cpuMs();
  const wire = batches.map((b) => FlowColumns.encode(b).finish());
  const wireMs = cpuMs() - t;
  const wireBytes = wire.reduce((s, w) => s + w.length, 0);
  batches.length = 0;

  t = cpuMs();
  const views = wire.map((w) => viewColumns(FlowColumns.decode(w), { maxFlows: BATCH }));
  const viewMs = cpuMs() - t;

  let sink = 0;
  const rebuild = (): void => {
    for (const v of views) for (let i = 0; i < v.count; i++) sink += flowAt(v, i, { nodeName: 'zurich-n1' }).meter!.foldedReports;
  };
  rebuild();
  t = cpuMs();
  rebuild();
  const rebuildMs = cpuMs() - t;

  console.log('rates per CPU second of this process (process.cpuUsage)');
  console.log(`${N} realistic flows (500 pods, 1000 paths, distinct uuids), batches of up to ${BATCH} flows and ${MAX_BYTES} bytes: ${wire.length} batches`);
  console.log(`encode (ColumnEncoder.add):   ${rate(N, encodeMs)}`);
  console.log(`FlowColumns.encode to wire:   ${rate(N, wireMs)}`);
  console.log(`for reference, Flow.encode:   ${rate(sample.length, flowEncodeMs)} (per flow, as the exporter did twice before)`);
  console.log(`wire: ${(wireBytes / N).toFixed(1)} B/flow as columns, ${protoBytes.toFixed(1)} B/flow as Flow messages`);
  console.log(`decode + viewColumns:         ${rate(N, viewMs)}`);
  console.log(`flowAt (rebuild flow.Flow):   ${rate(N, rebuildMs)}${sink < 0 ? '' : ''}`);
}

main();
