// The read side on the narrow schema: every field a collector sets comes back from the
// columns, the endpoints from `workloads` and the path from `path_headers`; paging in both
// directions, since/until, a workload or path row gone, the kill on abort; the rate is printed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { FlowUuids } from '../../../../collector/flow_uuid';
import { Flow, FlowFilter } from '../../../../proto/gen/flow/flow';
import { openClickHouse, type ClickHouseHandle } from '../../../../relay/store/chdb';
import { FlowReader, QueryAbortedError } from '../../../../relay/store/query';
import type { FlowQuery } from '../../../../relay/store/store';
import { makeCorpus } from './corpus';
import { asSent, everyField } from './every_field';
import { createNarrowStore, endpointKey, insertCorpus, pathKey } from './narrow';

const DB = 'cillion';

const normal = (f: Flow) => Flow.fromPartial(f);

describe('relay/store reading the narrow schema', function () {
  this.timeout(120_000);
  let dir: string;
  let ch: ClickHouseHandle;
  let reader: FlowReader;
  let sent: Flow[];
  const kills: string[] = [];

  async function collect(q: Partial<FlowQuery>, r = reader): Promise<Flow[]> {
    const out: Flow[] = [];
    for await (const f of r.query({ allow: [], deny: [], order: 'asc', ...q })) out.push(f);
    return out;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-read-test-'));
    ch = openClickHouse({ dataDir: dir });
    await createNarrowStore(ch.client, DB);
    sent = asSent([...makeCorpus(12_000, 5), ...everyField()]);
    await insertCorpus(ch, DB, sent, 2500);
    sent.sort((a, b) => Number(timeOf(a) - timeOf(b)));
    reader = new FlowReader(ch.client, DB, {
      limits: { timeoutMs: 30_000, maxRowsToRead: 1e9 },
      kill: async (tag) => {
        kills.push(tag);
        await ch.kill(tag);
      },
    });
  });
  after(async () => {
    await ch?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives back every field a collector sets, in time order, across pages', async () => {
    const back = await collect({});
    assert.equal(back.length, sent.length);
    for (let i = 0; i < sent.length; i++) assert.deepStrictEqual(normal(back[i]), normal(sent[i]), `flow ${i} (${sent[i].uuid})`);
    const every = back.filter((f) => f.emitter?.name === 'Cillion');
    assert.equal(every.length, 6);
    assert.ok(every.some((f) => f.l4?.protocol?.$case === 'SCTP') && every.some((f) => f.l4?.protocol?.$case === 'ICMPv6'));
    assert.ok(every.some((f) => f.isReply === undefined) && every.some((f) => f.isReply === false));
    assert.ok(every.some((f) => f.geofence?.offendingHop === 0) && every.some((f) => f.meter?.firstSeen === undefined));
  });

  it('takes labels from workloads and the path with its hops from path_headers', async () => {
    const [f] = await collect({ limit: 1 });
    const rows = await (await ch.client.query({
      query: `SELECT labels FROM ${DB}.workloads WHERE key = {k:UInt64}`,
      query_params: { k: endpointKey(sent[0].source!).toString() },
      format: 'JSONEachRow',
    })).json<{ labels: string[] }>();
    assert.deepEqual(f.source?.labels, rows[0].labels);
    const withPath = (await collect({ limit: 50 })).find((x) => x.scionPath)!;
    const hops = await (await ch.client.query({
      query: `SELECT hops.isd_as AS hop_ias FROM ${DB}.path_headers WHERE key = {k:UInt64}`,
      query_params: { k: pathKey(withPath.scionPath!).toString() },
      format: 'JSONEachRow',
    })).json<{ hop_ias: string[] }>();
    assert.deepEqual(withPath.scionPath!.hops.map((h) => h.isdAs), hops[0].hop_ias);
  });

  it('answers desc with a limit as the last N, newest first, and honours since and until', async () => {
    const last = await collect({ order: 'desc', limit: 7000 });
    assert.deepStrictEqual(last.map(normal), sent.slice(-7000).reverse().map(normal));
    const since = new Date(Number(timeOf(sent[100]) / 1_000_000n));
    const until = new Date(Number(timeOf(sent[9000]) / 1_000_000n));
    const expected = sent.filter((f) => timeOf(f) >= BigInt(since.getTime()) * 1_000_000n && timeOf(f) < (BigInt(until.getTime()) + 1n) * 1_000_000n);
    assert.deepEqual((await collect({ since, until })).map((f) => f.uuid), expected.map((f) => f.uuid));
  });

  it('falls back to what the flow row says when a workload or path row is gone (no pod, identity, labels or hops)', async () => {
    const victim = sent.find((f) => f.source && f.scionPath)!;
    // chdb holds one data directory per process: a second database in it stands for another store.
    const other = 'gone';
    await createNarrowStore(ch.client, other);
    await insertCorpus(ch, other, [victim]);
    await ch.client.command({ query: `TRUNCATE TABLE ${other}.workloads` });
    await ch.client.command({ query: `TRUNCATE TABLE ${other}.path_headers` });
    const r = new FlowReader(ch.client, other, { limits: { timeoutMs: 30_000, maxRowsToRead: 1e9 }, kill: async () => {} });
    const [f] = await collect({}, r);
    assert.equal(f.uuid, victim.uuid);
    assert.deepEqual(
      [f.source?.clusterName, f.source?.namespace, f.source?.podName, f.source?.identity, f.source?.labels],
      [victim.source!.clusterName, victim.source!.namespace, '', 0, []],
    );
    assert.deepEqual([f.scionPath?.fingerprint, f.scionPath?.srcIa, f.scionPath?.hops], [victim.scionPath!.fingerprint, victim.scionPath!.srcIa, []]);
  });

  it('keeps uuids of every kind: the collector\'s UUIDv7, random v4 of older collectors and the extremes, each found by a uuid filter', async () => {
    const other = 'uuids';
    await createNarrowStore(ch.client, other);
    const v7 = new FlowUuids(() => Date.UTC(2026, 11, 5));
    const uuids = [v7.next(), v7.next(), randomUUID(), randomUUID(), '00000000-0000-0000-0000-000000000001', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '80000000-0000-0000-8000-000000000000'];
    const flows = asSent(makeCorpus(uuids.length, 9).map((f, i) => ({ ...f, uuid: uuids[i] })));
    await insertCorpus(ch, other, flows);
    const r = new FlowReader(ch.client, other, { limits: { timeoutMs: 30_000, maxRowsToRead: 1e9 }, kill: async () => {} });
    assert.deepEqual((await collect({}, r)).map((f) => f.uuid).sort(), [...uuids].sort());
    for (const u of uuids) assert.deepEqual((await collect({ allow: [FlowFilter.fromPartial({ uuid: [u] })] }, r)).map((f) => f.uuid), [u]);
    const halves = await (await ch.client.query({ query: `SELECT leftPad(hex(uuid_hi), 16, '0') AS hi, leftPad(hex(uuid_lo), 16, '0') AS lo, toString(uuid) AS u FROM ${other}.flows`, format: 'JSONEachRow' })).json<{ hi: string; lo: string; u: string }>();
    for (const h of halves) assert.equal(`${h.hi}${h.lo}`.toLowerCase(), h.u.replace(/-/g, ''), 'the stored halves are the uuid\'s bits in order');
  });

  it('stops the engine and says so when the caller aborts', async () => {
    const ac = new AbortController();
    let n = 0;
    const run = async () => {
      for await (const f of reader.query({ allow: [], deny: [], order: 'asc', signal: ac.signal })) {
        void f;
        if (++n === 10) ac.abort();
      }
    };
    await assert.rejects(run, QueryAbortedError);
    assert.equal(n, 10);
    assert.ok(kills.length > 0, 'the engine was told to stop');
  });

  // The rate is printed, not judged: what a busy machine leaves of a core decides it, so the
  // bound lives in `npm run bench` (the query part's read back), on a quiet machine.
  it('streams every stored flow, round after round, and prints the rate per second of CPU the process spends', async () => {
    const cpu = process.cpuUsage();
    const start = performance.now();
    let n = 0;
    for (let round = 0; round < 3; round++) for await (const f of reader.query({ allow: [], deny: [], order: 'asc' })) n += f.uuid.length > 0 ? 1 : 0;
    const used = process.cpuUsage(cpu);
    const perCpu = n / ((used.user + used.system) / 1e6);
    const wall = n / ((performance.now() - start) / 1000);
    process.stderr.write(`      read ${n} flows: ${Math.round(perCpu)} flows per CPU second, ${Math.round(wall)} flows/s wall\n`);
    assert.equal(n, 3 * sent.length);
  });
});

function timeOf(f: Flow): bigint {
  return f.time!.seconds * 1_000_000_000n + BigInt(f.time!.nanos);
}
