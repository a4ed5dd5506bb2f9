// The store's write side alone, on a realistic corpus: distinct UUIDs, 500 pods with
// Kubernetes label sets, 1000 SCION paths with geo and raw headers, a few geofences.
// Prints insertBatch's rate for 8192-flow batches (and with the rollup as a materialized
// view, as before, beside the once-a-minute rollup's cost),
// the engine's cost of the same block with plain String instead of LowCardinality
// columns, and the bytes on disk per flow after OPTIMIZE TABLE ... FINAL.
//   npx tsx bench/store_write.ts [flows, default 1048576]
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DropReason, Flow, GeofenceMode, Layer4, GeofenceVerdict, IdentityCheck, IPVersion, ScionObservationPoint, ScionPath,
  ScionPathType, TrafficDirection, Verdict, type Endpoint, type Geofence,
} from '../proto/gen/flow/flow';
import { openClickHouse } from '../relay/store/chdb';
import { flowBlock } from '../relay/store/flow_block';
import { STORED_FLOW_COLUMNS, SUSPICIOUS_LOW_CARDINALITY } from '../relay/store/flow_columns';
import { judgedFromFlows } from '../relay/store/from_flows';
import type { JudgedBatch } from '../relay/store/judged';
import { rollupStatement } from '../relay/store/schema';
import { openStore } from '../relay/store/store';
import { prng } from '../test/unit/relay/store/corpus';

const BATCH = 8192;
const TEMPLATES = 8;
const PODS = 500;
const PATHS = 1000;
/** Flow times advance as at 300k flows/s. */
const STEP_NS = 3333n;

const rnd = prng(16);
const int = (n: number) => Math.floor(rnd() * n);
const hex = (bytes: number) => Array.from({ length: bytes }, () => int(256).toString(16).padStart(2, '0')).join('');

function pods(): Endpoint[] {
  return Array.from({ length: PODS }, (_, i) => {
    const ns = `team-${i % 20}`;
    const app = `svc-${i % 100}`;
    return {
      ID: 1000 + i,
      identity: 20000 + (i % 100),
      clusterName: i % 3 === 0 ? 'zrh' : 'fra',
      namespace: ns,
      labels: [
        `k8s:app=${app}`, `k8s:io.kubernetes.pod.namespace=${ns}`, `k8s:pod-template-hash=${hex(5)}`,
        `k8s:io.cilium.k8s.policy.serviceaccount=${app}`, `k8s:version=v${1 + (i % 3)}`, `k8s:tier=${['web', 'api', 'db'][i % 3]}`,
      ],
      podName: `${app}-${hex(5)}-${hex(3)}`,
      workloads: [{ name: app, kind: 'Deployment' }],
    };
  });
}

const COUNTRIES = ['CH', 'DE', 'FR', 'NL', 'AT', 'IT', 'US', 'GB'];

function paths(): ScionPath[] {
  return Array.from({ length: PATHS }, (_, i) => {
    const n = 3 + int(4);
    const hops = Array.from({ length: n }, (_, k) => {
      const country = COUNTRIES[int(COUNTRIES.length)];
      return {
        isdAs: `${1 + int(3)}-ff00:0:${(100 + int(400)).toString(16)}`,
        ingressInterface: k === 0 ? 0 : 1 + int(60),
        egressInterface: k === n - 1 ? 0 : 1 + int(60),
        geo: { latitude: 40 + rnd() * 15, longitude: -5 + rnd() * 20, address: `${country} DC ${int(9)}` },
        country,
        latencyNs: BigInt(100_000 + int(20_000_000)),
      };
    });
    return ScionPath.fromPartial({
      srcIa: hops[0].isdAs,
      dstIa: hops[n - 1].isdAs,
      fingerprint: hex(32),
      hops,
      expiry: { seconds: BigInt(Math.floor(Date.now() / 1000) + 21600), nanos: 0 },
      mtu: 1472,
      type: ScionPathType.SCION_PATH_STANDARD,
      pathId: i + 1,
      latencyNs: hops.reduce((s, h) => s + h.latencyNs, 0n),
      knownToControlPlane: true,
      raw: Buffer.from(hex(24 + 12 * n), 'hex'),
    });
  });
}

