import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Flow } from '../../../../proto/gen/flow/flow';
import { openClickHouse } from '../../../../relay/store/chdb';
import { FlowValueError } from '../../../../relay/store/flow_block';
import { judgedFromFlows } from '../../../../relay/store/from_flows';
import { openStore, type FlowQuery, type FlowStore } from '../../../../relay/store/store';
import { makeCorpus } from './corpus';
import { sql } from './sql';
import { CRASH_BATCH_FLOWS } from './crash_writer';
import { NODE_COUNTER_COLUMNS } from '../../../../relay/store/schema';
import { FLOW_ALIASES, STORED_FLOW_COLUMNS } from '../../../../relay/store/flow_columns';

/** The rollup keeps minutes for its TTL (default 7 days) from the flows' own time: tests of it use recent flows. */
const RECENT_MS = Date.now() - 3_600_000;

async function collect(store: FlowStore, q: Partial<FlowQuery>): Promise<Flow[]> {
  const out: Flow[] = [];
  for await (const f of store.query({ allow: [], deny: [], order: 'asc', ...q })) out.push(f);
  return out;
}

describe('relay/store (embedded chdb)', function () {
  this.timeout(60_000);
  let dir: string;
  let store: FlowStore | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-store-test-'));
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives back every flow equal to what went in, in time order', async () => {
    store = await openStore({ dataDir: dir });
    const flows = makeCorpus(900);
    for (let i = 0; i < 3; i++) {
      await store.insertBatch({ sessionId: 's1', sequence: BigInt(i + 1), nodeName: 'node-a', flows: flows.slice(i * 300, i * 300 + 300) });
    }
    assert.equal(await store.count(), 900n);
    const back = await collect(store, {});
    // A batch's flows are its node's, whatever node a flow named.
    assert.deepEqual(back, flows.map((f) => ({ ...f, nodeName: 'node-a' })));
    assert.ok(back.some((f) => f.scionPath && f.geofence && f.identityExtension), 'corpus carries the Cillion fields');
  });

  it('answers desc+limit with the last N, newest first, and honours since/until', async () => {
    store = await openStore({ dataDir: dir });
    const flows = makeCorpus(500);
    await store.insertBatch({ sessionId: 's1', sequence: 1n, nodeName: 'node-a', flows });
    const last = await collect(store, { order: 'desc', limit: 5 });
    assert.deepEqual(last.map((f) => f.uuid), flows.slice(-5).reverse().map((f) => f.uuid));

    const ms = (f: Flow) => Number(f.time!.seconds) * 1000 + Math.floor(f.time!.nanos / 1e6);
    const since = new Date(ms(flows[100]));
    const until = new Date(ms(flows[199]));
    const window = await collect(store, { since, until });
    const expected = flows.filter((f) => ms(f) >= since.getTime() && ms(f) <= until.getTime());
    assert.deepEqual(window.map((f) => f.uuid), expected.map((f) => f.uuid));
    assert.ok(expected.length >= 99);
  });

  it('streams more flows than one page holds, without repeats or gaps', async () => {
    store = await openStore({ dataDir: dir });
    const flows = makeCorpus(6200, 5);
    await store.insertBatch({ sessionId: 's1', sequence: 1n, nodeName: 'node-a', flows });
    const desc = await collect(store, { order: 'desc' });
    assert.deepEqual(desc.map((f) => f.uuid), flows.map((f) => f.uuid).reverse());
  });

  it('writes each batch as a single part, the unit ClickHouse commits atomically', async () => {
    store = await openStore({ dataDir: dir });
    const admin = openClickHouse({ dataDir: dir });
    try {
      // Without merges a batch split over parts would stay visible as such.
      await admin.client.command({ query: 'SYSTEM STOP MERGES cillion.flows' });
      const flows = makeCorpus(6000, 9);
      await store.insertBatch({ sessionId: 's1', sequence: 1n, nodeName: 'n', flows });
      await store.insertBatch({ sessionId: 's1', sequence: 2n, nodeName: 'n', flows: flows.slice(0, 10) });
      const parts = await (await admin.client.query({
        query: 'SELECT toString(sequence) AS sequence, toString(uniqExact(_part)) AS parts FROM cillion.flows GROUP BY sequence ORDER BY sequence',
        format: 'JSONEachRow',
      })).json();
      assert.deepEqual(parts, [{ sequence: '1', parts: '1' }, { sequence: '2', parts: '1' }]);
    } finally {
      await admin.client.command({ query: 'SYSTEM START MERGES cillion.flows' });
      await admin.close();
    }
  });

  it('writes a group of batches of several sessions as one part, all of them or none, and stores a retried group once', async () => {
    store = await openStore({ dataDir: dir });
    const admin = openClickHouse({ dataDir: dir });
    try {
      await admin.client.command({ query: 'SYSTEM STOP MERGES cillion.flows' });
      const flows = makeCorpus(900, 4);
      const group = [
        judgedFromFlows({ sessionId: 's1', sequence: 1n, nodeName: 'n1', flows: flows.slice(0, 300) }),
        judgedFromFlows({ sessionId: 's2', sequence: 1n, nodeName: 'n2', flows: flows.slice(300, 600) }),
        judgedFromFlows({ sessionId: 's1', sequence: 2n, nodeName: 'n1', flows: flows.slice(600, 900) }),
        judgedFromFlows({ sessionId: 's3', sequence: 1n, nodeName: 'n1', flows: [] }),
      ];
      assert.deepEqual(await store.insertGroup(group), [undefined, undefined, undefined, undefined]);
      const parts = async () => (await (await admin.client.query({ query: 'SELECT toString(uniqExact(_part)) AS parts, toString(count()) AS n FROM cillion.flows', format: 'JSONEachRow' })).json())[0];
      assert.deepEqual(await parts(), { parts: '1', n: '900' });
      assert.equal(await store.position('n1', 's1'), 2n);
      assert.equal(await store.position('n2', 's2'), 1n);
      assert.equal(await store.position('n1', 's3'), 1n);
      // The same group again (an insert retried after an engine error) carries the same token.
      await store.insertGroup(group);
      assert.deepEqual(await parts(), { parts: '1', n: '900' });
    } finally {
      await admin.client.command({ query: 'SYSTEM START MERGES cillion.flows' });
      await admin.close();
    }
  });

  it('leaves a batch the table cannot hold out of its group alone, with the later batches of its session', async () => {
    store = await openStore({ dataDir: dir });
    const flows = makeCorpus(30, 5);
    const bad = judgedFromFlows({ sessionId: 'bad', sequence: 1n, nodeName: 'n', flows: flows.slice(0, 10) });
    bad.columns.u8('verdict')[3] = 200;
    const out = await store.insertGroup([
      bad,
      judgedFromFlows({ sessionId: 'good', sequence: 1n, nodeName: 'n', flows: flows.slice(10, 20) }),
      judgedFromFlows({ sessionId: 'bad', sequence: 2n, nodeName: 'n', flows: flows.slice(20, 30) }),
    ]);
    assert.ok(out[0] instanceof FlowValueError && /verdict 200/.test(out[0].message), String(out[0]));
    assert.equal(out[1], undefined);
    assert.ok(out[2] instanceof FlowValueError && /follows a refused batch/.test(out[2].message), String(out[2]));
    assert.equal(await store.count(), 10n);
    assert.equal(await store.position('n', 'bad'), 0n);
    assert.equal(await store.position('n', 'good'), 1n);
  });

  it('keeps equal-time flows of different batches apart when paging', async () => {
    store = await openStore({ dataDir: dir });
    const flows = makeCorpus(3).map((f) => ({ ...f, time: { seconds: 1_800_000_000n, nanos: 5 } }));
    for (let s = 1n; s <= 3n; s++) await store.insertBatch({ sessionId: 'same', sequence: s, nodeName: 'n', flows });
    assert.equal((await collect(store, { limit: 100 })).length, 9);
    assert.equal((await collect(store, { order: 'desc', limit: 4 })).length, 4);
  });

  it('reports per-session positions, counting batches without flows', async () => {
    store = await openStore({ dataDir: dir });
    const flows = makeCorpus(10).map((f) => ({ ...f, nodeName: 'n' }));
    assert.equal(await store.position('n', 's1'), 0n);
    await store.insertBatch({ sessionId: 's1', sequence: 1n, nodeName: 'n', flows });
    await store.insertBatch({ sessionId: 's1', sequence: 2n, nodeName: 'n', flows });
    await store.insertBatch({ sessionId: 's2', sequence: 1n, nodeName: 'n', flows });
    await store.insertBatch({ sessionId: 's1', sequence: 3n, nodeName: 'n', flows: [] });
    assert.equal(await store.position('n', 's1'), 3n);
    assert.equal(await store.position('n', 's2'), 1n);
    assert.equal(await store.position('n', "s3' OR 1=1 --"), 0n);
    assert.equal(await store.position("n' OR 1=1 --", 's1'), 0n);
  });

  it('keeps sessions of the same id on different nodes apart: positions and deduplication', async () => {
    store = await openStore({ dataDir: dir });
    const of = (node: string) => makeCorpus(20).map((f) => ({ ...f, nodeName: node }));
    await store.insertBatch({ sessionId: 's', sequence: 1n, nodeName: 'node-b', flows: of('node-b') });
    await store.insertBatch({ sessionId: 's', sequence: 2n, nodeName: 'node-b', flows: of('node-b') });
    await store.insertBatch({ sessionId: 's', sequence: 3n, nodeName: 'node-b', flows: [] });
    assert.equal(await store.position('node-a', 's'), 0n);
    // Same session id and sequences as node-b's: stored, not taken for duplicates.
    await store.insertBatch({ sessionId: 's', sequence: 1n, nodeName: 'node-a', flows: of('node-a') });
    await store.insertBatch({ sessionId: 's', sequence: 2n, nodeName: 'node-a', flows: of('node-a') });
    assert.equal(await store.position('node-a', 's'), 2n);
    assert.equal(await store.position('node-b', 's'), 3n);
    assert.equal(await store.count(), 80n);
  });

  it('stores a re-sent batch once', async () => {
    store = await openStore({ dataDir: dir });
    const flows = makeCorpus(50, 1, RECENT_MS);
    await store.insertBatch({ sessionId: 's1', sequence: 1n, nodeName: 'n', flows });
    await store.insertBatch({ sessionId: 's1', sequence: 1n, nodeName: 'n', flows });
    assert.equal(await store.count(), 50n);
    await store.rollUp(new Date(Date.now() + 120_000));
    await store.close();
    store = undefined;
    const [rollup] = await sql<{ n: string }>(dir, 'SELECT toString(sum(flows)) AS n FROM cillion.flows_1m');
    assert.equal(rollup.n, '50', 'the rollup counted the re-sent batch');
  });

  it('keeps flows and positions across a reopen of the same data directory', async () => {
    store = await openStore({ dataDir: dir });
    const flows = makeCorpus(200).map((f) => ({ ...f, nodeName: 'n' }));
    await store.insertBatch({ sessionId: 's1', sequence: 1n, nodeName: 'n', flows: flows.slice(0, 100) });
    await store.insertBatch({ sessionId: 's1', sequence: 2n, nodeName: 'n', flows: flows.slice(100) });
    await store.close();
    store = await openStore({ dataDir: dir, ttlDays: 3 });
    assert.equal(await store.position('n', 's1'), 2n);
    assert.deepEqual(await collect(store, {}), flows);
    await store.close();
    store = undefined;
    const [ddl] = await sql<{ statement: string }>(dir, 'SHOW CREATE TABLE cillion.flows');
    assert.match(ddl.statement, /TTL received_at \+ toIntervalDay\(3\)/);
  });

  it('adds the counter columns of later releases to an older store, and stores the meter columns', async () => {
    store = await openStore({ dataDir: dir });
    await store.close();
    store = undefined;
    const ch = openClickHouse({ dataDir: dir });
    try {
      await ch.client.command({ query: 'ALTER TABLE cillion.node_counters DROP COLUMN packets_lost, DROP COLUMN packets_exported' });
    } finally {
      await ch.close();
    }
    store = await openStore({ dataDir: dir });
    const flow = Flow.fromPartial({ ...makeCorpus(1)[0], meter: { packets: 3n, bytes: 300n, podBytes: 300n, wireBytes: 540n, lostPackets: 2n } });
    await store.insertBatch({ sessionId: 'up', sequence: 1n, nodeName: 'n', flows: [flow] });
    await store.close();
    store = undefined;
    const rows = await sql<{ p: string; pod: string; wire: string; lost: string }>(dir, 'SELECT toString(packets) AS p, toString(pod_bytes) AS pod, toString(wire_bytes) AS wire, toString(lost_packets) AS lost FROM cillion.flows');
    assert.deepEqual(rows, [{ p: '3', pod: '300', wire: '540', lost: '2' }]);
    const cols = await sql<{ name: string }>(dir, "SELECT name FROM system.columns WHERE database = 'cillion' AND table = 'node_counters' ORDER BY position");
    assert.deepEqual(cols.map((c) => c.name), [...NODE_COUNTER_COLUMNS], 'each in its place again');
  });

  it('brings flows of the first typed layout to today\'s columns, types and codecs on open, and reads them back', async () => {
    // That layout's geofence judgement had no offending SID, so its flows name none.
    const flows = makeCorpus(400).map((f, i) => ({ ...f, nodeName: 'n', geofence: i < 200 && f.geofence ? { ...f.geofence, offendingSid: '' } : f.geofence }));
    store = await openStore({ dataDir: dir });
    await store.insertBatch({ sessionId: 'old', sequence: 1n, nodeName: 'n', flows: flows.slice(0, 200) });
    await store.close();
    store = undefined;
    // The layout before: plain number keys, the uuid and meter fields as they are, per-flow copies of
    // pod, identity and path latency (values the upgrade drops, so any will do).
    const old: [string, string, string][] = [];
    for (const c of STORED_FLOW_COLUMNS) {
      const aliases = FLOW_ALIASES.filter((a) => a.storedAs.some((s) => s.name === c.name));
      // The columns read through ALIAS columns today, in the place of the first stored one.
      for (const a of aliases) if (a.storedAs[0].name === c.name && a.name !== 'geofence_offending_sid') old.push([a.name, a.type, a.name]);
      if (aliases.length > 0) continue;
      old.push([c.name, c.type.replace(/^LowCardinality\((U?Int\d+)\)$/, '$1'), c.name]);
      if (c.name === 'source_namespace' || c.name === 'destination_namespace') old.push([c.name.replace('namespace', 'pod'), 'LowCardinality(String)', "'pod'"]);
      if (c.name === 'source_app' || c.name === 'destination_app') old.push([c.name.replace('app', 'identity'), 'UInt32', '7']);
      if (c.name === 'path_known') old.push(['path_latency_ns', 'Nullable(UInt64)', 'NULL']);
    }
    const ch = openClickHouse({ dataDir: dir });
    try {
      await ch.client.command({
        query: `CREATE TABLE cillion.flows_old (${old.map(([n, t]) => `${n} ${t}`).join(', ')},
          INDEX idx_source_pod source_pod TYPE bloom_filter(0.01) GRANULARITY 4, INDEX idx_destination_pod destination_pod TYPE bloom_filter(0.01) GRANULARITY 4,
          INDEX idx_geofence_verdict geofence_verdict TYPE set(0) GRANULARITY 4)
          ENGINE = MergeTree PARTITION BY toYYYYMMDD(received_at) ORDER BY (time, session_id, sequence, batch_index)`,
      });
      await ch.client.command({ query: `INSERT INTO cillion.flows_old SELECT ${old.map(([n, , v]) => `${v} AS ${n}`).join(', ')} FROM cillion.flows` });
      await ch.client.command({ query: 'DROP TABLE cillion.flows' });
      await ch.client.command({ query: 'RENAME TABLE cillion.flows_old TO cillion.flows' });
    } finally {
      await ch.close();
    }
    const logged: string[] = [];
    store = await openStore({ dataDir: dir, log: (line) => logged.push(line) });
    assert.ok(logged.some((l) => l.includes('uuid is now stored as uuid_hi and uuid_lo')), logged.join('\n'));
    assert.ok(logged.some((l) => l.includes('geofence_verdict, geofence_name, geofence_namespace, geofence_mode, geofence_reason, geofence_offending_hop, geofence_offending_isd_as, geofence_offending_country are now stored as geofence')), logged.join('\n'));
    await store.insertBatch({ sessionId: 'old', sequence: 2n, nodeName: 'n', flows: flows.slice(200) });
    assert.deepEqual(await collect(store, {}), flows);
    await store.close();
    store = undefined;
    const cols = await sql<{ name: string; type: string; codec: string; kind: string }>(dir,
      "SELECT name, type, compression_codec AS codec, default_kind AS kind FROM system.columns WHERE database = 'cillion' AND table = 'flows' ORDER BY position");
    // The engine lists an Enum's values by number: those are compared by name only.
    const typeOf = (t: string) => (t.startsWith('Enum') ? 'Enum' : t);
    assert.deepEqual(cols.filter((c) => c.kind === '').map((c) => [c.name, typeOf(c.type)]), STORED_FLOW_COLUMNS.map((c) => [c.name, typeOf(c.type)]));
    assert.deepEqual(cols.filter((c) => c.kind === 'ALIAS').map((c) => c.name), FLOW_ALIASES.map((a) => a.name));
    assert.equal(cols.find((c) => c.name === 'sequence')?.codec, 'CODEC(DoubleDelta, ZSTD(1))');
    const indexes = await sql<{ name: string }>(dir, "SELECT name FROM system.data_skipping_indices WHERE database = 'cillion' AND table = 'flows' AND name LIKE '%pod%'");
    assert.deepEqual(indexes, []);
    const fenceIndex = await sql<{ expr: string }>(dir, "SELECT expr FROM system.data_skipping_indices WHERE database = 'cillion' AND table = 'flows' AND name = 'idx_geofence_verdict'");
    // The engine keeps the index over the ALIAS's expression.
    assert.equal(fenceIndex.length, 1, 'the index over the verdict is back');
    assert.match(fenceIndex[0].expr, /^CAST\(extract\(geofence, /);
  });

  it('finishes an upgrade cut short after its DROP COLUMN: the ALIAS columns and their index come back on the next open', async () => {
    const flows = makeCorpus(100).map((f) => ({ ...f, nodeName: 'n' }));
    store = await openStore({ dataDir: dir });
    await store.insertBatch({ sessionId: 'cut', sequence: 1n, nodeName: 'n', flows });
    await store.close();
    store = undefined;
    // Where a relay dying mid-upgrade leaves a store: the new columns stored, no ALIAS columns yet.
    const ch = openClickHouse({ dataDir: dir });
    try {
      await ch.client.command({ query: 'ALTER TABLE cillion.flows DROP INDEX IF EXISTS idx_geofence_verdict' });
      await ch.client.command({ query: `ALTER TABLE cillion.flows ${[...FLOW_ALIASES].reverse().map((a) => `DROP COLUMN ${a.name}`).join(', ')}` });
    } finally {
      await ch.close();
    }
    store = await openStore({ dataDir: dir });
    assert.deepEqual(await collect(store, {}), flows);
    await store.close();
    store = undefined;
    const aliases = await sql<{ name: string }>(dir, "SELECT name FROM system.columns WHERE database = 'cillion' AND table = 'flows' AND default_kind = 'ALIAS' ORDER BY position");
    assert.deepEqual(aliases.map((c) => c.name), FLOW_ALIASES.map((a) => a.name));
    const fenceIndex = await sql<{ name: string }>(dir, "SELECT name FROM system.data_skipping_indices WHERE database = 'cillion' AND table = 'flows' AND name = 'idx_geofence_verdict'");
    assert.equal(fenceIndex.length, 1);
  });

  it('fills the paths dimension and the per-minute rollup', async () => {
    store = await openStore({ dataDir: dir });
    const flows = makeCorpus(400, 1, RECENT_MS);
    await store.insertBatch({ sessionId: 's1', sequence: 1n, nodeName: 'n', flows: flows.slice(0, 200) });
    await store.insertBatch({ sessionId: 's1', sequence: 2n, nodeName: 'n', flows: flows.slice(200) });
    await store.rollUp(new Date(Date.now() + 120_000));
    await store.close();
    store = undefined;
    const [sum] = await sql<{ n: string; p: string; b: string }>(dir, 'SELECT toString(sum(flows)) AS n, toString(sum(packets)) AS p, toString(sum(bytes)) AS b FROM cillion.flows_1m');
    const total = (k: 'packets' | 'bytes') => flows.reduce((s, f) => s + (f.meter?.[k] ?? 0n), 0n).toString();
    assert.deepEqual(sum, { n: '400', p: total('packets'), b: total('bytes') });
    const [raw] = await sql<{ p: string; d: string }>(dir, 'SELECT toString(sum(packets)) AS p, toString(sum(dropped_packets)) AS d FROM cillion.flows');
    assert.deepEqual(raw, { p: total('packets'), d: flows.reduce((s, f) => s + (f.meter?.droppedPackets ?? 0n), 0n).toString() });
    const byVerdict = await sql<{ geofence_verdict: string; n: string }>(dir,
      `SELECT geofence_verdict, toString(sum(flows)) AS n FROM cillion.flows_1m GROUP BY geofence_verdict ORDER BY geofence_verdict`);
    const want = new Map<string, number>();
    for (const f of flows) {
      const v = f.geofence ? ['', 'GEOFENCE_COMPLIANT', 'GEOFENCE_VIOLATION', 'GEOFENCE_UNVERIFIED'][f.geofence.verdict] : '';
      want.set(v, (want.get(v) ?? 0) + 1);
    }
    assert.deepEqual(new Map(byVerdict.map((r) => [r.geofence_verdict, Number(r.n)])), want);
    const paths = await sql<{ fingerprint: string; isd_as: string[]; country: string[]; ingress: number[] }>(dir,
      `SELECT fingerprint, hops.isd_as AS isd_as, hops.country AS country, hops.ingress_interface AS ingress
       FROM cillion.paths FINAL ORDER BY fingerprint`);
    assert.equal(paths.length, 3);
    assert.deepEqual(paths[1].isd_as, ['1-ff00:0:110', '3-ff00:0:310', '2-ff00:0:210']);
    assert.deepEqual(paths[1].country, ['CH', 'US', 'DE']);
    assert.deepEqual(paths[1].ingress, [0, 11, 12]);
  });

  it('never stores part of a batch when the writer is killed mid-insert', async function () {
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', join(__dirname, 'crash_writer.ts'), dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acked = 0n;
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`writer exited early (${code})`)));
      child.stdout!.on('data', (chunk: Buffer) => {
        for (const m of chunk.toString().matchAll(/stored (\d+)/g)) acked = BigInt(m[1]);
        // Kill at an arbitrary moment once a few batches are in: usually mid-insert.
        if (acked >= 5n) {
          child.removeAllListeners('exit');
          setTimeout(() => {
            child.kill('SIGKILL');
            child.once('exit', () => resolve());
          }, Math.floor(Math.random() * 40));
        }
      });
    });
    store = await openStore({ dataDir: dir });
    const position = await store.position('n1', 'crash');
    assert.ok(position >= acked, `position ${position} below acknowledged ${acked}`);
    await store.close();
    store = undefined;
    const perSeq = await sql<{ sequence: string; n: string }>(dir,
      `SELECT toString(sequence) AS sequence, toString(count()) AS n FROM cillion.flows GROUP BY sequence ORDER BY sequence`);
    assert.deepEqual(perSeq.map((r) => BigInt(r.sequence)), Array.from({ length: Number(position) }, (_, i) => BigInt(i + 1)));
    for (const r of perSeq) assert.equal(Number(r.n), CRASH_BATCH_FLOWS, `batch ${r.sequence} stored partially`);
  });
});
