// WriteQueue.clear(): what a replica that lost its Lease does with status not yet written.
import assert from 'node:assert/strict';
import { WriteQueue } from '../../../kube/writequeue';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('operator/sources WriteQueue.clear', () => {
  it('drops queued values and retries; a write in flight finishes but is not retried; the queue stays usable', async () => {
    const attempts: string[] = [];
    let release!: (ok: boolean) => void;
    const q = new WriteQueue<string>(
      async (key, value) => {
        attempts.push(`${key}=${value}`);
        if (key !== 'a') return;
        const ok = await new Promise<boolean>((r) => (release = r));
        if (!ok) throw new Error('refused');
      },
      { backoff: { initialMs: 10, maxMs: 10, random: () => 0 } },
    );
    q.put('a', '1');
    q.put('a', '2');
    assert.deepEqual(attempts, ['a=1'], 'a=2 waits behind the write in flight');
    q.clear();
    release(false);
    await q.idle();
    await sleep(50);
    assert.deepEqual(attempts, ['a=1'], 'neither the queued a=2 nor a retry of a=1 went out');
    assert.equal(q.size, 0);

    q.put('b', '1');
    await q.idle();
    assert.deepEqual(attempts, ['a=1', 'b=1']);
    await q.close();
  });

  it('stops a key waiting out its backoff', async () => {
    let calls = 0;
    const q = new WriteQueue<number>(
      async () => {
        calls++;
        throw new Error('unavailable');
      },
      { backoff: { initialMs: 40, maxMs: 40, random: () => 0 } },
    );
    q.put('a', 1);
    await sleep(5);
    assert.equal(calls, 1);
    q.clear();
    await q.idle();
    await sleep(60);
    assert.equal(calls, 1);
    await q.close();
  });
});
