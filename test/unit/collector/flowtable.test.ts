import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FlowTable, type MeteredFlow } from '../../../collector/flowtable';
import { batchOf, type RecordSpec } from './records';

const MS = 1_000_000n;
const TCP = 6;

function egress(tsMs: number, over: Partial<RecordSpec> = {}): RecordSpec {
  return {
    tsNs: BigInt(tsMs) * MS,
    direction: 1,
    ifindex: 7,
    identity: 300,
    srcIA: 0x0040_0002_0000_0020n,
    dstIA: 0x0041_0002_0000_0020n,
    inner: { proto: TCP, src: '10.1.0.5', dst: '10.2.0.9', sport: 40000, dport: 443, tcpFlags: 0x10 },
    pathId: 3,
    podLen: 120,
    egressIfid: 1,
    path: Uint8Array.of(1, 2, 3, 4),
    ...over,
  };
}

function table(opts: Partial<{ maxEntries: number; idleTimeoutMs: number; activeTimeoutMs: number; room: () => number; maxCarried: number }> = {}) {
  const out: MeteredFlow[] = [];
  const t = new FlowTable({ maxEntries: 100, idleTimeoutMs: 10_000, activeTimeoutMs: 60_000, ...opts }, (f) => out.push(f));
  const feed = (specs: RecordSpec[]) => {
    const b = batchOf(specs);
    t.ingestBatch(b, b.length);
  };
  return { t, out, feed };
}