function fenceOf(path: number, ns: string): Geofence | undefined {
  if (path % 4 === 3) return undefined;
  const verdict = path % 10 === 0 ? GeofenceVerdict.GEOFENCE_VIOLATION : path % 17 === 0 ? GeofenceVerdict.GEOFENCE_UNVERIFIED : GeofenceVerdict.GEOFENCE_COMPLIANT;
  return {
    verdict,
    name: ['eu-only', 'dach', 'no-us', 'ch-de', 'schengen'][path % 5],
    namespace: ns,
    mode: path % 2 === 0 ? GeofenceMode.GEOFENCE_ENFORCE : GeofenceMode.GEOFENCE_AUDIT,
    reason: verdict === GeofenceVerdict.GEOFENCE_VIOLATION ? 'hop 2 (2-ff00:0:1a0) is in US' : '',
    offendingHop: verdict === GeofenceVerdict.GEOFENCE_VIOLATION ? 2 : undefined,
    offendingIsdAs: verdict === GeofenceVerdict.GEOFENCE_VIOLATION ? '2-ff00:0:1a0' : '',
    offendingCountry: verdict === GeofenceVerdict.GEOFENCE_VIOLATION ? 'US' : '',
    offendingSid: '',
  };
}

export function templates(startNs: bigint): JudgedBatch[] {
  const eps = pods();
  const ps = paths();
  return Array.from({ length: TEMPLATES }, (_, t) => {
    const flows = Array.from({ length: BATCH }, (_, i) => {
      const s = int(PODS);
      const d = int(PODS);
      const p = int(PATHS);
      const ns = startNs + BigInt(t * BATCH + i) * STEP_NS + BigInt(int(1000));
      const packets = 1 + int(200);
      const bytes = packets * (60 + int(1400));
      const dropped = rnd() < 0.02;
      const tcp = rnd() < 0.8;
      return Flow.fromPartial({
        time: { seconds: ns / 1_000_000_000n, nanos: Number(ns % 1_000_000_000n) },
        uuid: '00000000-0000-4000-8000-000000000000',
        emitter: { name: 'cillion', version: '0.1.0' },
        verdict: dropped ? Verdict.DROPPED : Verdict.FORWARDED,
        dropReasonDesc: dropped ? DropReason.POLICY_DENIED : DropReason.DROP_REASON_UNKNOWN,
        IP: { source: `10.${s >> 8}.${s & 255}.${1 + (s % 200)}`, destination: `10.${d >> 8}.${d & 255}.${1 + (d % 200)}`, ipVersion: IPVersion.IPv4 },
        l4: tcp
          ? Layer4.fromPartial({ protocol: { $case: 'TCP', value: { sourcePort: 32768 + int(28000), destinationPort: [443, 8080, 5432, 6379][int(4)], flags: { ACK: true, PSH: rnd() < 0.5 } } } })
          : Layer4.fromPartial({ protocol: { $case: 'UDP', value: { sourcePort: 32768 + int(28000), destinationPort: 53 } } }),
        source: eps[s],
        destination: eps[d],
        Type: 1,
        nodeName: 'node-a',
        trafficDirection: TrafficDirection.EGRESS,
        isReply: rnd() < 0.5,
        interface: { index: 2, name: 'eth0' },
        scionPath: ps[p],
        geofence: fenceOf(p, eps[s].namespace),
        identityExtension: { identity: eps[s].identity, clusterName: eps[s].clusterName, optionType: 253, authenticated: true, check: IdentityCheck.IDENTITY_MATCHED },
        scionObservationPoint: ScionObservationPoint.SCION_EDGE_ENCAP,
        meter: {
          packets: BigInt(packets), bytes: BigInt(bytes), droppedPackets: dropped ? BigInt(packets) : 0n,
          podBytes: BigInt(bytes), wireBytes: BigInt(Math.round(bytes * 1.08)),
          firstSeen: { seconds: ns / 1_000_000_000n - 5n, nanos: 0 }, lastSeen: { seconds: ns / 1_000_000_000n, nanos: Number(ns % 1_000_000_000n) },
          dropReasonName: dropped ? 'POLICY_DENIED' : '', foldedReports: int(3),
        },
      });
    });
    return judgedFromFlows({ sessionId: 'bench', sequence: 0n, nodeName: 'node-a', flows });
  });
}

