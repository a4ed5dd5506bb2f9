// Flow store benchmark (embedded chdb). Prints, each measured in this run:
//   1. flows/s stored through insertBatch, one collector session and several at once,
//      against the relay's target of 300,000 flows/s, against building the same rows in
//      JavaScript without storing them, and against ClickHouse inserting rows built
//      beforehand (the two halves of the work);
//   2. a filtered "last 100" (the Observer's question) over --flows stored flows, against a
//      full scan answering the same question (no read-in-order, no skip indexes).
// Usage: npx tsx bench/store.ts [--flows 10000000] [--insert-flows 100000] [--batch 5000]
// The bulk of the --flows rows are copies (INSERT ... SELECT) of the inserted ones shifted
// in time, so building 10 million takes seconds rather than an insert run; their flow blob
// is the original's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Flow, FlowFilter, GeofenceVerdict, Verdict } from '../proto/gen/flow/flow';
import type { ClickHouseClient } from '@clickhouse/client';
import { openClickHouse } from '../relay/store/chdb';
import { flowValues } from '../relay/store/rows';
import { FLOW_COLUMNS } from '../relay/store/schema';
import { Params, filtersWhere } from '../relay/store/sql_filters';
import { openStore, type FlowStore } from '../relay/store/store';
import { makeCorpus } from '../test/unit/relay/store/corpus';

