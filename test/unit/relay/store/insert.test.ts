import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Verdict, type Flow } from '../../../../proto/gen/flow/flow';
import { openClickHouse } from '../../../../relay/store/chdb';
import { FlowValueError } from '../../../../relay/store/flow_block';
import { judgedFromFlows } from '../../../../relay/store/from_flows';
import { openStore, type FlowStore } from '../../../../relay/store/store';
import { makeCorpus } from './corpus';
import { sql } from './sql';
import { LEGACY_STATEMENTS } from './legacy_schema';

const timeNs = (f: Flow) => (f.time!.seconds * 1_000_000_000n + BigInt(f.time!.nanos)).toString();
const scratchFiles = () => readdirSync('/dev/shm').filter((n) => n.startsWith(`cillion-insert-${process.pid}-`));

describe('relay/store insert (narrow schema, Native blocks)', function () {
  this.timeout(60_000);
  let dir: string;
  let store: FlowStore | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-insert-test-'));
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores every flow of a batch as typed columns whose references resolve', async () => {
    store = await openStore({ dataDir: dir });
    const flows = makeCorpus(500).map((f) => ({ ...f, nodeName: 'node-a' }));
    await store.insertBatch(judgedFromFlows({ sessionId: 's1', sequence: 7n, nodeName: 'node-a', flows }));
    assert.equal(await store.count(), 500n);
    assert.deepEqual(scratchFiles(), [], 'the block file is gone');
    await store.close();
    store = undefined;
    const rows = await sql<Record<string, string | number>>(dir, `
      SELECT toString(uuid) AS uuid, toString(toUnixTimestamp64Nano(time)) AS t, batch_index, toString(sequence) AS sequence,
        toString(verdict) AS verdict, toString(protocol) AS protocol, destination_port, source_namespace, source_app,
        path_fingerprint, src_ia, toString(geofence_verdict) AS fence, geofence_offending_hop AS hop, toString(packets) AS packets,
        bitAnd(present, 1024) != 0 AS judged, is_reply
      FROM cillion.flows ORDER BY batch_index`);
    assert.equal(rows.length, 500);
    rows.forEach((r, i) => {
      const f = flows[i];
      const l4 = f.l4!.protocol!;
      assert.equal(r.uuid, f.uuid);
      assert.equal(r.t, timeNs(f));
      assert.equal(r.batch_index, i);
      assert.equal(r.sequence, '7');
      assert.equal(r.verdict, Verdict[f.verdict]);
      assert.equal(r.protocol, l4.$case);
      assert.equal(r.destination_port, l4.$case === 'ICMPv4' ? 0 : (l4.value as { destinationPort: number }).destinationPort);
      assert.equal(r.source_namespace, f.source!.namespace);
      assert.equal(r.source_app, f.source!.labels[0].split('=')[1]);
      assert.equal(r.path_fingerprint, f.scionPath?.fingerprint ?? '');
      assert.equal(r.src_ia, f.scionPath?.srcIa ?? '');
      assert.equal(r.fence, f.geofence ? ['GEOFENCE_VERDICT_UNKNOWN', 'GEOFENCE_COMPLIANT', 'GEOFENCE_VIOLATION', 'GEOFENCE_UNVERIFIED'][f.geofence.verdict] : 'GEOFENCE_VERDICT_UNKNOWN');
      assert.equal(r.hop, f.geofence?.offendingHop ?? -1);
      assert.equal(r.judged, f.geofence ? 1 : 0);
      assert.equal(r.packets, f.meter!.packets.toString());
      assert.equal(r.is_reply, f.isReply ? 2 : 1);
    });
    // Every reference resolves to a row of its dimension table, and the rows hold the message.
    const [refs] = await sql<{ missing: string }>(dir, `
      SELECT toString(countIf(source_workload NOT IN (SELECT key FROM cillion.workloads))
        + countIf(destination_workload NOT IN (SELECT key FROM cillion.workloads))
        + countIf(path_key != 0 AND path_key NOT IN (SELECT key FROM cillion.path_headers))) AS missing
      FROM cillion.flows`);
    assert.equal(refs.missing, '0');
    const withPath = flows.findIndex((f) => f.scionPath);
    const [hdr] = await sql<{ src_ia: string; lat: (number | null)[]; address: string[]; latency: string[]; expiry: string; type: string }>(dir, `
      SELECT h.src_ia AS src_ia, h.hops.latitude AS lat, h.hops.address AS address, arrayMap(x -> toString(x), h.hops.latency_ns) AS latency,
        toString(toUnixTimestamp64Nano(h.expiry)) AS expiry, toString(h.type) AS type
      FROM cillion.flows AS f JOIN cillion.path_headers AS h ON h.key = f.path_key WHERE f.batch_index = ${withPath}`);
    const p = flows[withPath].scionPath!;
    assert.deepEqual(hdr, {
      src_ia: p.srcIa,
      lat: p.hops.map((h) => h.geo?.latitude ?? null),
      address: p.hops.map((h) => h.geo?.address ?? ''),
      latency: p.hops.map((h) => h.latencyNs?.toString() ?? null),
      expiry: (p.expiry!.seconds * 1_000_000_000n).toString(),
      type: 'SCION_PATH_STANDARD',
    });
    const [ep] = await sql<{ labels: string[]; names: string[]; kinds: string[]; ID: number; pod: string; identity: number }>(dir, `
      SELECT w.labels AS labels, w.workloads.name AS names, w.workloads.kind AS kinds, w.ID AS ID, w.pod_name AS pod, w.identity AS identity
      FROM cillion.flows AS f JOIN cillion.workloads AS w ON w.key = f.source_workload WHERE f.batch_index = 0`);
    const src = flows[0].source!;
    assert.deepEqual(ep, {
      labels: src.labels, names: src.workloads.map((w) => w.name), kinds: src.workloads.map((w) => w.kind), ID: src.ID, pod: src.podName, identity: src.identity,
    });
  });

  it('stores a retried batch once, rollup included, and writes each dimension row once', async () => {
    store = await openStore({ dataDir: dir });
    const flows = makeCorpus(300, 3, Date.now() - 3_600_000);
    const batch = judgedFromFlows({ sessionId: 's', sequence: 1n, nodeName: 'n', flows });
    await store.insertBatch(batch);
    await store.insertBatch(batch);
    await store.insertBatch(judgedFromFlows({ sessionId: 's', sequence: 2n, nodeName: 'n', flows: flows.slice(0, 10) }));
    assert.equal(await store.count(), 310n);
    assert.equal(await store.position('n', 's'), 2n);
    const soon = new Date(Date.now() + 120_000);
    await store.rollUp(soon);
    await store.rollUp(soon);
    await store.close();
    // A restarted relay looks back over the minutes an earlier run may have left: counted once.
    store = await openStore({ dataDir: dir });
    await store.rollUp(soon);
    await store.close();
    store = undefined;
    const [r] = await sql<{ rollup: string; workloads: string; distinct: string }>(dir, `
      SELECT (SELECT toString(sum(flows)) FROM cillion.flows_1m) AS rollup,
        (SELECT toString(count()) FROM cillion.workloads) AS workloads,
        (SELECT toString(uniqExact(key)) FROM cillion.workloads) AS distinct`);
    assert.equal(r.rollup, '310');
    assert.equal(r.workloads, r.distinct, 'an endpoint written within the hour is not written again');
  });

  it('stores only the kept flows, under their index in the batch as sent', async () => {
    store = await openStore({ dataDir: dir });
    const flows = makeCorpus(40);
    const keep = new Uint32Array([1, 3, 5, 38]);
    await store.insertBatch({ ...judgedFromFlows({ sessionId: 's', sequence: 1n, nodeName: 'n', flows }), keep });
    await store.close();
    store = undefined;
    const back = await sql<{ i: number; uuid: string }>(dir, 'SELECT batch_index AS i, toString(uuid) AS uuid FROM cillion.flows ORDER BY i');
    assert.deepEqual(back, [...keep].map((i) => ({ i, uuid: flows[i].uuid })));
  });

  it('marks a batch whose flows were all refused, so the position moves past it', async () => {
    store = await openStore({ dataDir: dir });
    const flows = makeCorpus(5);
    await store.insertBatch({ ...judgedFromFlows({ sessionId: 's', sequence: 4n, nodeName: 'n', flows }), keep: new Uint32Array(0) });
    assert.equal(await store.count(), 0n);
    assert.equal(await store.position('n', 's'), 4n);
  });

  it('gives recent uuids back as text, newest first', async () => {
    store = await openStore({ dataDir: dir });
    const flows = makeCorpus(20).map((f) => ({ ...f, nodeName: 'n' }));
    await store.insertBatch({ sessionId: 's', sequence: 1n, nodeName: 'n', flows });
    assert.deepEqual(await store.recentUuids(3), flows.slice(-3).reverse().map((f) => ({ nodeName: 'n', uuid: f.uuid })));
  });

  it('refuses a batch whose enum column names nothing, a uuid that is none or a geofence text with a NUL, and stores nothing of it', async () => {
    store = await openStore({ dataDir: dir });
    const b = judgedFromFlows({ sessionId: 's', sequence: 1n, nodeName: 'n', flows: makeCorpus(10) });
    b.columns.u8('verdict')[3] = 200;
    await assert.rejects(store.insertBatch(b), (e: unknown) => e instanceof FlowValueError && e.code === 'FLOW_VALUE' && /verdict 200/.test(e.message));
    await assert.rejects(store.insertBatch({ sessionId: 's', sequence: 1n, nodeName: 'n', flows: [{ ...makeCorpus(1)[0], uuid: 'u1' }] }), FlowValueError);
    // The geofence column joins a judgement's fields by NUL: one inside a field would shift the rest.
    const judged = judgedFromFlows({ sessionId: 's', sequence: 2n, nodeName: 'n', flows: makeCorpus(10) });
    assert.ok(judged.geofences.some((g) => g !== undefined), 'the corpus has judged flows');
    const fenced = { ...judged, geofences: judged.geofences.map((g) => g && { ...g, reason: 'leaves via\0 DE' }) };
    await assert.rejects(store.insertBatch(fenced), (e: unknown) => e instanceof FlowValueError && /NUL/.test(e.message));
    assert.equal(await store.count(), 0n);
  });

  it('deletes the block file also when the engine refuses the insert', async () => {
    store = await openStore({ dataDir: dir });
    const admin = openClickHouse({ dataDir: dir });
    try {
      await admin.client.command({ query: 'DROP TABLE cillion.flows' });
    } finally {
      await admin.close();
    }
    await assert.rejects(store.insertBatch({ sessionId: 's', sequence: 1n, nodeName: 'n', flows: makeCorpus(3) }), /storing flows failed/);
    assert.deepEqual(scratchFiles(), []);
  });

  it('moves a store of the layout before typed columns aside to flows_v1, once, and says so', async () => {
    const old = openClickHouse({ dataDir: dir });
    try {
      for (const q of LEGACY_STATEMENTS) await old.client.command({ query: q });
      await old.client.command({ query: "INSERT INTO cillion.flows (time, received_at, session_id, sequence, node_name, uuid, verdict, flow_b64) VALUES (now64(9), now(), 'old', 1, 'n', 'u-old', 'FORWARDED', 'CgA=')" });
    } finally {
      await old.close();
    }
    const lines: string[] = [];
    store = await openStore({ dataDir: dir, log: (l) => lines.push(l) });
    assert.equal(lines.length, 1);
    assert.match(lines[0], /moved to cillion\.flows_v1/);
    assert.equal(await store.count(), 0n);
    assert.equal(await store.position('n', 'old'), 0n);
    await store.insertBatch({ sessionId: 's', sequence: 1n, nodeName: 'n', flows: makeCorpus(10, 1, Date.now() - 3_600_000) });
    await store.rollUp(new Date(Date.now() + 120_000));
    await store.close();
    store = await openStore({ dataDir: dir, log: (l) => lines.push(l) });
    assert.equal(lines.length, 1, 'a second open moves nothing');
    await store.close();
    store = undefined;
    const [r] = await sql<{ old: string; blob: string; rollup: string; views: string }>(dir, `
      SELECT (SELECT toString(count()) FROM cillion.flows_v1) AS old,
        (SELECT toString(count()) FROM system.columns WHERE database = 'cillion' AND table = 'flows' AND name = 'flow') AS blob,
        (SELECT toString(sum(flows)) FROM cillion.flows_1m) AS rollup,
        (SELECT toString(count()) FROM system.tables WHERE database = 'cillion' AND name = 'flows_1m_mv') AS views`);
    assert.deepEqual(r, { old: '1', blob: '0', rollup: '11', views: '0' });
  });

  it('refuses to upgrade when flows_v1 holds an earlier move, and changes nothing', async () => {
    const old = openClickHouse({ dataDir: dir });
    try {
      for (const q of LEGACY_STATEMENTS) await old.client.command({ query: q });
      await old.client.command({ query: 'CREATE TABLE cillion.flows_v1 (x UInt8) ENGINE = MergeTree ORDER BY x' });
    } finally {
      await old.close();
    }
    await assert.rejects(openStore({ dataDir: dir, log: () => {} }), /flows_v1 exists already/);
    const cols = await sql<{ name: string }>(dir, "SELECT name FROM system.columns WHERE database = 'cillion' AND table = 'flows' AND name = 'flow'");
    assert.equal(cols.length, 1);
  });
});