/** Batch k: a template with fresh UUIDs and times moved on by the batches before it. */
export function batchAt(tpl: JudgedBatch[], k: number): JudgedBatch {
  const t = tpl[k % TEMPLATES];
  randomFillSync(t.columns.bytes('uuid'));
  const shift = BigInt(Math.floor(k / TEMPLATES) * TEMPLATES * BATCH) * STEP_NS;
  for (const key of ['timeNs', 'firstSeenNs', 'lastSeenNs'] as const) {
    const col = t.columns.i64(key);
    const base = (t as unknown as { base?: Record<string, BigInt64Array> }).base ??= {};
    base[key] ??= col.slice();
    for (let i = 0; i < col.length; i++) col[i] = base[key][i] + shift;
  }
  return { ...t, sequence: BigInt(k + 1) };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en');

function cpuMs(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 1_048_576);
  const batches = Math.ceil(total / BATCH);
  const dir = mkdtempSync(join(tmpdir(), 'cillion-store-write-'));
  try {
    const tpl = templates(BigInt(Date.now() - 600_000) * 1_000_000n);
    const store = await openStore({ dataDir: join(dir, 'db') });
    // JavaScript alone: the block of one batch, in CPU time (the machine may be shared).
    const prepared = Array.from({ length: 20 }, (_, k) => batchAt(tpl, k));
    let c0 = process.cpuUsage();
    for (const b of prepared) flowBlock({ ...b, columns: b.columns }, 1);
    const blockMs = cpuMs(c0) / prepared.length;

    /** Flows per second of wall time and per second of this process's CPU time (all threads, chdb's included). */
    const run = async (from: number, to: number): Promise<{ wall: number; cpu: number }> => {
      let busy = 0;
      let cpu = 0;
      for (let k = from; k < to; k++) {
        const b = batchAt(tpl, k);
        const s = performance.now();
        const c = process.cpuUsage();
        await store.insertBatch(b);
        cpu += cpuMs(c);
        busy += performance.now() - s;
      }
      return { wall: ((to - from) * BATCH) / (busy / 1000), cpu: ((to - from) * BATCH) / (cpu / 1000) };
    };
    // The first batches write the dimension rows; the rate is taken after them.
    await run(0, TEMPLATES);
    const half = Math.floor(batches / 2);
    const plain = await run(TEMPLATES, half);
    // For comparison, the rollup as a materialized view (as before) into a copy of flows_1m.
    const admin = openClickHouse({ dataDir: join(dir, 'db') });
    const q = async <T>(sql: string) => (await (await admin.client.query({ query: sql, format: 'JSONEachRow' })).json<T>());
    const rollupSelect = rollupStatement('cillion', 0, 0, '').replace(/^INSERT INTO \S+ \n/, '').replace(/\nWHERE [^\n]*/, '');
    await admin.client.command({ query: 'CREATE TABLE cillion.flows_1m_probe AS cillion.flows_1m' });
    await admin.client.command({ query: `CREATE MATERIALIZED VIEW cillion.flows_1m_probe_mv TO cillion.flows_1m_probe AS ${rollupSelect}` });
    const withView = await run(half, batches);
    await admin.client.command({ query: 'DROP VIEW cillion.flows_1m_probe_mv' });
    await admin.client.command({ query: 'DROP TABLE cillion.flows_1m_probe' });
    // The rollup as the store runs it: every minute of arrivals, in CPU time per flow.
    const c1 = process.cpuUsage();
    await store.rollUp(new Date(Date.now() + 120_000));
    const rollupUs = (cpuMs(c1) * 1000) / (batches * BATCH);

    // The engine's part, LowCardinality columns as written vs plain String cast by the insert.
    const lcFile = '/dev/shm/cillion-bench-lc.native';
    const strFile = '/dev/shm/cillion-bench-str.native';
    writeFileSync(lcFile, flowBlock(batchAt(tpl, 0), 1));
    const asString = STORED_FLOW_COLUMNS.map((c) => (c.type === 'LowCardinality(String)' ? `CAST(${c.name} AS String) AS ${c.name}` : c.name)).join(', ');
    await admin.client.command({ query: `INSERT INTO FUNCTION file('${strFile}', 'Native') SELECT ${asString} FROM file('${lcFile}', 'Native') SETTINGS engine_file_truncate_on_insert = 1` });
    await admin.client.command({ query: `CREATE TABLE cillion.flows_probe AS cillion.flows SETTINGS ${SUSPICIOUS_LOW_CARDINALITY}` });
    const engineMs = async (file: string) => {
      const times: number[] = [];
      for (let i = 0; i < 7; i++) {
        const c = process.cpuUsage();
        await admin.client.command({ query: `INSERT INTO cillion.flows_probe SELECT * FROM file('${file}', 'Native')` });
        times.push(cpuMs(c));
      }
      return times.sort((a, b) => a - b)[3];
    };
    const lcMs = await engineMs(lcFile);
    const strMs = await engineMs(strFile);
    await admin.client.command({ query: 'DROP TABLE cillion.flows_probe' });
    rmSync(lcFile);
    rmSync(strFile);

    const tables = ['flows', 'workloads', 'path_headers', 'paths', 'flows_1m', 'batch_marks'];
    const t0 = performance.now();
    for (const t of tables) await admin.client.command({ query: `OPTIMIZE TABLE cillion.${t} FINAL` });
    const optimizeS = (performance.now() - t0) / 1000;
    const [{ n }] = await q<{ n: string }>('SELECT toString(count()) AS n FROM cillion.flows');
    const flows = Number(n);
    const parts = await q<{ table: string; bytes: string; rows: string }>(`SELECT table, toString(sum(bytes_on_disk)) AS bytes, toString(sum(rows)) AS rows
      FROM system.parts WHERE database = 'cillion' AND active GROUP BY table ORDER BY table`);
    const cols = await q<{ name: string; bytes: string }>(`SELECT name, toString(data_compressed_bytes) AS bytes FROM system.columns
      WHERE database = 'cillion' AND table = 'flows' ORDER BY data_compressed_bytes DESC LIMIT 12`);
    await admin.close();
    await store.close();

    const all = parts.reduce((s, p) => s + Number(p.bytes), 0);
    console.log(`flows stored: ${fmt(flows)} in ${batches} batches of ${BATCH} (${PODS} pods, ${PATHS} paths, distinct UUIDs)`);
    console.log(`insertBatch: ${fmt(plain.wall)} flows/s (${fmt(plain.cpu)} per CPU-second); with the rollup as a materialized view as before: ${fmt(withView.wall)} flows/s (${fmt(withView.cpu)} per CPU-second)`);
    console.log(`rollup once a minute instead: ${rollupUs.toFixed(2)} µs CPU per flow`);
    console.log(`  of which JavaScript builds the Native block: ${blockMs.toFixed(1)} ms CPU per batch (${fmt(BATCH / (blockMs / 1000))} flows per CPU-second)`);
    console.log(`engine insert of one batch's block (no view, CPU ms, median of 7): LowCardinality ${lcMs.toFixed(1)} ms, plain String cast on insert ${strMs.toFixed(1)} ms`);
    console.log(`on disk after OPTIMIZE FINAL (${optimizeS.toFixed(1)} s): ${(all / flows).toFixed(1)} B/flow in all`);
    for (const p of parts) console.log(`  ${p.table}: ${fmt(Number(p.bytes))} B, ${fmt(Number(p.rows))} rows, ${(Number(p.bytes) / flows).toFixed(2)} B/flow`);
    console.log(`largest flows columns: ${cols.map((c) => `${c.name} ${(Number(c.bytes) / flows).toFixed(2)}`).join(', ')} (B/flow)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
