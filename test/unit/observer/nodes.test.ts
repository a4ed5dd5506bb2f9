import assert from 'node:assert/strict';
import { NodeState } from '../../../proto/gen/relay/relay';
import { NodeBook, zeroCounters } from '../../../observer/nodes';

const counters = (c: Partial<ReturnType<typeof zeroCounters>>) => ({ ...zeroCounters(), ...c });

describe('observer/nodes', () => {
  it('is connected while a stream is open and unavailable after the last one closes', () => {
    let now = 1000;
    const changes: string[] = [];
    const book = new NodeBook({ now: () => now, onState: (n, s) => changes.push(`${n}:${NodeState[s]}`) });
    const s1 = book.streamOpened('10.0.0.1:5000', { enabled: true, serverName: 'node-a' });
    assert.deepEqual(book.list(), [], 'unknown until the first batch names it');
    s1.identify('node-a', 'c1', '1.0.0');
    const s2 = book.streamOpened('10.0.0.1:5001', { enabled: true, serverName: 'node-a' });
    s2.identify('node-a', 'c1');
    now = 3000;
    s1.close();
    s1.close();
    assert.equal(book.get('node-a')?.state, NodeState.NODE_CONNECTED);
    s2.close();
    const n = book.get('node-a');
    assert.equal(n?.state, NodeState.NODE_UNAVAILABLE);
    assert.equal(n?.version, '1.0.0');
    assert.equal(n?.address, '10.0.0.1:5001');
    assert.deepEqual(n?.tls, { enabled: true, serverName: 'node-a' });
    assert.deepEqual(changes, ['node-a:NODE_CONNECTED', 'node-a:NODE_UNAVAILABLE']);
  });

  it('turns cumulative counters into growth, per session, and never lets totals fall', () => {
    const book = new NodeBook({ sessionsPerNode: 2 });
    const r = (sessionId: string, c: Partial<ReturnType<typeof zeroCounters>>) => book.report({ nodeName: 'n', clusterName: 'c', sessionId, counters: counters(c) });
    assert.deepEqual(r('s1', { ringRecords: 10n, exportDrops: 1n }), counters({ ringRecords: 10n, exportDrops: 1n }));
    assert.deepEqual(r('s1', { ringRecords: 15n, exportDrops: 1n }), counters({ ringRecords: 5n }));
    // A batch reordered behind a later one reports less: no growth, nothing taken back.
    assert.deepEqual(r('s1', { ringRecords: 12n }), counters({}));
    // A restarted collector starts a new session from zero.
    assert.deepEqual(r('s2', { ringRecords: 4n }), counters({ ringRecords: 4n }));
    assert.equal(book.totals().ringRecords, 19n);
    // A third session pushes the first out of the per-node memory; its counts stay in the totals.
    r('s3', { ringRecords: 1n });
    assert.equal(book.get('n')?.counters.ringRecords, 20n);
    assert.equal(book.get('n')?.counters.exportDrops, 1n);
  });

  it('forgets the longest-unavailable node beyond maxNodes, never a connected one', () => {
    let now = 0;
    const book = new NodeBook({ maxNodes: 2, now: () => now });
    const live = book.streamOpened('a', { enabled: false, serverName: '' });
    live.identify('connected', 'c');
    now = 10;
    book.report({ nodeName: 'old', clusterName: 'c', sessionId: 's', counters: zeroCounters() });
    now = 20;
    book.report({ nodeName: 'new', clusterName: 'c', sessionId: 's', counters: zeroCounters() });
    assert.deepEqual(book.list().map((n) => n.name), ['connected', 'new']);
  });

  it('counts stored flows per node', () => {
    const book = new NodeBook();
    book.report({ nodeName: 'n', clusterName: 'c', sessionId: 's', counters: zeroCounters() });
    book.stored('n', 3);
    book.stored('n', 4);
    book.stored('unknown', 9);
    assert.equal(book.get('n')?.storedFlows, 7n);
    assert.equal(book.get('unknown'), undefined);
  });
});
