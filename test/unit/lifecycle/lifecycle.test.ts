import assert from 'node:assert/strict';
import { Lifecycle } from '../../../lifecycle/lifecycle';

describe('lifecycle', () => {
  it('stops what started, last first, once', async () => {
    const life = new Lifecycle();
    const order: string[] = [];
    life.defer('a', () => void order.push('a'));
    await life.start('b', () => 'b', (b) => async () => void order.push(b));
    life.defer('c', () => void order.push('c'));
    await Promise.all([life.stop(), life.stop()]);
    await life.stop();
    assert.deepEqual(order, ['c', 'b', 'a']);
  });

  it('stops what a failing start-up started and throws its error', async () => {
    const life = new Lifecycle();
    const order: string[] = [];
    await assert.rejects(
      life.starting(async (l) => {
        l.defer('store', () => void order.push('store'));
        await l.start('server', () => 'server', () => () => void order.push('server'));
        await l.start('metrics', () => Promise.reject(new Error('port taken')), () => () => void order.push('metrics'));
      }),
      /port taken/,
    );
    assert.deepEqual(order, ['server', 'store']);
  });

  it('runs every stop when one fails, and throws the first failure after', async () => {
    const life = new Lifecycle();
    const order: string[] = [];
    life.defer('a', () => void order.push('a'));
    life.defer('b', () => {
      throw new Error('b failed');
    });
    life.defer('c', () => Promise.reject(new Error('c failed')));
    await assert.rejects(life.stop(), /c failed/);
    assert.deepEqual(order, ['a']);
  });

  it('refuses a step started after stopping began', async () => {
    const life = new Lifecycle();
    await life.stop();
    assert.throws(() => life.defer('late', () => undefined), /while the process stops/);
  });
});
