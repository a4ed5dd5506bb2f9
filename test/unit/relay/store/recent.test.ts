// Newest-first reads ("the last N") look back in growing time windows and take the columns
// of rows an earlier read fetched from the row cache (query.ts recentPage). Whatever the
// windows and the cache do, a read must give exactly what reading every flow and keeping
// the last N matches gives: checked here for several filters and N, with matches spread
// over many parts and over times months apart, fewer matches than N, a reader whose
// newest time is stale after more flows were stored, and a fresh reader.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Flow, FlowFilter, GeofenceVerdict, Verdict } from '../../../../proto/gen/flow/flow';
import { flowMatcher } from '../../../../observer/filters/index';
import { openClickHouse, type ClickHouseHandle } from '../../../../relay/store/chdb';
import { FlowReader } from '../../../../relay/store/query';
import { makeCorpus } from './corpus';
import { createNarrowStore, insertCorpus } from './narrow';

const DB = 'cillion';
interface Span {
  since?: Date;
  until?: Date;
}
const DAY_MS = 86_400_000;
const NEWEST_MS = Date.UTC(2026, 5, 1);

/** `flows` at `startMs` on, `perMs` flows sharing each millisecond. */
function at(flows: Flow[], startMs: number, perMs: number): Flow[] {
  return flows.map((f, i) => {
    const ms = startMs + Math.floor(i / perMs);
    return Flow.fromPartial({ ...f, time: { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 + (i % perMs) } });
  });
}

