// GetFlows sending stored history as the store's wire bytes answers exactly what it answers
// with a Flow object per row: the same responses for the last N, the first N, nanosecond
// since/until, filters the engine decides, and with a field mask or a filter it does not
// decide (those take the Flow path).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Flow, FlowFilter, Verdict } from '../../../proto/gen/flow/flow';
import type { GetFlowsRequest } from '../../../proto/gen/observer/observer';
import type { FlowHistory } from '../../../observer/history';
import { FlowHub } from '../../../observer/hub';
import { NodeBook } from '../../../observer/nodes';
import { nsTimestamp } from '../../../observer/time';
import { openStore, type FlowStore } from '../../../relay/store/store';
import { makeCorpus } from '../relay/store/corpus';
import { getFlows, readAll, serveObserver, type Served } from './helpers';

const timeNs = (f: Flow): bigint => f.time!.seconds * 1_000_000_000n + BigInt(f.time!.nanos);

describe('observer GetFlows from wire bytes the store encoded', function () {
  this.timeout(120_000);
  let dir: string;
  let store: FlowStore;
  let flows: Flow[];
  let fast: Served;
  let slow: Served;
  let encodedCalls = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-encoded-test-'));
    store = await openStore({ dataDir: dir });
    flows = makeCorpus(5000, 31, Date.now() - 3_600_000).map((f) => Flow.fromPartial({ ...f, nodeName: 'node-a' }));
    for (let at = 0; at < flows.length; at += 1000) {
      await store.insertBatch({ sessionId: 's', sequence: BigInt(at / 1000 + 1), nodeName: 'node-a', flows: flows.slice(at, at + 1000) });
    }
    flows.sort((a, b) => Number(timeNs(a) - timeNs(b)));
    const counted: FlowHistory = {
      query: (q) => store.query(q),
      count: () => store.count(),
      encoded: (q) => {
        const e = store.encoded?.(q);
        if (e) encodedCalls++;
        return e;
      },
    };
    const objectsOnly: FlowHistory = { query: (q) => store.query(q), count: () => store.count() };
    const deps = { nodes: new NodeBook(), status: () => ({ version: 'v', uptimeNs: 0n }) };
    fast = await serveObserver({ ...deps, hub: new FlowHub(), store: counted });
    slow = await serveObserver({ ...deps, hub: new FlowHub(), store: objectsOnly });
  });
  after(async () => {
    await fast?.close();
    await slow?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function same(req: Partial<GetFlowsRequest>, encoded: boolean): Promise<number> {
    const before = encodedCalls;
    const [a, b] = await Promise.all([readAll(getFlows(fast.client, req)), readAll(getFlows(slow.client, req))]);
    assert.deepStrictEqual(a, b);
    assert.equal(encodedCalls - before, encoded ? 1 : 0, encoded ? 'answered from wire bytes' : 'answered from Flow objects');
    return a.length;
  }

  it('answers everything, the last N and the first N alike', async () => {
    assert.equal(await same({ number: 1_000_000n }, true), flows.length);
    assert.equal(await same({ number: 2500n }, true), 2500);
    assert.equal(await same({ number: 3n, first: true }, true), 3);
  });

  it('bounds since and until to the nanosecond, as for Flow objects', async () => {
    const since = timeNs(flows[100]) + 1n;
    const until = timeNs(flows[4000]) - 1n;
    const n = await same({ since: nsTimestamp(since), until: nsTimestamp(until), number: 1_000_000n }, true);
    assert.equal(n, flows.filter((f) => timeNs(f) >= since && timeNs(f) <= until).length);
    assert.equal(await same({ since: nsTimestamp(since), until: nsTimestamp(until), number: 50n }, true), 50);
  });

  it('sends filters the engine decides from wire bytes, and a field mask from Flow objects', async () => {
    const dropped = [FlowFilter.fromPartial({ verdict: [Verdict.DROPPED] })];
    assert.equal(await same({ number: 1_000_000n, whitelist: dropped }, true), flows.filter((f) => f.verdict === Verdict.DROPPED).length);
    assert.ok(await same({ number: 100n, fieldMask: ['uuid', 'time'] }, false) > 0);
  });
});
