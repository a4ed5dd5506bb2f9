import assert from 'node:assert/strict';
import { GroupCommit, type Committable, type GroupStats } from '../../../../relay/export/group_commit';

interface Item extends Committable {
  id: string;
}

const item = (id: string, sessionId: string, flows = 10, nodeName = 'n'): Item => ({ id, nodeName, sessionId, flows });

/** An insert the test releases by hand, recording each group. */
class ManualInsert {
  readonly groups: string[][] = [];
  private pending: Array<{ resolve: (r: (Error | undefined)[]) => void; reject: (e: Error) => void }> = [];

  readonly insert = (group: Item[]): Promise<(Error | undefined)[]> => {
    this.groups.push(group.map((i) => i.id));
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  };

  /** Settles the oldest insert under way. */
  finish(outcome: (Error | undefined)[] | Error = []): void {
    const p = this.pending.shift();
    assert.ok(p, 'no insert under way');
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
  }
}

/** Lets promise callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

function track(p: Promise<void>): { state: 'pending' | 'stored' | Error } {
  const t: { state: 'pending' | 'stored' | Error } = { state: 'pending' };
  p.then(
    () => (t.state = 'stored'),
    (e: Error) => (t.state = e),
  );
  return t;
}

describe('relay/export/group_commit', () => {
  it('takes every batch that waited during an insert into the next one, and settles each with its group', async () => {
    const ins = new ManualInsert();
    const stats: GroupStats[] = [];
    const gc = new GroupCommit<Item>(ins.insert, { maxFlows: 1000, concurrency: 1, onGroup: (g) => stats.push(g) });
    const a = track(gc.add(item('a1', 'a')));
    const b = track(gc.add(item('b1', 'b')));
    const c = track(gc.add(item('c1', 'c')));
    assert.deepEqual(ins.groups, [['a1']]);
    assert.equal(gc.queued, 2);
    ins.finish();
    await settle();
    assert.equal(a.state, 'stored');
    assert.equal(b.state, 'pending', 'acknowledged only once its own insert is done');
    assert.deepEqual(ins.groups, [['a1'], ['b1', 'c1']]);
    ins.finish();
    await settle();
    assert.equal(b.state, 'stored');
    assert.equal(c.state, 'stored');
    assert.deepEqual(stats, [{ batches: 1, flows: 10, full: false }, { batches: 2, flows: 20, full: false }]);
    await gc.idle();
  });

  it('stops a group at maxFlows, says so, and leaves the rest for the next insert; a larger batch goes alone', async () => {
    const ins = new ManualInsert();
    const stats: GroupStats[] = [];
    const gc = new GroupCommit<Item>(ins.insert, { maxFlows: 25, concurrency: 1, onGroup: (g) => stats.push(g) });
    const all = [gc.add(item('first', 'x')), gc.add(item('a', 'a')), gc.add(item('b', 'b')), gc.add(item('c', 'c')), gc.add(item('big', 'd', 100))];
    ins.finish();
    await settle();
    assert.deepEqual(ins.groups[1], ['a', 'b'], 'the group holds what fits in 25 flows');
    assert.deepEqual(stats[1], { batches: 2, flows: 20, full: true });
    ins.finish();
    await settle();
    assert.deepEqual(ins.groups[2], ['c']);
    ins.finish();
    await settle();
    assert.deepEqual(ins.groups[3], ['big'], 'a batch over the limit is inserted alone');
    ins.finish();
    await Promise.all(all);
  });

  it('keeps a session in order: its next batch waits for the insert of its earlier one, also with inserts in parallel', async () => {
    const ins = new ManualInsert();
    const gc = new GroupCommit<Item>(ins.insert, { maxFlows: 1000, concurrency: 2 });
    const s1 = track(gc.add(item('s1', 's')));
    const s2 = track(gc.add(item('s2', 's')));
    const t1 = track(gc.add(item('t1', 't')));
    // The second insert may start at once, but not with s2 while s1 is being inserted.
    assert.deepEqual(ins.groups, [['s1'], ['t1']]);
    ins.finish();
    await settle();
    assert.deepEqual(ins.groups, [['s1'], ['t1'], ['s2']]);
    ins.finish();
    ins.finish();
    await settle();
    assert.deepEqual([s1.state, s2.state, t1.state], ['stored', 'stored', 'stored']);
  });

  it('fails a batch refused alone without failing the others of its group; a failed insert fails its group and the session batches queued behind it', async () => {
    const ins = new ManualInsert();
    const gc = new GroupCommit<Item>(ins.insert, { maxFlows: 1000, concurrency: 1 });
    const first = track(gc.add(item('first', 'z')));
    const bad = track(gc.add(item('bad', 'a')));
    const good = track(gc.add(item('good', 'b')));
    ins.finish();
    await settle();
    assert.deepEqual(ins.groups[1], ['bad', 'good']);
    const afterBad = track(gc.add(item('after-bad', 'a')));
    ins.finish([new Error('flow 3 names nothing'), undefined]);
    await settle();
    assert.equal(first.state, 'stored');
    assert.ok(bad.state instanceof Error && /names nothing/.test(bad.state.message));
    assert.equal(good.state, 'stored', 'a batch refused alone does not fail the others');
    assert.ok(afterBad.state instanceof Error && /earlier batch of session a was not stored/.test(afterBad.state.message), 'a later batch of the session must not pass a failed one');
    assert.equal(ins.groups.length, 2, 'the failed session\'s queued batch is never inserted');

    const c1 = track(gc.add(item('c1', 'c')));
    const d1 = track(gc.add(item('d1', 'd')));
    const c2 = track(gc.add(item('c2', 'c')));
    const e1 = track(gc.add(item('e1', 'e')));
    assert.deepEqual(ins.groups[2], ['c1']);
    ins.finish();
    await settle();
    assert.deepEqual(ins.groups[3], ['d1', 'c2', 'e1']);
    ins.finish(new Error('engine down'));
    await settle();
    for (const t of [d1, c2, e1]) assert.ok(t.state instanceof Error && /engine down/.test(t.state.message));
    assert.equal(c1.state, 'stored');
    await gc.idle();
  });
});
