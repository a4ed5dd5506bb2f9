import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { encodeColumns } from '../../../../columns/encode';
import { FlowBatch } from '../../../../proto/gen/export/v1/export';
import { Endpoint, Flow, ScionHop, ScionPath } from '../../../../proto/gen/flow/flow';
import { batchCost, boundedBatchDecoder, decodeFlows, IngestBudget, refusalOf, releaseBatch } from '../../../../relay/export/admission';
import { flowProblem, screenFlows, uuidKey, UuidWindow } from '../../../../relay/export/screen';
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

    it('admits a batch of columns by its column count and turns it into flows; refuses malformed columns by name', () => {
      const budget = new IngestBudget(1 << 20);
      const decode = boundedBatchDecoder(limits, budget);
      const flows = [0, 1].map((k) => ok({ uuid: `00000000-0000-4000-8000-00000000000${k}`, emitter: { name: 'Cillion', version: '' } }));
      const bytes = wire({ sessionId: 's', sequence: 1n, columns: encodeColumns(flows).columns });
      const b = decode(bytes);
      assert.equal(refusalOf(b), undefined);
      assert.equal(budget.inflight, batchCost(bytes.length, 2));
      decodeFlows(b);
      assert.deepStrictEqual(b.flows, flows);
      const many = encodeColumns(Array.from({ length: 11 }, (_, k) => ok({ uuid: `00000000-0000-4000-8000-0000000000${10 + k}` }))).columns;
      const over = refusalOf(decode(wire({ sessionId: 's', sequence: 2n, columns: many })));
      assert.deepEqual([over?.code, over?.kind, over?.message], [status.RESOURCE_EXHAUSTED, 'batch_flows', 'batch of 11 flows; at most 10 per batch']);
      const both = refusalOf(decode(wire({ sessionId: 's', sequence: 2n, flows: [ok()], columns: encodeColumns(flows).columns })));
      assert.deepEqual([both?.code, both?.kind], [status.INVALID_ARGUMENT, 'malformed']);
      const broken = decode(wire({ sessionId: 's', sequence: 3n, columns: { ...encodeColumns(flows).columns, emitterName: Buffer.from([1, 0, 0, 0, 9, 0, 0, 0]) } }));
      assert.throws(() => decodeFlows(broken), /column emitterName of flow 1 references entry 9 of strings, which has 1/);
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
    it('names what the store cannot hold or what exceeds a bound', () => {
      assert.equal(flowProblem(ok(), limits), undefined);
      assert.match(flowProblem(Flow.fromPartial({}), limits) ?? '', /without a capture time/);
      assert.match(flowProblem(ok({ time: { seconds: 0n, nanos: 0 } }), limits) ?? '', /outside what the store holds/);
      assert.match(flowProblem(ok({ time: { seconds: -1n, nanos: 0 } }), limits) ?? '', /outside/);
      assert.match(flowProblem(ok({ time: { seconds: 10_413_792_000n, nanos: 0 } }), limits) ?? '', /outside/);
      assert.match(flowProblem(ok({ time: { seconds: 1n, nanos: -1 } }), limits) ?? '', /nanos/);
      const hops = Array.from({ length: 4 }, () => ScionHop.fromPartial({}));
      assert.match(flowProblem(ok({ scionPath: ScionPath.fromPartial({ hops }) }), limits) ?? '', /4 hops; at most 3/);
      assert.match(flowProblem(ok({ source: Endpoint.fromPartial({ labels: ['a', 'b', 'c'] }) }), limits) ?? '', /3 labels; at most 2/);
      assert.match(flowProblem(ok({ destination: Endpoint.fromPartial({ labels: ['x'.repeat(11)] }) }), limits) ?? '', /label of 11/);
      assert.match(flowProblem(ok({ nodeName: 'n'.repeat(21) }), limits) ?? '', /node name of 21/);
      assert.match(flowProblem(ok({ source: Endpoint.fromPartial({ podName: 'p'.repeat(31) }) }), limits) ?? '', /field of 31 characters/);
    });

    it('keeps the first of each uuid within a batch and across batches, and forgets a batch that was not stored', () => {
      const w = new UuidWindow(3);
      const s1 = screenFlows([ok({ uuid: 'a' }), ok({ uuid: 'a' }), ok({ uuid: 'b' }), Flow.fromPartial({ uuid: 'c' })], limits, w);
      assert.deepEqual(s1.kept.map((f) => f.uuid), ['a', 'b']);
      assert.deepEqual([s1.rejected, s1.duplicates], [2, 1]);
      const s2 = screenFlows([ok({ uuid: 'b' }), ok({ uuid: 'd' })], limits, w);
      assert.deepEqual(s2.kept.map((f) => f.uuid), ['d']);
      w.forget([ok({ uuid: 'd' })]);
      assert.deepEqual(screenFlows([ok({ uuid: 'd' })], limits, w).kept.length, 1);
      screenFlows([ok({ uuid: 'e' }), ok({ uuid: 'f' })], limits, w);
      assert.ok(!w.has(uuidKey('', 'a')), 'the oldest uuid is forgotten beyond the window');
    });

    it("keys uuids by node: another node sending a node's uuids first cannot get that node's flows refused", () => {
      const w = new UuidWindow(10);
      assert.equal(screenFlows([ok({ uuid: 'v', nodeName: 'intruder' })], limits, w).kept.length, 1);
      assert.equal(screenFlows([ok({ uuid: 'v', nodeName: 'victim' })], limits, w).kept.length, 1);
      assert.equal(screenFlows([ok({ uuid: 'v', nodeName: 'victim' })], limits, w).duplicates, 1);
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