describe('collector/flowtable', () => {
  it('calls a flow authenticated only when every packet it delivered carried a SPAO', () => {
    const { out, feed, t } = table();
    const other = { proto: TCP, src: '10.1.0.6', dst: '10.2.0.9', sport: 40000, dport: 443 };
    const third = { proto: TCP, src: '10.1.0.7', dst: '10.2.0.9', sport: 40000, dport: 443 };
    feed([
      egress(1000, { authenticated: true }), egress(1001, { authenticated: true }),
      egress(1000, { inner: other, authenticated: true }), egress(1001, { inner: other }),
      egress(1000, { inner: third, verdict: 2, dropReason: 24 }),
    ]);
    t.flush();
    const by = (src: string) => out.find((f) => f.inner?.srcAddr === src)?.authenticated;
    assert.deepEqual([by('10.1.0.5'), by('10.1.0.6'), by('10.1.0.7')], [true, false, false]);
  });

  it('aggregates the packets of one flow: counts, bytes, times, OR of TCP flags', () => {
    const { t, out, feed } = table();
    feed([
      egress(1000, { inner: { proto: TCP, src: '10.1.0.5', dst: '10.2.0.9', sport: 40000, dport: 443, tcpFlags: 0x02 }, podLen: 60 }),
      egress(1005, { inner: { proto: TCP, src: '10.1.0.5', dst: '10.2.0.9', sport: 40000, dport: 443, tcpFlags: 0x10 }, podLen: 1500 }),
      egress(1003, { inner: { proto: TCP, src: '10.1.0.5', dst: '10.2.0.9', sport: 40000, dport: 443, tcpFlags: 0x18 }, podLen: 40 }),
    ]);
    assert.equal(t.stats().entries, 1);
    t.flush();
    assert.equal(out.length, 1);
    const f = out[0];
    assert.deepEqual(f.inner, { proto: TCP, srcAddr: '10.1.0.5', dstAddr: '10.2.0.9', srcPort: 40000, dstPort: 443 });
    assert.equal(f.packets, 3);
    assert.equal(f.bytes, 1600);
    assert.equal(f.firstNs, 1000e6);
    assert.equal(f.lastNs, 1005e6);
    assert.equal(f.tcpFlags, 0x1a);
    assert.equal(f.firstTcpFlags, 0x02);
    assert.equal(f.direction, 'EGRESS_ENCAP');
    assert.equal(f.ifindex, 7);
    assert.equal(f.identity, 300);
    assert.equal(f.srcIA, 0x0040_0002_0000_0020n);
    assert.equal(f.dstIA, 0x0041_0002_0000_0020n);
    assert.equal(f.pathId, 3);
    assert.equal(f.egressIfid, 1);
    assert.deepEqual([...f.path], [1, 2, 3, 4]);
    assert.equal(f.dropped, 0);
    assert.equal(f.start, true);
    assert.equal(f.end, 'flush');
  });

  it('keeps flows apart by 5-tuple, direction, ifindex, path id and, without a path id, path bytes', () => {
    const { t, feed } = table();
    const base = egress(1);
    feed([
      base,
      egress(2, { inner: { ...base.inner!, sport: 40001 } }),
      egress(3, { inner: { ...base.inner!, proto: 17 } }),
      egress(4, { direction: 2 }),
      egress(5, { ifindex: 8 }),
      egress(6, { pathId: 4 }),
      egress(7, { pathId: 0, path: Uint8Array.of(9, 9, 9, 9) }),
      egress(8, { pathId: 0, path: Uint8Array.of(9, 9, 9, 8) }),
      egress(9, { pathId: 0, path: Uint8Array.of(9, 9, 9, 9) }),
      // Path bytes do not matter when the path id names the path.
      egress(10, { path: Uint8Array.of(5) }),
    ]);
    assert.equal(t.stats().entries, 8);
    assert.equal(t.stats().records, 10);
  });

  it('keys an SRv6 flow by its SRH bytes even with a segment-list id, and by tenant and outer source', () => {
    const { t, out, feed } = table();
    const srcA = Uint8Array.from(Buffer.from('fc000000010100000000000000000001', 'hex'));
    const srcB = Uint8Array.from(Buffer.from('fc000000010200000000000000000001', 'hex'));
    const srh = (last: number) => Uint8Array.of(4, 2, 4, 0, 0, 0, 0, 0, ...new Array<number>(15).fill(0), last);
    const srv6 = (ts: number, over: Partial<RecordSpec> = {}) => egress(ts, { srcIA: 0n, dstIA: 0n, pathType: 4, pathId: 5, path: srh(1), srv6: { tenantId: 100, outerSrc: srcA }, ...over });
    feed([
      srv6(1),
      srv6(2),
      // Another segment list under the same id, another tenant, another encapsulating node.
      srv6(3, { path: srh(2) }),
      srv6(4, { srv6: { tenantId: 200, outerSrc: srcA } }),
      srv6(5, { srv6: { tenantId: 100, outerSrc: srcB } }),
      // The same 5-tuple over SCION, with the same path bytes and id.
      egress(6, { srcIA: 0n, dstIA: 0n, pathType: 4, pathId: 5, path: srh(1) }),
    ]);
    assert.equal(t.stats().entries, 5);
    t.flush();
    const first = out.find((f) => f.packets === 2);
    assert.ok(first);
    assert.equal(first.pathKind, 'srv6');
    assert.equal(first.tenantId, 100);
    assert.equal(first.outerSrc, 'fc00:0:101::1');
    assert.deepEqual([...first.path], [...srh(1)]);
    const scion = out.find((f) => f.pathKind !== 'srv6');
    assert.ok(scion);
    assert.equal(scion.outerSrc, '');
    assert.equal(scion.tenantId, 0);
  });

  it('counts a record of a path kind it does not know as a decode error and meters the rest', () => {
    const { t } = table();
    const errors: string[] = [];
    const b = batchOf([egress(1), egress(2, { pathKind: 7 }), egress(3)]);
    t.ingestBatch(b, b.length, (e) => errors.push(`${e.code}: ${e.message}`));
    assert.deepEqual(errors, ['BAD_FIELD: path kind 7']);
    assert.equal(t.stats().records, 2);
    assert.equal(t.stats().decodeErrors, 1);
  });

  it('meters router records without an inner packet by ISD-AS pair and path', () => {
    const { t, out, feed } = table();
    const router = (ts: number, path: number[]): RecordSpec => ({ tsNs: BigInt(ts), direction: 3, srcIA: 1n, dstIA: 2n, path: Uint8Array.from(path), ingressIfid: 4, egressIfid: 9 });
    feed([router(1, [1, 2]), router(2, [1, 2]), router(3, [1, 3])]);
    t.flush();
    assert.equal(out.length, 2);
    assert.equal(out[0].inner, null);
    assert.equal(out[0].packets, 2);
    assert.equal(out[0].ingressIfid, 4);
    assert.equal(out[0].egressIfid, 9);
    assert.equal(out[0].direction, 'ROUTER_FORWARD');
  });

  it('records drops: dropped packets, every reason seen, the last reason', () => {
    const { t, out, feed } = table();
    feed([egress(1), egress(2, { verdict: 2, dropReason: 15 }), egress(3, { verdict: 2, dropReason: 16, policyId: 7 }), egress(4, { policyId: 8 })]);
    t.flush();
    assert.equal(out[0].lastDropPolicyId, 7, 'the policy of the last drop, not of a later forwarded packet');
    assert.equal(out[0].packets, 4);
    assert.equal(out[0].dropped, 2);
    assert.equal(out[0].dropReasons, (1 << 15) | (1 << 16));
    assert.equal(out[0].lastDropReason, 16);
  });

  it('emits and forgets a flow idle for the idle timeout', () => {
    const { t, out, feed } = table({ idleTimeoutMs: 100 });
    feed([egress(1000), egress(1050, { inner: { ...egress(0).inner!, sport: 1 } })]);
    t.expire(1099e6);
    assert.equal(out.length, 0);
    t.expire(1100e6);
    assert.equal(out.length, 1);
    assert.equal(out[0].end, 'idle');
    assert.equal(out[0].inner?.srcPort, 40000);
    assert.equal(t.stats().entries, 1);
    t.expire(1150e6);
    assert.equal(out.length, 2);
    assert.equal(t.stats().entries, 0);
  });

  it('a packet keeps a flow from idling out', () => {
    const { t, out, feed } = table({ idleTimeoutMs: 100 });
    feed([egress(1000)]);
    t.expire(1090e6);
    feed([egress(1090)]);
    t.expire(1150e6);
    assert.equal(out.length, 0);
    t.expire(1190e6);
    assert.equal(out.length, 1);
    assert.equal(out[0].packets, 2);
  });

  it('reports a long flow every active timeout with counters of that interval only', () => {
    const { t, out, feed } = table({ idleTimeoutMs: 1000, activeTimeoutMs: 300 });
    for (let ms = 0; ms < 1000; ms += 50) {
      t.expire((1000 + ms) * 1e6);
      feed([egress(1000 + ms)]);
    }
    // Interval starts at 1000, 1300, 1600, 1900: three complete reports so far.
    assert.deepEqual(out.map((f) => [f.end, f.packets, f.start]), [
      ['active', 6, true],
      ['active', 6, false],
      ['active', 6, false],
    ]);
    assert.equal(out[0].firstNs, 1000e6);
    assert.equal(out[1].firstNs, 1300e6);
    t.flush();
    assert.deepEqual([out[3].end, out[3].packets], ['flush', 2]);
    const total = out.reduce((n, f) => n + f.packets, 0);
    assert.equal(total, 20);
  });

  it('an active timeout with no packets since the last report emits nothing', () => {
    const { t, out, feed } = table({ idleTimeoutMs: 10_000, activeTimeoutMs: 100 });
    feed([egress(1000)]);
    t.expire(1100e6);
    t.expire(1200e6);
    t.expire(1300e6);
    assert.equal(out.length, 1);
    assert.equal(t.stats().entries, 1);
  });

  it('stays within maxEntries by evicting (and reporting) the least recently seen flow', () => {
    const { t, out, feed } = table({ maxEntries: 3 });
    const port = (p: number, ts: number) => egress(ts, { inner: { ...egress(0).inner!, sport: p } });
    feed([port(1, 1), port(2, 2), port(3, 3), port(1, 4), port(4, 5), port(5, 6)]);
    assert.equal(t.stats().entries, 3);
    assert.equal(t.stats().evictions, 2);
    assert.deepEqual(out.map((f) => [f.inner?.srcPort, f.end]), [
      [2, 'evicted'],
      [3, 'evicted'],
    ]);
    t.flush();
    assert.deepEqual(out.slice(2).map((f) => [f.inner?.srcPort, f.packets]), [
      [1, 2],
      [4, 1],
      [5, 1],
    ]);
  });

  it('stays consistent through heavy churn (hash deletes keep every chain intact)', () => {
    const { t, out, feed } = table({ maxEntries: 64, idleTimeoutMs: 5 });
    const specs: RecordSpec[] = [];
    for (let i = 0; i < 5000; i++) specs.push(egress(i, { inner: { ...egress(0).inner!, sport: (i * 37) % 200 } }));
    for (let i = 0; i < specs.length; i += 50) {
      feed(specs.slice(i, i + 50));
      t.expire((i + 50) * 1e6);
    }
    t.flush();
    assert.equal(t.stats().entries, 0);
    assert.equal(out.reduce((n, f) => n + f.packets, 0), 5000);
  });

  it('counts bad records and keeps metering the rest of the batch', () => {
    const { t, feed } = table();
    const errors: string[] = [];
    const b = batchOf([egress(1), egress(2, { type: 9 }), egress(3, { version: 1 }), egress(4, { declaredLen: 100 }), egress(5, { direction: 7 as 1 }), egress(6)]);
    t.ingestBatch(b, b.length, (e) => errors.push(e.code));
    assert.deepEqual(errors, ['UNKNOWN_TYPE', 'UNKNOWN_VERSION', 'BAD_LENGTH', 'BAD_FIELD']);
    assert.equal(t.stats().records, 2);
    assert.equal(t.stats().decodeErrors, 4);
    t.ingestBatch(b, b.length - 10, (e) => errors.push(e.code));
    assert.equal(errors.at(-1), 'SHORT_RECORD');
    feed([]);
  });

  it('rejects nonsensical options', () => {
    assert.throws(() => new FlowTable({ maxEntries: 0, idleTimeoutMs: 1, activeTimeoutMs: 1 }, () => undefined), RangeError);
    assert.throws(() => new FlowTable({ maxEntries: 1, idleTimeoutMs: 0, activeTimeoutMs: 1 }, () => undefined), RangeError);
  });
});

