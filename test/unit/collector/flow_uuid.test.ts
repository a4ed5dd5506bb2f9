import assert from 'node:assert/strict';
import { FlowUuids, nextFlowUuid } from '../../../collector/flow_uuid';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The uuid's 16 bytes. */
const bytes = (u: string): Buffer => Buffer.from(u.replace(/-/g, ''), 'hex');
const unixMs = (u: string): number => bytes(u).readUIntBE(0, 6);
const counter = (u: string): number => bytes(u).readUInt16BE(6) & 0xfff;

/** A clock that returns the times given, then the last one. */
function clock(...times: number[]): () => number {
  let i = 0;
  return () => times[Math.min(i++, times.length - 1)];
}

/** Each uuid is above the one before it, as 128-bit numbers (and so as text). */
function assertRising(uuids: string[]): void {
  for (let i = 1; i < uuids.length; i++) {
    assert.ok(Buffer.compare(bytes(uuids[i - 1]), bytes(uuids[i])) < 0, `uuid ${i} ${uuids[i]} is not above ${uuids[i - 1]}`);
    assert.ok(uuids[i - 1] < uuids[i]);
  }
}

describe('collector/flow_uuid', () => {
  it('makes UUIDv7: version 7, RFC 9562 variant, the Unix time in milliseconds first', () => {
    const t = Date.UTC(2026, 11, 5, 0, 0, 0, 123);
    const u = new FlowUuids(() => t).next();
    assert.match(u, V7);
    assert.equal(bytes(u)[6] >> 4, 7);
    assert.equal(bytes(u)[8] >> 6, 0b10);
    assert.equal(unixMs(u), t);
    assert.equal(counter(u), 0);
    assert.match(nextFlowUuid(), V7);
    assert.ok(Math.abs(unixMs(nextFlowUuid()) - Date.now()) < 60_000);
  });

  it('sets the variant whatever the random bytes, and keeps the other 62 bits of rand_b as drawn', () => {
    for (const fill of [0x00, 0xff, 0x5a]) {
      const random = Buffer.alloc(8, fill);
      const b = bytes(new FlowUuids(() => 1, random).next());
      assert.equal(b[8] >> 6, 0b10);
      assert.equal(b[8] & 0x3f, fill & 0x3f);
      assert.deepEqual(b.subarray(9), random.subarray(1));
    }
    assert.throws(() => new FlowUuids(Date.now, Buffer.alloc(7)), RangeError);
  });

  it('rises within one millisecond by its counter, and borrows the next millisecond when the counter is spent', () => {
    const g = new FlowUuids(() => 5_000);
    const uuids = Array.from({ length: 4096 + 3 }, () => g.next());
    assertRising(uuids);
    assert.deepEqual([unixMs(uuids[0]), counter(uuids[0])], [5_000, 0]);
    assert.deepEqual([unixMs(uuids[4095]), counter(uuids[4095])], [5_000, 4095]);
    assert.deepEqual([unixMs(uuids[4096]), counter(uuids[4096])], [5_001, 0]);
    // The clock reaching the borrowed millisecond does not repeat it.
    const h = new FlowUuids(clock(...Array<number>(4097).fill(7_000), 7_001, 7_002));
    const more = Array.from({ length: 4100 }, () => h.next());
    assertRising(more);
    assert.deepEqual([unixMs(more[4097]), counter(more[4097])], [7_001, 1]);
    assert.deepEqual([unixMs(more[4098]), counter(more[4098])], [7_002, 0]);
  });

  it('keeps rising when the wall clock steps back, and starts its counter again once the clock passes it', () => {
    const g = new FlowUuids(clock(10_000, 10_000, 9_000, 8_500, 9_999, 10_000, 10_001));
    const uuids = Array.from({ length: 7 }, () => g.next());
    assertRising(uuids);
    assert.deepEqual(uuids.map(unixMs), [10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_001]);
    assert.deepEqual(uuids.map(counter), [0, 1, 2, 3, 4, 5, 0]);
  });

  it('two generators at the same clock never make the same uuid', () => {
    const a = new FlowUuids(() => 42);
    const b = new FlowUuids(() => 42);
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      seen.add(a.next());
      seen.add(b.next());
    }
    assert.equal(seen.size, 20_000);
  });
});
