import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowFilter, type Flow } from '../../../proto/gen/flow/flow';
import { NodeBook } from '../../../observer/nodes';
import { flowList, type LiveBatch } from '../../../observer/live';
import { FlowHub } from '../../../observer/hub';
import { nsTimestamp } from '../../../observer/time';
import { openStore, type FlowStore } from '../../../relay/store/store';
import type { GetFlowsResponse } from '../../../proto/gen/observer/observer';
import { flowTimeNs, getFlows, makeFlow, readAll, serveObserver, serverStatus, uuidOf, uuidsOf, type Served } from './helpers';
import { until } from '../../until';

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('observer/service with the embedded store (chdb)', function () {
  this.timeout(60_000);
  let dir: string;
  let store: FlowStore;
  let hub: FlowHub;
  let served: Served;
  let sequence = 0n;

  /**
   * What the relay does with a batch: mark it on its way, then publish it (after the merge
   * window) and store it, in whichever order their delays give.
   */
  async function relayBatch(flows: Flow[], delays: { publishMs?: number; storeMs?: number } = {}): Promise<void> {
    const batch = flowList(flows);
    hub.expect(batch);
    const published = sleep(delays.publishMs ?? 0).then(() => hub.publishRefs(new Array<LiveBatch>(flows.length).fill(batch), Uint32Array.from(flows.keys()), flows.length));
    await sleep(delays.storeMs ?? 0);
    await store.insertBatch({ sessionId: 'sess', sequence: ++sequence, nodeName: 'node-a', flows });
    hub.settle(batch);
    await published;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-observer-test-'));
    store = await openStore({ dataDir: dir });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    // A small ring: history must come from the store, not from memory.
    hub = new FlowHub({ capacity: 4 });
    served = await serveObserver({ hub, store, nodes: new NodeBook(), status: () => ({ version: 'v', uptimeNs: 0n }) });
  });
  afterEach(() => served.close());

  it('answers number, first, since/until and filters from the store', async () => {
    await relayBatch(range(0, 200).map((i) => makeFlow(i)));
    assert.deepEqual(uuidsOf(await readAll(getFlows(served.client, { number: 3n }))), [197, 198, 199].map(uuidOf));
    assert.deepEqual(uuidsOf(await readAll(getFlows(served.client, { number: 2n, first: true }))), [0, 1].map(uuidOf));
    const ranged = await readAll(getFlows(served.client, { since: nsTimestamp(flowTimeNs(10) + 1n), until: nsTimestamp(flowTimeNs(14)) }));
    assert.deepEqual(uuidsOf(ranged), [11, 12, 13, 14].map(uuidOf));
    const filtered = await readAll(getFlows(served.client, { number: 4n, whitelist: [FlowFilter.fromPartial({ sourcePod: ['shop/'] })] }));
    assert.deepEqual(uuidsOf(filtered), [189, 192, 195, 198].map(uuidOf));
    const back = (await readAll(getFlows(served.client, { number: 1n })))[0].responseTypes;
    assert.equal(back?.$case, 'flow');
    // Stored in node-a's batch, so node-a's whatever the flow said.
    if (back?.$case === 'flow') assert.deepEqual(back.value, { ...makeFlow(199), nodeName: 'node-a' });
    const { res } = await serverStatus(served.client);
    assert.equal(res.numFlows, 200n);
    assert.equal(res.maxFlows, 0n);
  });

  it('joins history and live without a gap or a duplicate while flows keep arriving', async () => {
    const base = 1000;
    const before = 3000;
    for (let i = 0; i < before; i += 500) await relayBatch(range(base + i, base + i + 500).map((k) => makeFlow(k)));
    const total = before + 600;
    const stream = getFlows(served.client, { since: nsTimestamp(flowTimeNs(base)), follow: true });
    const got: GetFlowsResponse[] = [];
    stream.on('data', (r: GetFlowsResponse) => got.push(r));
    stream.on('error', () => undefined);
    // Batches arriving while history is read: live before stored, and stored before live (a
    // merge window longer than the insert), alternately.
    const arriving: Promise<void>[] = [];
    for (let i = before; i < total; i += 50) {
      const delays = (i / 50) % 2 === 0 ? { storeMs: 150 } : { publishMs: 150 };
      arriving.push(relayBatch(range(base + i, base + i + 50).map((k) => makeFlow(k)), delays));
      await sleep(5);
    }
    await Promise.all(arriving);
    await until(`all ${total} flows on the stream`, () => new Set(uuidsOf(got)).size >= total, 20_000);
    // A duplicate would come after the last new flow; give it time to show.
    await sleep(300);
    stream.cancel();
    const uuids = uuidsOf(got);
    assert.equal(new Set(uuids).size, uuids.length, 'no flow twice');
    assert.deepEqual([...uuids].sort(), range(base, base + total).map(uuidOf).sort());
  });
});
