// The collector part of npm run bench (bench/run.ts): ring records decoded and metered into
// the flow table on one core, against a loop that only walks the same preallocated batch
// buffers (the least any consumer of drained batches must do). Records are built in the
// real cil_packet_record layout, so no root or kernel is needed; the addon's own drain rate
// from the real ring is the datapath part's "ring consumer" row.
import { decodeBatch } from '../bpf/records';
import { enrich, WorkloadEndpoints } from '../collector/enrich';
import { ControlPlaneCatalog } from '../paths/catalog';
import { toFlow } from '../collector/flow';
import { FlowTable, type MeteredFlow } from '../collector/flowtable';
import { Flow } from '../proto/gen/flow/flow';
import { RECORD_BYTES, writeRecord, type RecordSpec } from '../test/unit/collector/records';
import { fmt, type Result } from './report';

const FLOWS = 10_000;
const TARGET_RECORDS_PER_S = 2_000_000;
const PER_BATCH = 256;
const BATCHES = 64;

/** A path of 2 info fields and 5 hop fields, varied per flow so the path bytes hash differently. */
function pathBytes(i: number): Uint8Array {
  const b = Buffer.alloc(4 + 2 * 8 + 5 * 12);
  b.writeUInt32BE((2 << 12) | (3 << 6) | 2, 0);
  b.writeUInt32BE(i, 8);
  for (let h = 0; h < 5; h++) b.writeUInt16BE(h + 1, 20 + 12 * h + 2);
  return b;
}

// 80% egress records naming their path by id, 20% ingress records keyed by path bytes.
function spec(flow: number, n: number): RecordSpec {
  const egress = flow % 5 !== 0;
  return {
    tsNs: 1_000_000_000n + BigInt(n) * 500n,
    direction: egress ? 1 : 2,
    ifindex: 3,
    identity: 256 + (flow % 50),
    srcIA: 0x0001ff0000000110n,
    dstIA: 0x0002ff0000000220n,
    inner: { proto: 6, src: `10.0.${(flow >> 8) & 0xff}.${flow & 0xff}`, dst: '10.9.0.1', sport: 10000 + (flow % 50000), dport: 443, tcpFlags: 0x10 },
    pathId: egress ? 1 + (flow % 8) : 0,
    path: pathBytes(egress ? flow % 8 : flow % 64),
    podLen: 1400,
  };
}

/** Each rate measured for `seconds` on one core (this thread). */
export function collectorBench(seconds = 2): Result {
  const batches: Buffer[] = [];
  let n = 0;
  for (let b = 0; b < BATCHES; b++) {
    const buf = Buffer.alloc(PER_BATCH * (4 + RECORD_BYTES));
    let off = 0;
    for (let i = 0; i < PER_BATCH; i++, n++) off += writeRecord(buf, off, spec((n * 7919) % FLOWS, n));
    batches.push(buf.subarray(0, off));
  }
  const batchBytes = batches[0].length;

  function rate(fn: (buf: Buffer) => void): number {
    const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
    for (let i = 0; i < BATCHES * 4; i++) fn(batches[i % BATCHES]);
    let records = 0;
    const start = process.hrtime.bigint();
    let i = 0;
    while (process.hrtime.bigint() < deadline) {
      for (let j = 0; j < 16; j++, i++) fn(batches[i % BATCHES]);
      records += 16 * PER_BATCH;
    }
    return records / (Number(process.hrtime.bigint() - start) / 1e9);
  }

  let sink = 0;
  const drain = rate((buf) => {
    let off = 0;
    while (off + 4 <= batchBytes) {
      const len = buf.readUInt32LE(off);
      sink += buf[off + 4];
      off += 4 + ((len + 7) & ~7);
    }
  });
  const decoded = rate((buf) => {
    sink += decodeBatch(buf, batchBytes).length;
  });
  let emitted = 0;
  const table = new FlowTable({ maxEntries: FLOWS * 2, idleTimeoutMs: 60_000, activeTimeoutMs: 60_000 }, () => emitted++);
  const metered = rate((buf) => table.ingestBatch(buf, batchBytes));
  const small = new FlowTable({ maxEntries: Math.max(1, FLOWS >> 2), idleTimeoutMs: 60_000, activeTimeoutMs: 60_000 }, () => emitted++);
  const evicting = rate((buf) => small.ingestBatch(buf, batchBytes));

  // What each reported flow costs after metering: enrichment, flow.Flow, protobuf encoding.
  const reports: MeteredFlow[] = [];
  const sample = new FlowTable({ maxEntries: 4096, idleTimeoutMs: 60_000, activeTimeoutMs: 60_000 }, (f) => reports.push(f));
  for (const b of batches) sample.ingestBatch(b, b.length);
  sample.flush();
  const endpoints = new WorkloadEndpoints('bench', () => 300);
  endpoints.update(Array.from({ length: 256 }, (_, i) => ({ name: `pod-${i}`, namespace: 'bench', labels: { app: `a${i % 10}` }, namespaceLabels: {}, ip: `10.0.0.${i}`, node: 'n1' })));
  const catalog = new ControlPlaneCatalog();
  const ctx = { nodeName: 'n1', clusterName: 'bench', realtimeOffsetNs: 0n };
  const convert = () => {
    const start = process.hrtime.bigint();
    let n = 0;
    while (process.hrtime.bigint() - start < BigInt(Math.round(seconds * 1e9))) {
      for (const m of reports) sink += Flow.encode(toFlow(m, enrich(m, endpoints, catalog), ctx)).finish().length;
      n += reports.length;
    }
    return n / (Number(process.hrtime.bigint() - start) / 1e9);
  };
  const flowsPerSecond = convert();
  if (table.stats().decodeErrors + small.stats().decodeErrors > 0) throw new Error('synthetic records failed to decode');
  // Reading the sinks keeps the measured loops from being optimised away.
  if (sink < 0 || emitted < 0) throw new Error('impossible counts');
  return {
    what: 'collector, one core: decode + aggregate into the flow table vs raw drain (walking the same preallocated batch buffers)',
    figures: `${fmt(metered / 1e6, 2)} M records/s vs ${fmt(drain / 1e6, 2)} M/s; table at 1/4 size (evicting) ${fmt(evicting / 1e6, 2)} M/s; decodeBatch (object per record) ${fmt(decoded / 1e6, 2)} M/s; reported flows converted (enrich + Flow + encode) ${fmt(flowsPerSecond / 1e3)} k/s`,
    ratio: `${fmt(metered / drain, 3)} of drain; ${fmt(metered / TARGET_RECORDS_PER_S, 2)}x target`,
    target: 'at least 2 M records/s',
    met: metered >= TARGET_RECORDS_PER_S,
  };
}
