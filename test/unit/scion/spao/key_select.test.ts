// Epoch selection by acceptance window. The scenarios are transcribed from scionproto's
// private/drkey/drkeyutil/provider_test.go TestGetKeyWithinAcceptanceWindow and
// pkg/spao/timestamp_test.go TestTimestamp (github.com/scionproto/scion at commit
// ce575dc806e9009faaafb8b788c62b92af971146): 24 h epochs, a 1-minute acceptance window,
// the current epoch starting one day after the Unix epoch.
import assert from 'node:assert/strict';
import { type Epoch, gridEpoch, NS } from '../../../../scion/drkey/epoch';
import { checkAcceptanceWindow, type EpochKey, selectEpochKey } from '../../../../scion/spao/key_select';
import { absoluteTimestamp, MAX_TIMESTAMP, relativeTimestamp, SendClock } from '../../../../scion/spao/timestamp';

const DAY = 86_400;
const WINDOW = 60n * NS;
const epochStart = BigInt(DAY) * NS;
const prev: Epoch = { begin: 0, end: DAY };
const current: Epoch = { begin: DAY, end: 2 * DAY };
const next: Epoch = { begin: 2 * DAY, end: 3 * DAY };
const keys: EpochKey[] = [prev, current, next].map((epoch, i) => ({ epoch, key: new Uint8Array(16).fill(i) }));
const s = (n: number): bigint => BigInt(n) * NS;

function pick(now: bigint, epoch: Epoch, send: bigint): Epoch | undefined {
  return selectEpochKey(keys, relativeTimestamp(epoch, send), now, WINDOW)?.key.epoch;
}

describe('SPAO epoch selection (scionproto provider_test scenarios)', () => {
  it('valid: packet sent and received within same epoch', () => {
    const now = epochStart + s(30);
    assert.deepEqual(pick(now, current, now - s(1)), current);
  });
  it('valid: packet sent in previous epoch within grace period', () => {
    assert.deepEqual(pick(epochStart + s(2), prev, epochStart - s(1)), prev);
  });
  it('invalid: timestamp outside epoch + grace period', () => {
    assert.equal(pick(epochStart + s(60), prev, epochStart + s(30)), undefined);
  });
  it('valid: timestamp at epoch boundary within grace period', () => {
    assert.deepEqual(pick(epochStart + s(4), prev, epochStart + s(3)), prev);
  });
  it('invalid: absTime before acceptance window', () => {
    const now = epochStart + s(60);
    assert.equal(pick(now, current, now - s(40)), undefined);
  });
  it('invalid: absTime after acceptance window', () => {
    const now = epochStart + s(300);
    assert.equal(pick(now, current, now + s(40)), undefined);
  });
  it('valid: absTime at edge of acceptance window', () => {
    const now = epochStart + s(300);
    assert.deepEqual(pick(now, current, now - s(29)), current);
  });
  it('refuses a window wider than the shortest epoch, where two epochs could match', () => {
    assert.throws(() => checkAcceptanceWindow(361n * NS), { code: 'BAD_CONFIG' });
    assert.throws(() => checkAcceptanceWindow(0n), { code: 'BAD_CONFIG' });
    assert.equal(checkAcceptanceWindow(360n * NS), 360n * NS);
  });
});

describe('SPAO timestamps (scionproto timestamp_test scenarios)', () => {
  const now = 1_780_000_123_456_789_012n;
  it('valid: the relative timestamp gives back the send time', () => {
    const epoch = gridEpoch(Number(now / NS), DAY);
    assert.equal(absoluteTimestamp(epoch, relativeTimestamp(epoch, now)), now);
  });
  it('invalid: an epoch four days back needs more than 48 bits', () => {
    const epoch = gridEpoch(Number(now / NS) - 4 * DAY, DAY);
    assert.throws(() => relativeTimestamp(epoch, now), { code: 'BAD_TIMESTAMP' });
  });
  it('refuses a send time before the epoch and accepts the last 48-bit value', () => {
    assert.throws(() => relativeTimestamp(current, epochStart - 1n), { code: 'BAD_TIMESTAMP' });
    assert.equal(relativeTimestamp(current, epochStart + BigInt(MAX_TIMESTAMP)), MAX_TIMESTAMP);
  });
  it('SendClock never repeats a timestamp, even when the clock stands still or goes back', () => {
    let t = 1000n;
    const clock = new SendClock(() => t);
    const seen = [clock.next(), clock.next()];
    t = 900n;
    seen.push(clock.next());
    t = 5000n;
    seen.push(clock.next());
    assert.deepEqual(seen, [1000n, 1001n, 1002n, 5000n]);
  });
});