describe('relay/store last N newest first', function () {
  this.timeout(300_000);
  let dir: string;
  let ch: ClickHouseHandle;
  let stored: Flow[] = [];
  const ctl = { limits: { timeoutMs: 60_000, maxRowsToRead: 1e9 }, kill: async () => {} };

  /** Every stored flow as a full read gives it, oldest first; read again after each insert. */
  let readBack: Flow[] | undefined;
  const readAll = async (): Promise<Flow[]> => {
    if (readBack) return readBack;
    const all: Flow[] = [];
    for await (const f of new FlowReader(ch.client, DB, ctl).query({ allow: [], deny: [], order: 'asc' })) all.push(f);
    assert.equal(all.length, stored.length);
    readBack = all;
    return all;
  };
  /** The scan: every flow, oldest first, then the last `n` that match, newest first. */
  const scan = async (allow: FlowFilter[], deny: FlowFilter[], n: number, span: Span = {}): Promise<string[]> => {
    const all = await readAll();
    const matches = flowMatcher(allow, deny);
    const ms = (f: Flow): number => Number(f.time!.seconds) * 1000 + Math.floor(f.time!.nanos / 1e6);
    const inSpan = (f: Flow): boolean => (!span.since || ms(f) >= span.since.getTime()) && (!span.until || ms(f) <= span.until.getTime());
    return all.filter((f) => matches(f) && inSpan(f)).reverse().slice(0, n).map((f) => f.uuid);
  };
  const last = async (reader: FlowReader, allow: FlowFilter[], deny: FlowFilter[], n: number, span: Span = {}): Promise<string[]> => {
    const out: string[] = [];
    for await (const f of reader.query({ allow, deny, order: 'desc', limit: n, ...span })) out.push(f.uuid);
    return out;
  };
  const insert = async (flows: Flow[], sessionTag: string): Promise<void> => {
    const tagged = flows.map((f) => Flow.fromPartial({ ...f, nodeName: `${f.nodeName}-${sessionTag}` }));
    await insertCorpus(ch, DB, tagged, 250);
    stored = [...stored, ...tagged];
    readBack = undefined;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-recent-test-'));
    ch = openClickHouse({ dataDir: dir });
    await createNarrowStore(ch.client, DB);
    // Four eras, each in its own parts: 200 days, 3 days and an hour before the newest
    // flows, and the newest minute with many flows to a millisecond.
    await insert(at(makeCorpus(1500, 31), NEWEST_MS - 200 * DAY_MS, 1), 'old');
    await insert(at(makeCorpus(1500, 32), NEWEST_MS - 3 * DAY_MS, 2), 'days');
    await insert(at(makeCorpus(1000, 33), NEWEST_MS - 3_600_000, 3), 'hour');
    await insert(at(makeCorpus(1200, 34), NEWEST_MS - 60_000, 40), 'minute');
  });
  after(async () => {
    await ch?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const oldOnly = (): FlowFilter => FlowFilter.fromPartial({ uuid: stored.slice(10, 17).map((f) => f.uuid) });
  const cases: [string, () => { allow: FlowFilter[]; deny: FlowFilter[] }][] = [
    ['no filter', () => ({ allow: [], deny: [] })],
    ['dropped (exact)', () => ({ allow: [FlowFilter.fromPartial({ verdict: [Verdict.DROPPED] })], deny: [] })],
    ['payments, port 53 (checked in the relay too)', () => ({ allow: [FlowFilter.fromPartial({ sourcePod: ['payments/'], destinationPort: ['53'] })], deny: [] })],
    ['violations via 3-ff00:0:310', () => ({ allow: [FlowFilter.fromPartial({ geofenceVerdict: [GeofenceVerdict.GEOFENCE_VIOLATION], throughIa: ['3-ff00:0:310'] })], deny: [] })],
    ['forwarded minus one node', () => ({ allow: [FlowFilter.fromPartial({ verdict: [Verdict.FORWARDED] })], deny: [FlowFilter.fromPartial({ nodeName: ['node-a-minute'] })] })],
    ['seven flows 200 days old (fewer than N)', () => ({ allow: [oldOnly()], deny: [] })],
    ['nothing matches', () => ({ allow: [FlowFilter.fromPartial({ verdict: [Verdict.ERROR] })], deny: [] })],
  ];

  it('gives exactly what a scan gives, for every filter and N, cold and again with the row cache warm', async () => {
    const warm = new FlowReader(ch.client, DB, ctl);
    let compared = 0;
    for (const [name, make] of cases) {
      const { allow, deny } = make();
      for (const n of [1, 7, 100, 1500, 2100, 6000]) {
        const want = await scan(allow, deny, n);
        assert.deepEqual(await last(new FlowReader(ch.client, DB, ctl), allow, deny, n), want, `${name}, last ${n}, fresh reader`);
        assert.deepEqual(await last(warm, allow, deny, n), want, `${name}, last ${n}`);
        assert.deepEqual(await last(warm, allow, deny, n), want, `${name}, last ${n}, again`);
        compared += want.length;
      }
    }
    assert.ok(compared > 20_000, `compared ${compared} flows`);
  });

  it('finds flows stored after its newest time, and flows older than every window', async () => {
    const reader = new FlowReader(ch.client, DB, ctl);
    const dropped = [FlowFilter.fromPartial({ verdict: [Verdict.DROPPED] })];
    assert.deepEqual(await last(reader, dropped, [], 100), await scan(dropped, [], 100));
    // A day newer than anything the reader has seen: its windows start a day too early.
    await insert(at(makeCorpus(600, 35), NEWEST_MS + DAY_MS, 5), 'later');
    for (const n of [5, 100, 1000]) assert.deepEqual(await last(reader, dropped, [], n), await scan(dropped, [], n), `last ${n}`);
    const all = stored.length;
    assert.deepEqual(await last(reader, [], [], all), await scan([], [], all));
    const old = [oldOnly()];
    const want = await scan(old, [], 100);
    assert.equal(want.length, 7);
    assert.deepEqual(await last(reader, old, [], 100), want);
  });

  it('still finds every match when a collector dated flows in 2262: the windows start no later than a minute from now', async () => {
    await insert(at(makeCorpus(40, 36), Date.UTC(2262, 0, 1), 1), 'future');
    const reader = new FlowReader(ch.client, DB, ctl);
    const dropped = [FlowFilter.fromPartial({ verdict: [Verdict.DROPPED] })];
    for (const n of [5, 100, 1000]) assert.deepEqual(await last(reader, dropped, [], n), await scan(dropped, [], n), `last ${n}`);
    assert.deepEqual(await last(reader, [oldOnly()], [], 100), await scan([oldOnly()], [], 100));
  });

  it('keeps to --since and --until, whether they fall inside a window or far behind the newest flow', async () => {
    const reader = new FlowReader(ch.client, DB, ctl);
    const dropped = [FlowFilter.fromPartial({ verdict: [Verdict.DROPPED] })];
    const spans: Span[] = [
      { since: new Date(NEWEST_MS - 30_000) },
      { until: new Date(NEWEST_MS - 2 * DAY_MS) },
      { since: new Date(NEWEST_MS - 201 * DAY_MS), until: new Date(NEWEST_MS - 199 * DAY_MS) },
      { since: new Date(NEWEST_MS - 3 * DAY_MS), until: new Date(NEWEST_MS - 3_600_000 + 5) },
    ];
    for (const span of spans) {
      for (const n of [3, 100, 1200]) {
        const want = await scan(dropped, [], n, span);
        assert.ok(want.length > 0);
        assert.deepEqual(await last(reader, dropped, [], n, span), want, `${JSON.stringify(span)}, last ${n}`);
      }
    }
  });
});
