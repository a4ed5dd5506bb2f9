import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { FlowBatch, type FlowColumns } from '../../../../proto/gen/export/v1/export';
import { Endpoint, Flow, ScionPath, ScionPathType } from '../../../../proto/gen/flow/flow';
import { encodeScionPathBytes } from '../../../../scion/path/raw';
import { batchCost, boundedBatchDecoder, columnsCost, decodeFlows, IngestBudget, refusalOf, releaseBatch } from '../../../../relay/export/admission';
import { incomingColumns } from '../../../../relay/export/columns';
import { flowsOf } from '../../../../columns/rebuild';
import { screenColumns, uuidBytes, uuidKeys, UuidWindow } from '../../../../relay/export/screen';
import { encodeColumns } from '../../../../columns/encode';
import { viewColumns } from '../../../../columns/view';
import { Breaches } from '../../../../relay/breaches';
import { relayLimits } from '../../../../relay/limits';
import { RelayMetrics } from '../../../../relay/metrics';
import { engineError, EngineError } from '../../../../relay/store/engine_errors';
import { HistoryLimitError } from '../../../../observer/history';

const limits = relayLimits({ maxBatchFlows: 10, maxNodeNameLength: 20, maxHops: 3, maxLabels: 2, maxLabelLength: 10, maxStringLength: 30 });
const now = { seconds: 1_767_225_600n, nanos: 0 };
const ok = (over: Partial<Flow> = {}): Flow => Flow.fromPartial({ time: now, uuid: 'u', ...over });
const wire = (b: Partial<FlowBatch>): Buffer => Buffer.from(FlowBatch.encode(FlowBatch.fromPartial(b)).finish());

