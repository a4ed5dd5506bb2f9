// Collector throughput on one core: ring records metered into the flow table, against a
// loop that only walks the same batches (the least any consumer must do) and against
// decodeBatch (one object per record). Records are built in the real cil_packet_record
// layout. Run: npx tsx bench/collector.ts [--flows N] [--seconds S]
import { decodeBatch } from '../bpf/records';
import { ControlPlaneCatalog, enrich, WorkloadEndpoints } from '../collector/enrich';
import { toFlow } from '../collector/flow';
import { FlowTable, type MeteredFlow } from '../collector/flowtable';
import { Flow } from '../proto/gen/flow/flow';
import { RECORD_BYTES, writeRecord, type RecordSpec } from '../test/unit/collector/records';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const FLOWS = arg('flows', 10_000);
const SECONDS = arg('seconds', 2);
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
    pktLen: 1400,
  };
}

const batches: Buffer[] = [];
let n = 0;
for (let b = 0; b < BATCHES; b++) {
  const buf = Buffer.alloc(PER_BATCH * (4 + RECORD_BYTES));
  let off = 0;
  for (let i = 0; i < PER_BATCH; i++, n++) off += writeRecord(buf, off, spec((n * 7919) % FLOWS, n));
  batches.push(buf.subarray(0, off));
}
const batchBytes = batches[0].length;

function rate(name: string, fn: (buf: Buffer) => void): number {
  const deadline = process.hrtime.bigint() + BigInt(SECONDS * 1e9);
  for (let i = 0; i < BATCHES * 4; i++) fn(batches[i % BATCHES]);
  let records = 0;
  const start = process.hrtime.bigint();
  let i = 0;
  while (process.hrtime.bigint() < deadline) {
    for (let j = 0; j < 16; j++, i++) fn(batches[i % BATCHES]);
    records += 16 * PER_BATCH;
  }
  const perSecond = records / (Number(process.hrtime.bigint() - start) / 1e9);
  console.log(`${name.padEnd(34)} ${(perSecond / 1e6).toFixed(2)} M records/s`);
  return perSecond;
}

let sink = 0;
const drain = rate('drain only (walk length prefixes)', (buf) => {
  let off = 0;
  while (off + 4 <= batchBytes) {
    const len = buf.readUInt32LE(off);
    sink += buf[off + 4];
    off += 4 + ((len + 7) & ~7);
  }
});
const decoded = rate('decodeBatch (object per record)', (buf) => {
  sink += decodeBatch(buf, batchBytes).length;
});
let emitted = 0;
const table = new FlowTable({ maxEntries: FLOWS * 2, idleTimeoutMs: 60_000, activeTimeoutMs: 60_000 }, () => emitted++);
const metered = rate('flow table (decode + aggregate)', (buf) => table.ingestBatch(buf, batchBytes));
const small = new FlowTable({ maxEntries: Math.max(1, FLOWS >> 2), idleTimeoutMs: 60_000, activeTimeoutMs: 60_000 }, () => emitted++);
const evicting = rate('flow table, 1/4 size (evicting)', (buf) => small.ingestBatch(buf, batchBytes));

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
  let bytes = 0;
  while (process.hrtime.bigint() - start < BigInt(SECONDS * 1e9)) {
    for (const m of reports) bytes += Flow.encode(toFlow(m, enrich(m, endpoints, catalog), ctx)).finish().length;
    n += reports.length;
  }
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
};
const flowsPerSecond = convert();
console.log(`${'flow conversion (enrich+Flow+encode)'.padEnd(34)} ${(flowsPerSecond / 1e3).toFixed(0)} k flows/s`);

if (table.stats().decodeErrors + small.stats().decodeErrors > 0) throw new Error('synthetic records failed to decode');
console.log(`\n${FLOWS} flows, ${PER_BATCH} records per batch; entries ${table.stats().entries}, evictions in the small table ${small.stats().evictions}`);
console.log(`flow table / drain only:  ${(metered / drain).toFixed(3)}`);
console.log(`flow table / decodeBatch: ${(metered / decoded).toFixed(2)}`);
console.log(`evicting / flow table:    ${(evicting / metered).toFixed(2)}`);
console.log(`records per reported flow the converter keeps up with at the metered rate: ${(metered / flowsPerSecond).toFixed(1)}`);
console.log(`target 2 M records/s: ${metered >= 2e6 ? 'met' : 'not met'} (${(metered / 2e6).toFixed(2)}x)`);
if (sink < 0) console.log(sink, emitted);
