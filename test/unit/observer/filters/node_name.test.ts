import assert from 'node:assert/strict';
import { matches, rejects } from './helpers';

describe('observer/filters: node_name', () => {
  const node = (n: string) => ({ nodeName: n });

  it('globs stay within one name part', () => {
    assert.equal(matches({ nodeName: ['zrh-node-*'] }, node('zrh-node-1')), true);
    assert.equal(matches({ nodeName: ['zrh-*'] }, node('fra-node-1')), false);
    assert.equal(matches({ nodeName: ['zrh-node-1'] }, node('zrh-node-10')), false);
    assert.equal(matches({ nodeName: ['zrh.node'] }, node('zrhxnode')), false);
  });

  it('cluster-qualified patterns, with "default" for unqualified flows', () => {
    assert.equal(matches({ nodeName: ['zurich/*'] }, node('zurich/zrh-node-1')), true);
    assert.equal(matches({ nodeName: ['zrh-node-1'] }, node('zurich/zrh-node-1')), true);
    assert.equal(matches({ nodeName: ['default/zrh-*'] }, node('zrh-node-1')), true);
    assert.equal(matches({ nodeName: ['zurich/*'] }, node('zrh-node-1')), false);
    assert.equal(matches({ nodeName: ['*'] }, node('')), false);
  });

  it('refuses malformed patterns', () => {
    rejects({ nodeName: ['a/b/c'] }, /node_name: invalid pattern/);
    rejects({ nodeName: ['node?'] }, /invalid pattern/);
  });
});

describe('observer/filters: node_name against pathological patterns', () => {
  it('matches a pattern of many stars in linear time', () => {
    const pattern = `${'*'.repeat(30)}x`;
    const name = `zurich/${'a'.repeat(60)}`;
    const t0 = Date.now();
    for (let i = 0; i < 100; i++) {
      assert.equal(matches({ nodeName: [pattern] }, { nodeName: name }), false);
      assert.equal(matches({ nodeName: [`${'*'.repeat(30)}/${'*a'.repeat(25)}`] }, { nodeName: name }), true);
    }
    assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
  });
});