describe('relay limits', () => {
  it('relayLimits fills defaults and refuses what is no positive whole number', () => {
    assert.equal(relayLimits().maxMessageBytes, 4 * 1024 * 1024);
    assert.equal(relayLimits({ maxHops: 5 }).maxHops, 5);
    assert.throws(() => relayLimits({ maxHops: 0 }), /maxHops must be a positive whole number/);
    assert.throws(() => relayLimits({ maxHops: 1.5 }), RangeError);
  });

  describe('admission', () => {
    it('decodes a batch within the limits and holds its cost until released', () => {
      const budget = new IngestBudget(1 << 20);
      const bytes = wire({ nodeName: 'n', sessionId: 's', sequence: 1n, flows: [ok(), ok()] });
      const b = boundedBatchDecoder(limits, budget)(bytes);
      assert.equal(refusalOf(b), undefined);
      assert.deepEqual([b.nodeName, b.sessionId, b.sequence, b.flows.length], ['n', 's', 1n, 0]);
      decodeFlows(b);
      assert.deepEqual(b, FlowBatch.decode(bytes));
      assert.equal(budget.inflight, batchCost(bytes.length, 2));
      releaseBatch(budget, b);
      releaseBatch(budget, b);
      assert.equal(budget.inflight, 0);
    });

    it('refuses too many flows, long names and garbage without decoding, and counts nothing against the budget', () => {
      const budget = new IngestBudget(1 << 20);
      const decode = boundedBatchDecoder(limits, budget);
      const many = refusalOf(decode(wire({ sessionId: 's', sequence: 1n, flows: Array.from({ length: 11 }, () => Flow.fromPartial({})) })));
      assert.deepEqual([many?.code, many?.kind], [status.RESOURCE_EXHAUSTED, 'batch_flows']);
      const name = refusalOf(decode(wire({ nodeName: 'n'.repeat(21), sessionId: 's' })));
      assert.deepEqual([name?.code, name?.kind], [status.INVALID_ARGUMENT, 'node_name']);
      const session = refusalOf(decode(wire({ sessionId: 's'.repeat(21) })));
      assert.equal(session?.kind, 'node_name');
      const garbage = refusalOf(decode(Buffer.from([0x2a, 0xff, 0xff, 0xff, 0xff, 0x0f])));
      assert.deepEqual([garbage?.code, garbage?.kind], [status.INVALID_ARGUMENT, 'malformed']);
      assert.equal(budget.inflight, 0);
    });

    it('admits a batch of columns by its column count and table sizes; refuses malformed columns by name', () => {
      const budget = new IngestBudget(1 << 20);
      const decode = boundedBatchDecoder(limits, budget);
      const flows = [0, 1].map((k) => ok({ uuid: `00000000-0000-4000-8000-00000000000${k}`, emitter: { name: 'Cillion', version: '' } }));
      const bytes = wire({ sessionId: 's', sequence: 1n, columns: encodeColumns(flows).columns });
      const b = decode(bytes);
      assert.equal(refusalOf(b), undefined);
      assert.equal(budget.inflight, columnsCost(bytes.length, { count: 2, strings: 1, endpoints: 0, paths: 0 }));
      decodeFlows(b);
      assert.deepStrictEqual(flowsOf(incomingColumns(b, 10).columns), flows);
      const many = encodeColumns(Array.from({ length: 11 }, (_, k) => ok({ uuid: `00000000-0000-4000-8000-0000000000${10 + k}` }))).columns;
      const over = refusalOf(decode(wire({ sessionId: 's', sequence: 2n, columns: many })));
      assert.deepEqual([over?.code, over?.kind, over?.message], [status.RESOURCE_EXHAUSTED, 'batch_flows', 'batch of 11 flows; at most 10 per batch']);
      const both = refusalOf(decode(wire({ sessionId: 's', sequence: 2n, flows: [ok()], columns: encodeColumns(flows).columns })));
      assert.deepEqual([both?.code, both?.kind], [status.INVALID_ARGUMENT, 'malformed']);
      const padded = refusalOf(decode(wire({ sessionId: 's', sequence: 2n, columns: { ...encodeColumns(flows).columns, strings: Array.from({ length: 40 }, (_, k) => `s${k}`) } })));
      assert.deepEqual([padded?.code, padded?.message], [status.INVALID_ARGUMENT, 'column batch of 2 flows with 40 strings; at most 32']);
      const broken = decode(wire({ sessionId: 's', sequence: 3n, columns: { ...encodeColumns(flows).columns, emitterName: Buffer.from([1, 0, 0, 0, 9, 0, 0, 0]) } }));
      decodeFlows(broken);
      assert.throws(() => incomingColumns(broken, 10), /column emitterName of flow 1 references entry 9 of strings, which has 1/);
    });

    it('pauses past the budget and refuses past four times the budget, but always admits one batch', () => {
      const budget = new IngestBudget(100);
      assert.ok(budget.take(350));
      assert.ok(budget.full);
      let resumed = false;
      budget.whenFree(() => (resumed = true));
      assert.ok(!budget.take(60));
      budget.release(300);
      assert.ok(resumed);
      const decode = boundedBatchDecoder(limits, new IngestBudget(1));
      const first = decode(wire({ sessionId: 's', sequence: 1n, flows: [ok()] }));
      assert.equal(refusalOf(first), undefined);
      assert.equal(refusalOf(decode(wire({ sessionId: 's', sequence: 2n, flows: [ok()] })))?.kind, 'ingest_full');
    });
  });

  describe('screen', () => {
    const node = 'n1';
    /** Flows as the checked columns the relay screens; `poke` lies in a column afterwards. */
    const columnsOf = (flows: Flow[], poke?: (c: FlowColumns) => void) => {
      const { columns, refused } = encodeColumns(flows);
      assert.deepEqual(refused, []);
      poke?.(columns);
      return viewColumns(columns, { maxFlows: 100 });
    };
    const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
    const screen = (flows: Flow[], w = new UuidWindow(100), poke?: (c: FlowColumns) => void) => screenColumns(columnsOf(flows, poke), node, limits, w);
    const reasons = (flows: Flow[], poke?: (c: FlowColumns) => void) => {
      const s = screen(flows, new UuidWindow(100), poke);
      return { kept: s.keep ? [...s.keep] : flows.map((_, i) => i), reason: s.reason, rejected: s.rejected };
    };

    it('names what the store cannot hold or what exceeds a bound, flow by flow', () => {
      assert.deepEqual(reasons([ok({ uuid: uuid(1) })]), { kept: [0], reason: '', rejected: 0 });
      assert.match(reasons([ok({ uuid: uuid(1) })], (c) => (c.timeNs = Buffer.alloc(8))).reason, /without a capture time/);
      assert.match(reasons([ok({ uuid: uuid(1), time: { seconds: -1n, nanos: 0 } })]).reason, /outside what the store holds/);
      assert.match(reasons([ok({ uuid: uuid(1), time: { seconds: 9_223_372_036n, nanos: 0 } })]).reason, /outside/);
      const hop = { ingressAlert: false, egressAlert: false, expTime: 63, consIngress: 1, consEgress: 2, mac: new Uint8Array(6) };
      const raw = Buffer.from(encodeScionPathBytes({
        type: 'SCION',
        meta: { currInf: 0, currHf: 0, segLens: [4, 0, 0] },
        infoFields: [{ consDir: true, peer: false, segId: 1, timestamp: 1_767_225_600 }],
        hopFields: [hop, hop, hop, hop],
      }));
      const fourHops = ScionPath.fromPartial({ srcIa: '1-ff00:0:110', dstIa: '1-ff00:0:111', type: ScionPathType.SCION_PATH_STANDARD, raw });
      assert.match(reasons([ok({ uuid: uuid(1), scionPath: fourHops })]).reason, /4 hops; at most 3/);
      assert.equal(reasons([ok({ uuid: uuid(1), scionPath: { ...fourHops, raw: raw.subarray(0, 4 + 8 + 3 * 12) } })]).rejected, 0, 'malformed hop fields are the judge\'s to call UNVERIFIED');
      assert.match(reasons([ok({ uuid: uuid(1), source: Endpoint.fromPartial({ labels: ['a', 'b', 'c'] }) })]).reason, /3 labels; at most 2/);
      assert.match(reasons([ok({ uuid: uuid(1), destination: Endpoint.fromPartial({ labels: ['x'.repeat(11)] }) })]).reason, /label of 11/);
      assert.match(reasons([ok({ uuid: uuid(1), source: Endpoint.fromPartial({ podName: 'p'.repeat(31) }) })]).reason, /field of 31 characters/);
      assert.match(reasons([ok({ uuid: uuid(1), IP: { source: '1'.repeat(31), destination: '', ipVersion: 1, sourceXlated: '', encrypted: false } })]).reason, /field of 31 characters/);
      // Only the flow that names a bad table entry is refused.
      const mixed = reasons([ok({ uuid: uuid(1) }), ok({ uuid: uuid(2), source: Endpoint.fromPartial({ labels: ['a', 'b', 'c'] }) }), ok({ uuid: uuid(3) })]);
      assert.deepEqual([mixed.kept, mixed.rejected], [[0, 2], 1]);
    });

    it('refuses a flow whose enum value no Enum column of the store names, keeping the rest of the batch', () => {
      const lying = reasons([ok({ uuid: uuid(1) }), ok({ uuid: uuid(2) })], (c) => {
        c.verdict = Buffer.of(1, 99);
      });
      assert.deepEqual(lying.kept, [0]);
      assert.match(lying.reason, /verdict 99 is not one the store knows/);
      const protocol = reasons([ok({ uuid: uuid(1) })], (c) => {
        c.trafficDirection = Buffer.of(77);
      });
      assert.match(protocol.reason, /traffic direction 77/);
    });

    it('gives a flow without a uuid a fresh one', () => {
      const cols = columnsOf([ok({ uuid: uuid(1) }), ok({ uuid: uuid(2) })], (c) => {
        c.uuid = Buffer.alloc(0);
      });
      const s = screenColumns(cols, node, limits, new UuidWindow(10));
      assert.equal(s.rejected, 0);
      const ids = cols.bytes('uuid');
      assert.ok(!ids.subarray(0, 16).every((b) => b === 0) && !Buffer.from(ids.subarray(0, 16)).equals(Buffer.from(ids.subarray(16, 32))));
    });

    it('writes fresh uuids into the uuid column alone when the collector omitted it and others', () => {
      // A collector sending all-zero uuids and no verdict or path columns: the fresh uuids
      // must not show through the omitted columns (they once shared one zero buffer).
      const cols = columnsOf([ok({ uuid: uuid(1) }), ok({ uuid: uuid(2) })], (c) => {
        c.uuid = Buffer.alloc(0);
        c.verdict = Buffer.alloc(0);
        c.path = Buffer.alloc(0);
      });
      const verdictBefore = [...cols.u8('verdict')];
      screenColumns(cols, node, limits, new UuidWindow(10));
      assert.ok(!cols.bytes('uuid').every((b) => b === 0), 'the uuids were filled');
      assert.deepEqual([...cols.u8('verdict')], verdictBefore);
      assert.ok(cols.u32('path').every((v) => v === 0), 'an omitted path column stays no path');
      assert.ok(cols.u8('verdict').every((v) => v === 0));
    });

    it('keeps the first of each uuid within a batch and across batches, and forgets a batch that was not stored', () => {
      const w = new UuidWindow(3);
      const s1 = screen([ok({ uuid: uuid(0xa) }), ok({ uuid: uuid(0xa) }), ok({ uuid: uuid(0xb) }), ok({ uuid: uuid(0xc), source: Endpoint.fromPartial({ labels: ['a', 'b', 'c'] }) })], w);
      assert.deepEqual([...(s1.keep ?? [])], [0, 2]);
      assert.deepEqual([s1.rejected, s1.duplicates], [2, 1]);
      const s2 = screen([ok({ uuid: uuid(0xb) }), ok({ uuid: uuid(0xd) })], w);
      assert.deepEqual([...(s2.keep ?? [])], [1]);
      w.forget(s2.keys);
      assert.equal(screen([ok({ uuid: uuid(0xd) })], w).rejected, 0);
      screen([ok({ uuid: uuid(0xe) }), ok({ uuid: uuid(0xf) })], w);
      assert.ok(!w.has(uuidKeys()(node, uuidBytes(uuid(0xa)))), 'the oldest uuid is forgotten beyond the window');
      // A batch within the window's size: the window itself catches the second of a uuid.
      const s3 = screen([ok({ uuid: uuid(0x10) }), ok({ uuid: uuid(0x11) }), ok({ uuid: uuid(0x10) })], new UuidWindow(10));
      assert.deepEqual([...(s3.keep ?? [])], [0, 1]);
      assert.equal(s3.duplicates, 1);
    });

    it('keeps a uuid forgotten and accepted again for a whole window from its second acceptance', () => {
      const w = new UuidWindow(2);
      const uuidKey = uuidKeys();
      const key = (n: number) => uuidKey(node, uuidBytes(uuid(n)));
      w.add(key(1));
      w.forget([key(1)]);
      w.add(key(2));
      w.add(key(1));
      w.add(key(3));
      assert.ok(w.has(key(1)) && w.has(key(3)) && !w.has(key(2)), 'the ring slot of the first acceptance does not take the second away');
      w.add(key(4));
      assert.ok(!w.has(key(1)) && w.has(key(3)) && w.has(key(4)));
    });

    it("keys uuids by node: another node sending a node's uuids first cannot get that node's flows refused", () => {
      const w = new UuidWindow(10);
      const flows = [ok({ uuid: uuid(7) })];
      assert.equal(screenColumns(columnsOf(flows), 'intruder', limits, w).rejected, 0);
      assert.equal(screenColumns(columnsOf(flows), 'victim', limits, w).rejected, 0);
      assert.equal(screenColumns(columnsOf(flows), 'victim', limits, w).duplicates, 1);
      // Names are keyed by their UTF-8 bytes: a name spelling another's bytes as latin1 is another node.
      assert.equal(screenColumns(columnsOf(flows), 'zürich', limits, w).rejected, 0);
      assert.equal(screenColumns(columnsOf(flows), Buffer.from('zürich', 'utf8').toString('latin1'), limits, w).rejected, 0);
      assert.equal(screenColumns(columnsOf(flows), 'zürich', limits, w).duplicates, 1);
    });
  });

  it('counts every breach and logs one line per kind per interval', () => {
    const metrics = new RelayMetrics({ processMetrics: false });
    const lines: string[] = [];
    let t = 0;
    const b = new Breaches(metrics, (l) => lines.push(l), 1000, () => t);
    for (let i = 0; i < 5; i++) b.record('filters', `too many ${i}`, 'peer');
    b.record('node_name', 'long', 'peer');
    t = 1500;
    b.record('filters', 'again', 'peer');
    assert.deepEqual(lines, ['limit filters from peer: too many 0', 'limit node_name from peer: long', 'limit filters from peer: again (4 more since the last line)']);
    return metrics.text().then((text) => assert.match(text, /cillion_limit_breaches_total\{kind="filters"\} 6/));
  });

  it('turns engine errors into limit errors or an error id, keeping the engine text out of the message', () => {
    const l = { timeoutMs: 100, maxRowsToRead: 10 };
    const t = engineError(Object.assign(new Error('Code: 159. DB::Exception: Timeout exceeded (TIMEOUT_EXCEEDED)'), { type: 'TIMEOUT_EXCEEDED' }), 'reading flows', l);
    assert.ok(t instanceof HistoryLimitError && t.kind === 'query_time');
    const r = engineError(new Error('Code: 158. DB::Exception: Limit for rows exceeded. (TOO_MANY_ROWS)'), 'reading flows', l);
    assert.ok(r instanceof HistoryLimitError && r.kind === 'query_rows');
    const o = engineError(new Error('Code: 62. DB::Exception: Syntax error: failed at position 1 (SYNTAX_ERROR)'), 'reading flows', l);
    assert.ok(o instanceof EngineError);
    assert.match(o.message, /^reading flows failed in the flow store \(error id [0-9a-f]{12}\)$/);
    assert.match(o.detail, /Syntax error/);
  });
});
