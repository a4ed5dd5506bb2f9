// Every dashboard query, macros expanded, runs on an embedded store holding a varied corpus
// (drops, violations, unverified flows, several paths) and collector counters, for All and
// for a selection of each variable. The demo e2e does the same on a real run's store.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkDashboards, runner, type QueryResult } from '../../../dashboards/src/check';
import { SRV6_DROP_REASONS } from '../../../dashboards/src/datapath_health';
import { FlowMeter, TrafficDirection, Verdict, WanPathType, type Flow } from '../../../proto/gen/flow/flow';
import { openClickHouse } from '../../../relay/store/chdb';
import { openStore } from '../../../relay/store/store';
import { makeCorpus } from '../relay/store/corpus';
import { createNarrowStore, insertCorpus } from '../relay/store/narrow';
import { zeroCounters } from '../../../observer/nodes';

describe('dashboards: every query on an embedded store', function () {
  this.timeout(120_000);
  let dir: string;
  let results: QueryResult[];
  let selected: QueryResult[];
  let flows: Flow[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-dashboards-test-'));
    flows = makeCorpus(2000);
    // Some reports dropped by the SRv6 programs, named as the collector names them (bpf/abi.ts).
    for (let i = 5; i < flows.length; i += 97) {
      const f = flows[i];
      f.verdict = Verdict.DROPPED;
      f.meter = { ...(f.meter ?? FlowMeter.fromPartial({})), dropReasonName: SRV6_DROP_REASONS[i % SRV6_DROP_REASONS.length] };
    }
    // The narrow tables first, then the store's own for the rest (node counters).
    const writer = openClickHouse({ dataDir: dir });
    try {
      await createNarrowStore(writer.client, 'cillion');
      await insertCorpus(writer, 'cillion', flows, 500);
    } finally {
      await writer.close();
    }
    const store = await openStore({ dataDir: dir });
    const now = Date.now();
    await store.insertCounters(
      [0, 1, 2, 3].map((i) => ({
        receivedAt: now - (3 - i) * 10_000, nodeName: 'node-a', cluster: 'c1', sessionId: 's1', sequence: BigInt(i),
        counters: { ...zeroCounters(), ringRecords: 1000n * BigInt(i), ringReserveFailures: BigInt(i), flowsExported: 500n * BigInt(i), packetsLost: BigInt(i) },
        sentAt: now - (3 - i) * 10_000 - 5,
      })),
    );
    await store.close();
    const ms = flows.map((f) => Number(f.time!.seconds) * 1000);
    const range = { from: new Date(Math.min(...ms) - 60_000), to: new Date(Math.max(now, ...ms) + 60_000) };
    const ch = openClickHouse({ dataDir: dir });
    try {
      results = await checkDashboards(runner(ch.client), range);
      selected = await checkDashboards(runner(ch.client), { ...range, chosen: new Map([['namespace', ['shop', 'payments']], ['app', ['checkout']], ['cluster', ['c1', 'c2']]]) });
    } finally {
      await ch.close();
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every query without an error, for All and for a selection', () => {
    assert.ok(results.length > 30);
    assert.deepEqual(results.filter((r) => r.error).map((r) => `${r.dashboard} ${r.name}: ${r.error}`), []);
    assert.deepEqual(selected.filter((r) => r.error).map((r) => `${r.dashboard} ${r.name}: ${r.error}`), []);
  });

  it('gives every time series a time column first and numbers after it', () => {
    for (const r of results.filter((x) => x.format === 0)) {
      assert.match(r.columns[0]?.type ?? '', /^DateTime/, `${r.dashboard} ${r.name}`);
      assert.ok(r.columns.slice(1).some((c) => /Int|Float|Decimal/.test(c.type)), `${r.dashboard} ${r.name}`);
    }
  });

  it('finds the drops, violations and unverified flows the corpus holds', () => {
    const rows = (name: string) => results.find((r) => r.name === name)?.rows ?? 0;
    for (const name of ['Drops by reason', 'SRv6 drops by reason', 'Violating flows', 'UNVERIFIED flows', 'ASes and links crossed', 'Ring reserve failures', 'Nodes']) {
      assert.ok(rows(name) > 0, name);
    }
  });

  it('splits bytes by path type and lists the SRv6 segment lists, their HMAC outcomes and segments from the srv6_* columns', () => {
    const sent = flows.filter((f) => f.trafficDirection === TrafficDirection.EGRESS && f.pathType === WanPathType.WAN_PATH_SRV6 && f.srv6Path);
    assert.ok(sent.length > 0, 'the corpus sends SRv6 flows');
    const byName = (name: string): QueryResult => results.find((r) => r.name === name)!;
    assert.ok(byName('Bytes per path type').rows > 0);
    assert.ok(byName('SRv6 HMAC outcomes').rows > 0);
    const lists = byName('SRv6 segment lists in use');
    assert.equal(lists.rows, new Set(sent.map((f) => `${f.srv6Path!.fingerprint} ${f.srv6Path!.tenantId}`)).size, 'one row per segment list and tenant sent on');
    const col = (r: QueryResult, c: string): unknown => r.first?.[r.columns.findIndex((x) => x.name === c)];
    const top = sent.find((f) => f.srv6Path!.fingerprint.startsWith(String(col(lists, 'fingerprint'))))!.srv6Path!;
    assert.equal(col(lists, 'segments'), top.hops.map((h) => `${h.sid} ${h.country || '??'}`).join(' > '));
    assert.equal(Number(col(lists, 'vrf')), top.tenantId);
    assert.equal(col(lists, 'tenant'), top.tenant);
    const segs = byName('SRv6 segments crossed');
    assert.equal(segs.rows, new Set(sent.flatMap((f) => f.srv6Path!.hops.map((h) => `${h.sid} ${h.country}`))).size, 'one row per segment and country');
  });

  it('labels paths from the paths table, by the fingerprint the flow holds', () => {
    for (const name of ['Violating flows', 'UNVERIFIED flows', 'Bytes and flows per path and app']) {
      const r = results.find((x) => x.name === name)!;
      const at = r.columns.findIndex((c) => c.name === 'path');
      assert.match(String(r.first?.[at]), /^\d+-[0-9a-f:]+ [A-Z]{0,2}( > \d+-[0-9a-f:]+ [A-Z]{0,2})+$/, `${name}: ${String(r.first?.[at])}`);
    }
  });
});