const TARGET_FLOWS_PER_S = 300_000;
const DB = 'cillion';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} needs a positive whole number`);
  return v;
}

const totalFlows = arg('flows', 10_000_000);
const insertFlows = Math.min(arg('insert-flows', 100_000), totalFlows);
const batchFlows = arg('batch', 5000);
const CORPUS = 20_000;

async function insertRun(store: FlowStore, corpus: Flow[], sessions: number, flows: number, tag: string): Promise<number> {
  const perSession = Math.floor(flows / sessions / batchFlows) * batchFlows;
  const start = performance.now();
  await Promise.all(Array.from({ length: sessions }, async (_, s) => {
    let seq = 0n;
    for (let done = 0; done < perSession; done += batchFlows) {
      const at = (done + s * 7919) % (corpus.length - batchFlows);
      await store.insertBatch({ sessionId: `${tag}-${s}`, sequence: ++seq, nodeName: `node-${s}`, flows: corpus.slice(at, at + batchFlows) });
    }
  }));
  return (perSession * sessions) / ((performance.now() - start) / 1000);
}

function rowBuildRate(corpus: Flow[]): number {
  const ctx = { sessionId: 'js', sequence: 1n, receivedAt: 0 };
  const start = performance.now();
  let bytes = 0;
  for (let i = 0; i < corpus.length; i++) bytes += JSON.stringify(flowValues(corpus[i], i, ctx)).length;
  if (bytes === 0) throw new Error('no rows built');
  return corpus.length / ((performance.now() - start) / 1000);
}

/** The ClickHouse side alone: the same rows, built once, inserted batch after batch. */
async function clickHouseRate(client: ClickHouseClient, corpus: Flow[], flows: number): Promise<number> {
  const batches = Math.max(1, Math.floor(flows / batchFlows));
  const built = Array.from({ length: batches }, (_, k) => {
    const ctx = { sessionId: `ch-only-${k}`, sequence: 1n, receivedAt: Math.floor(Date.now() / 1000) };
    return corpus.slice(0, batchFlows).map((f, i) => flowValues(f, i, ctx));
  });
  const start = performance.now();
  for (const rows of built) {
    await client.insert({ table: `${DB}.flows`, columns: [...FLOW_COLUMNS], values: rows, format: 'JSONCompactEachRow' });
  }
  return (batches * batchFlows) / ((performance.now() - start) / 1000);
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const out = await fn();
  return [out, performance.now() - start];
}

/** Median of three runs, so one run disturbed by the machine's other work does not decide. */
async function median<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const runs = [await timed(fn), await timed(fn), await timed(fn)].sort((a, b) => a[1] - b[1]);
  return runs[1];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cillion-bench-store-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.on('SIGINT', () => { cleanup(); process.exit(130); });
  try {
    const corpus = makeCorpus(CORPUS, 7, Date.UTC(2026, 0, 1));
    const store = await openStore({ dataDir: join(dir, 'store') });
    const admin = openClickHouse({ dataDir: join(dir, 'store') });
    try {
      const jsRate = rowBuildRate(corpus);
      await insertRun(store, corpus, 1, batchFlows, 'warmup');
      const one = await insertRun(store, corpus, 1, Math.floor(insertFlows / 2), 'one');
      const four = await insertRun(store, corpus, 4, insertFlows - Math.floor(insertFlows / 2), 'four');
      const chRate = await clickHouseRate(admin.client, corpus, Math.floor(insertFlows / 4));
      console.log(`insert, batches of ${batchFlows}:`);
      console.log(`  JS row building alone      ${fmt(jsRate)} flows/s`);
      console.log(`  ClickHouse insert alone    ${fmt(chRate)} flows/s  (rows built beforehand)`);
      console.log(`  1 session                  ${fmt(one)} flows/s  ratio to target ${(one / TARGET_FLOWS_PER_S).toFixed(3)}  to JS alone ${(one / jsRate).toFixed(3)}  to ClickHouse alone ${(one / chRate).toFixed(3)}`);
      console.log(`  4 sessions at once         ${fmt(four)} flows/s  ratio to target ${(four / TARGET_FLOWS_PER_S).toFixed(3)}  to JS alone ${(four / jsRate).toFixed(3)}  to ClickHouse alone ${(four / chRate).toFixed(3)}`);

      const [, fillMs] = await timed(() => fill(admin.client, totalFlows));
      const stored = await store.count();
      console.log(`\nstored flows: ${stored} (copies made in ${(fillMs / 1000).toFixed(1)} s)`);

      const cases: [string, FlowFilter][] = [
        ['dropped from payments', FlowFilter.fromPartial({ sourcePod: ['payments/'], verdict: [Verdict.DROPPED] })],
        ['geofence violations via 3-ff00:0:310', FlowFilter.fromPartial({ geofenceVerdict: [GeofenceVerdict.GEOFENCE_VIOLATION], throughIa: ['3-ff00:0:310'] })],
        ['one destination IP, port 53', FlowFilter.fromPartial({ destinationIp: ['10.1.2.3'], destinationPort: ['53'] })],
      ];
      for (const [name, filter] of cases) {
        const [got, lastMs] = await median(async () => {
          const out: Flow[] = [];
          for await (const f of store.query({ allow: [filter], deny: [], order: 'desc', limit: 100 })) out.push(f);
          return out;
        });
        const [scanRows, scanMs] = await median(() => fullScan(admin.client, filter));
        console.log(`last 100, ${name}: ${lastMs.toFixed(0)} ms (${got.length} flows); full scan ${scanMs.toFixed(0)} ms (${scanRows} rows); ratio ${(scanMs / lastMs).toFixed(1)}`);
      }
    } finally {
      await store.close();
      await admin.close();
    }
  } finally {
    cleanup();
  }
}

/** Copies the stored flows forward in time until `total` rows exist. */
async function fill(client: ClickHouseClient, total: number): Promise<void> {
  const q = await client.query({
    query: `SELECT toString(count()) AS n, toString(toUnixTimestamp64Nano(max(time)) - toUnixTimestamp64Nano(min(time)) + 1000000) AS span FROM ${DB}.flows`,
    format: 'JSONEachRow',
  });
  const [{ n, span }] = await q.json<{ n: string; span: string }>();
  const base = Number(n);
  const cols = FLOW_COLUMNS.filter((c) => c !== 'flow_b64');
  const select = cols.map((c) =>
    c === 'time' ? `time + toIntervalNanosecond({shift:Int64}) AS time`
      : c === 'session_id' ? `concat('copy-', {k:String}, '-', session_id) AS session_id`
        : c).join(', ');
  for (let k = 1, have = base; have < total; k++) {
    const take = Math.min(base, total - have);
    await client.command({
      // The inner query picks the originals before the outer aliases rename their columns.
      query: `INSERT INTO ${DB}.flows (${cols.join(', ')}, flow) SELECT ${select}, flow FROM (
  SELECT * FROM ${DB}.flows WHERE NOT startsWith(session_id, 'copy-') ORDER BY time LIMIT ${take})`,
      query_params: { shift: (BigInt(span) * BigInt(k)).toString(), k: String(k) },
    });
    have += take;
  }
}

/** The same filter answered by reading every row: no read-in-order, no skip indexes. */
async function fullScan(client: ClickHouseClient, filter: FlowFilter): Promise<number> {
  const p = new Params();
  const where = filtersWhere([filter], [], p);
  const q = await client.query({
    query: `SELECT base64Encode(flow) AS f FROM ${DB}.flows WHERE ${where} ORDER BY time DESC LIMIT 100`,
    query_params: p.values,
    format: 'JSONEachRow',
    clickhouse_settings: { optimize_read_in_order: 0, use_skip_indexes: 0 },
  });
  return (await q.json()).length;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US').padStart(9);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