describe('collector/flowtable when its consumer has no room', () => {
  const port = (p: number, ts: number, over: Partial<RecordSpec> = {}) => egress(ts, { inner: { ...egress(0).inner!, sport: p }, ...over });
  const sum = (fs: MeteredFlow[], k: 'packets' | 'bytes' | 'podBytes' | 'wireBytes') => fs.reduce((n, f) => n + f[k], 0);

  it('puts an active report off and folds its counts into the next one', () => {
    let room = 0;
    const { t, out, feed } = table({ idleTimeoutMs: 10_000, activeTimeoutMs: 100, room: () => room });
    feed([egress(1000), egress(1010)]);
    t.expire(1100e6);
    assert.equal(out.length, 0);
    feed([egress(1150)]);
    t.expire(1200e6);
    assert.equal(out.length, 0);
    assert.equal(t.stats().deferred, 2);
    room = 10;
    feed([egress(1250)]);
    t.expire(1300e6);
    assert.deepEqual(out.map((f) => [f.end, f.packets, f.foldedReports, f.start]), [['active', 4, 2, true]]);
    assert.equal(out[0].firstNs, 1000e6, 'the folded report keeps the first packet\'s time');
  });

  it('carries a final report until there is room, and emits it then', () => {
    let room = 0;
    const { t, out, feed } = table({ idleTimeoutMs: 100, room: () => room });
    feed([port(1, 1000, { podLen: 60, wireLen: 150 }), port(1, 1001, { podLen: 60, wireLen: 150 }), port(2, 1002)]);
    t.expire(1200e6);
    assert.deepEqual([out.length, t.stats().entries, t.stats().carried, t.stats().carriedNow], [0, 0, 2, 2]);
    room = 1;
    t.expire(1300e6);
    assert.deepEqual(out.map((f) => [f.inner?.srcPort, f.end, f.packets, f.podBytes, f.wireBytes, f.bytes]), [[1, 'idle', 2, 120, 300, 120]]);
    room = 5;
    t.expire(1400e6);
    assert.deepEqual(out.map((f) => f.inner?.srcPort), [1, 2]);
    assert.equal(t.stats().carriedNow, 0);
    assert.equal(t.stats().lostPackets, 0);
  });

  it('a flow evicted without room takes its carried counts back when it returns', () => {
    let room = 0;
    const { t, out, feed } = table({ maxEntries: 1, room: () => room });
    feed([port(1, 1), port(1, 2), port(2, 3), port(1, 4)]);
    // 1 was evicted for 2 and carried; 1 came back and took its 2 packets over, evicting 2.
    assert.deepEqual([t.stats().evictions, t.stats().carried, t.stats().carriedNow], [2, 2, 1]);
    room = 10;
    t.flush();
    assert.deepEqual(out.map((f) => [f.inner?.srcPort, f.packets, f.foldedReports, f.start, f.end]), [
      [2, 1, 0, true, 'evicted'],
      [1, 3, 1, true, 'flush'],
    ]);
  });

  it('a flow that takes its carried counts back stays authenticated when all its packets were', () => {
    let room = 0;
    const { t, out, feed } = table({ maxEntries: 1, room: () => room });
    const auth = { authenticated: true };
    feed([port(1, 1, auth), port(1, 2, auth), port(2, 3, auth), port(1, 4, auth)]);
    room = 10;
    t.flush();
    assert.deepEqual(out.map((f) => [f.inner?.srcPort, f.packets, f.foldedReports, f.authenticated]), [
      [2, 1, 0, true],
      [1, 3, 1, true],
    ]);
  });

  it('sheds the oldest carried report when the carry is full, counts it, and the flow that returns says it is short', () => {
    const { t, out, feed } = table({ maxEntries: 1, maxCarried: 1, room: () => 0 });
    feed([port(1, 1, { podLen: 70 }), port(1, 2, { podLen: 70 }), port(2, 3), port(3, 4)]);
    // 1 carried, then shed for 2; 3 is in the table.
    assert.deepEqual([t.stats().lostReports, t.stats().lostPackets, t.stats().lostBytes], [1, 2, 140]);
    feed([port(1, 5)]);
    assert.deepEqual([t.stats().lostReports, t.stats().lostPackets], [2, 3], '2 shed for 3');
    t.flush();
    assert.equal(out.length, 0, 'no room even at flush: everything left is shed and counted');
    assert.deepEqual([t.stats().lostReports, t.stats().lostPackets, t.stats().carriedNow], [4, 5, 0]);
  });

  it('a returning flow reports the packets its shed report lost', () => {
    let room = 0;
    const { t, out, feed } = table({ maxEntries: 1, maxCarried: 1, room: () => room });
    feed([port(1, 1, { podLen: 70 }), port(1, 2, { podLen: 70 }), port(2, 3), port(3, 4)]);
    room = 10;
    feed([port(1, 5)]);
    t.flush();
    const back = out.find((f) => f.inner?.srcPort === 1);
    assert.deepEqual([back?.packets, back?.lostPackets, back?.lostBytes], [1, 2, 140]);
  });

  it('every packet metered is emitted or counted lost, whatever room there is', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 2 }),
        fc.array(
          fc.oneof(
            { arbitrary: fc.record({ port: fc.integer({ min: 0, max: 9 }), len: fc.integer({ min: 1, max: 1500 }) }), weight: 6 },
            { arbitrary: fc.record({ expire: fc.constant(true), room: fc.integer({ min: 0, max: 4 }) }), weight: 2 },
          ),
          { maxLength: 300 },
        ),
        (max, maxCarried, finalRoom, ops) => {
          let room = 0;
          const out: MeteredFlow[] = [];
          const t = new FlowTable({ maxEntries: max, maxCarried, idleTimeoutMs: 3, activeTimeoutMs: 5, room: () => room }, (f) => out.push(f));
          let ms = 0;
          let sent = 0;
          let sentBytes = 0;
          for (const op of ops) {
            ms++;
            if ('expire' in op) {
              room = op.room;
              t.expire(ms * 1e6);
              continue;
            }
            const b = batchOf([port(op.port, ms, { podLen: op.len })]);
            t.ingestBatch(b, b.length);
            sent++;
            sentBytes += op.len;
          }
          room = finalRoom;
          t.flush();
          const s = t.stats();
          assert.equal(sum(out, 'packets') + s.lostPackets, sent);
          assert.equal(sum(out, 'bytes') + s.lostBytes, sentBytes);
          assert.equal(s.carriedNow, 0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('collector/flowtable against a reference model', () => {
  // The model: a Map in least-recently-seen order (a touch moves the key to the end), the
  // same eviction and idle rules, no hashing. Both must report the same flows in the same order.
  it('reports exactly what a plain Map-based meter reports, under eviction and idle expiry', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.array(
          fc.oneof(
            { arbitrary: fc.record({ port: fc.integer({ min: 0, max: 5 }), path: fc.integer({ min: 0, max: 1 }), len: fc.integer({ min: 1, max: 1500 }) }), weight: 5 },
            { arbitrary: fc.constant('expire' as const), weight: 1 },
          ),
          { maxLength: 300 },
        ),
        (max, ops) => {
          const got: string[] = [];
          const t = new FlowTable({ maxEntries: max, idleTimeoutMs: 5, activeTimeoutMs: 1e9 }, (f) => got.push(`${f.inner?.srcPort}/${f.path[0]}/${f.packets}/${f.bytes}/${f.end}`));
          const want: string[] = [];
          const model = new Map<string, { last: number; packets: number; bytes: number }>();
          const emit = (k: string, v: { packets: number; bytes: number }, end: string) => want.push(`${k}/${v.packets}/${v.bytes}/${end}`);
          let ms = 0;
          for (const op of ops) {
            ms++;
            if (op === 'expire') {
              t.expire(ms * 1e6);
              for (const [k, v] of model) {
                if (v.last > ms - 5) break;
                emit(k, v, 'idle');
                model.delete(k);
              }
              continue;
            }
            const spec = egress(ms, { inner: { ...egress(0).inner!, sport: op.port }, pathId: 0, path: Uint8Array.of(op.path, 7), podLen: op.len });
            const b = batchOf([spec]);
            t.ingestBatch(b, b.length);
            const k = `${op.port}/${op.path}`;
            const v = model.get(k);
            if (v) {
              model.delete(k);
              model.set(k, { last: ms, packets: v.packets + 1, bytes: v.bytes + op.len });
            } else {
              if (model.size >= max) {
                const [oldest, ov] = model.entries().next().value!;
                emit(oldest, ov, 'evicted');
                model.delete(oldest);
              }
              model.set(k, { last: ms, packets: 1, bytes: op.len });
            }
          }
          t.flush();
          for (const [k, v] of model) emit(k, v, 'flush');
          assert.deepEqual(got, want);
        },
      ),
      { numRuns: 300 },
    );
  });
});
