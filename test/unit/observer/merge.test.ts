import assert from 'node:assert/strict';
import type { Flow } from '../../../proto/gen/flow/flow';
import { flowList, type LiveBatch } from '../../../observer/live';
import { TimeMerger } from '../../../observer/merge';
import { makeFlow, T0_NS } from './helpers';

const T0_MS = Number(T0_NS / 1_000_000n);

describe('observer/merge', () => {
  let now: number;
  let out: Flow[][];
  let merger: TimeMerger;
  const pods = () => out.flat().map((f) => Number(f.source?.podName.slice(4)));

  const collect = (batches: readonly LiveBatch[], index: Uint32Array, n: number): void => {
    out.push(Array.from({ length: n }, (_, k) => batches[k].flow(index[k])));
  };

  beforeEach(() => {
    now = T0_MS;
    out = [];
    merger = new TimeMerger({ windowMs: 1000, maxFlows: 10, tickMs: 60_000, now: () => now, release: collect });
  });
  afterEach(() => merger.close());

  it('interleaves two nodes by capture time once the window has passed', () => {
    // Flow i is captured at T0 + i ms; node A sends evens, node B odds, each batch late.
    merger.add(flowList([0, 2, 4, 6].map((i) => makeFlow(i))));
    merger.add(flowList([1, 3, 5, 7].map((i) => makeFlow(i))));
    now = T0_MS + 500;
    merger.tick();
    assert.deepEqual(out, []);
    now = T0_MS + 1004;
    merger.tick();
    assert.deepEqual(pods(), [0, 1, 2, 3, 4]);
    now = T0_MS + 2000;
    merger.tick();
    assert.deepEqual(pods(), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(merger.held, 0);
  });

  it('releases the oldest beyond maxFlows at once', () => {
    merger.add(flowList([5, 3, 9, 1, 7, 11, 13, 15, 17, 19, 21, 23].map((i) => makeFlow(i))));
    assert.deepEqual(pods(), [1, 3]);
    assert.equal(merger.held, 10);
  });

  it('does not hold flows stamped in the future longer than twice the window', () => {
    const ahead = makeFlow(60_000);
    merger.add(flowList([ahead, makeFlow(10)]));
    now = T0_MS + 1500;
    merger.tick();
    assert.deepEqual(pods(), [10]);
    now = T0_MS + 2001;
    merger.tick();
    assert.deepEqual(pods(), [10, 60_000]);
  });

  it('releases a burst a slice at a time, letting the event loop run between slices', async () => {
    const sliced = new TimeMerger({ windowMs: 1000, tickMs: 60_000, sliceFlows: 2, now: () => now, release: collect });
    sliced.add(flowList([4, 0, 3, 1, 2].map((i) => makeFlow(i))));
    now = T0_MS + 2000;
    sliced.tick();
    assert.deepEqual(pods(), [0, 1], 'one slice at once');
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(pods(), [0, 1, 2, 3, 4], 'the rest on the next turns');
    assert.equal(out.length, 3);
    sliced.close();
  });

  it('flush releases everything in time order', () => {
    merger.add(flowList([3, 1, 2].map((i) => makeFlow(i))));
    merger.flush();
    assert.deepEqual(pods(), [1, 2, 3]);
  });

  it('passes flows straight through with a zero window', () => {
    const direct = new TimeMerger({ windowMs: 0, release: collect });
    direct.add(flowList([makeFlow(2), makeFlow(1)]));
    assert.deepEqual(pods(), [2, 1]);
    direct.close();
  });
});
