import assert from 'node:assert/strict';
import { ReplayWindow } from '../../../../scion/spao/replay_window';

describe('SPAO replay window', () => {
  it('accepts each timestamp of a sender once, and the same timestamp from another sender', () => {
    const w = new ReplayWindow();
    assert.equal(w.check('a', 100n), 'fresh');
    assert.equal(w.check('a', 100n), 'replayed');
    assert.equal(w.check('b', 100n), 'fresh');
  });

  it('accepts reordered packets within maxReorderNs and refuses older ones', () => {
    const w = new ReplayWindow({ maxReorderNs: 50n });
    assert.equal(w.check('a', 1000n), 'fresh');
    assert.equal(w.check('a', 960n), 'fresh');
    assert.equal(w.check('a', 949n), 'too-old');
    assert.equal(w.check('a', 960n), 'replayed');
  });

  it('refuses anything at or below a timestamp it had to forget (perSender limit)', () => {
    const w = new ReplayWindow({ perSender: 4, maxReorderNs: 1_000n });
    for (const t of [10n, 20n, 30n, 40n]) assert.equal(w.check('a', t), 'fresh');
    assert.equal(w.check('a', 25n), 'fresh'); // fifth: 10 is forgotten, floor 10
    assert.equal(w.check('a', 10n), 'too-old'); // could be a replay of the forgotten packet
    // 15 was never seen and lies above the floor; kept among five, it is the oldest and goes.
    assert.equal(w.check('a', 15n), 'fresh');
    assert.equal(w.check('a', 15n), 'too-old');
    assert.equal(w.check('a', 20n), 'replayed');
  });

  it('forgets the least recently seen sender at maxSenders, counts it, and refuses its old packets afterwards', () => {
    const w = new ReplayWindow({ maxSenders: 2 });
    assert.equal(w.check('a', 100n), 'fresh');
    assert.equal(w.check('b', 200n), 'fresh');
    assert.equal(w.check('a', 101n), 'fresh'); // a is now the most recent
    assert.equal(w.check('c', 300n), 'fresh'); // evicts b
    assert.deepEqual(w.stats(), { senders: 2, evictions: 1, evictedFloor: 200n });
    // b's state is gone; a replay of its packet must not pass as new.
    assert.equal(w.check('b', 200n), 'too-old');
    assert.equal(w.check('d', 150n), 'too-old');
    assert.equal(w.check('d', 250n), 'fresh');
  });

  it('refuses limits that make no window', () => {
    assert.throws(() => new ReplayWindow({ maxSenders: 0 }), { code: 'BAD_CONFIG' });
    assert.throws(() => new ReplayWindow({ perSender: 0 }), { code: 'BAD_CONFIG' });
    assert.throws(() => new ReplayWindow({ maxReorderNs: -1n }), { code: 'BAD_CONFIG' });
  });
});
