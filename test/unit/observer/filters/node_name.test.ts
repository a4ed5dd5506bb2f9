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
