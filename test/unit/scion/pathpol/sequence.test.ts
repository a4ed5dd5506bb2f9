import assert from 'node:assert/strict';
import { PathPolicyError, Sequence, sequenceString } from '../../../../scion/pathpol';
import { ALL, EMPTY, names, P1, P2, P3, P4 } from './paths';

const match = (seq: string) => names(new Sequence(seq).filter(ALL));

describe('scion/pathpol: sequence', () => {
  it('writes a path as "ISD-AS#in,out " per AS, as pathpol does', () => {
    assert.equal(sequenceString(P1), '1-ff00:0:133#0,1 1-ff00:0:120#2,3 1-ff00:0:110#4,0 ');
    assert.equal(sequenceString(P4), '1-64512#0,7 1-ff00:0:110#5,0 ');
    assert.equal(sequenceString(EMPTY), '');
  });

  it('compiles a hop to the regular expression pathpol builds', () => {
    assert.equal(new Sequence('1-ff00:0:133#1').regex, '^((1-ff00:0:133#((([0-9]+),1)|(1,([0-9]+)))) +)$');
    assert.equal(new Sequence('1-ff00:0:133#0,1').regex, '^((1-ff00:0:133#([0-9]+),1) +)$');
  });

  it('matches every path when empty', () => {
    assert.deepEqual(match(''), names(ALL));
  });

  it('matches exact hops with interfaces', () => {
    assert.deepEqual(match('1-ff00:0:133#1 1-ff00:0:120#2,3 1-ff00:0:110#4'), names([P1]));
    assert.deepEqual(match('1-ff00:0:133#0,1 1-ff00:0:120#0,3 1-ff00:0:110#4,0'), names([P1]));
  });

  it('matches one interface in either direction', () => {
    assert.deepEqual(match('0* 1-ff00:0:120#3 0*'), names([P1, P2]));
    assert.deepEqual(match('0* 1-ff00:0:120#0,3 0*'), names([P1, P2]));
    assert.deepEqual(match('0* 1-ff00:0:120#3,0 0*'), []);
  });

  it('supports ISD-only, wildcard AS and BGP-style AS hops', () => {
    assert.deepEqual(match('0* 2 0*'), names([P3]));
    assert.deepEqual(match('1-0 1-0+'), names([P1, P2, P4]));
    assert.deepEqual(match('1-64512 0'), names([P4]));
  });

  it('supports ?, + and *', () => {
    assert.deepEqual(match('0*'), names(ALL));
    assert.deepEqual(match('0 0 0'), names([P1]));
    assert.deepEqual(match('1-ff00:0:133 0+ 1-ff00:0:110'), names([P1, P2]));
    assert.deepEqual(match('1-ff00:0:133 1-ff00:0:121? 1-ff00:0:120 1-ff00:0:110'), names([P1, P2]));
    assert.deepEqual(match('0+'), names([P1, P2, P3, P4]));
  });

  it('supports parentheses', () => {
    assert.deepEqual(match('(0 0)+'), names([P2, P3, P4]));
    assert.deepEqual(match('(0 0)*'), names([P2, P3, P4, EMPTY]));
  });

  it('binds | tighter than concatenation, as pathpol\'s grammar does', () => {
    // A B (C|D) 0*: with | binding loosest this would be (A B C) | (D 0*), matching P1 only.
    assert.deepEqual(match('1-ff00:0:133 1-ff00:0:120 1-ff00:0:110|2-ff00:0:210 0*'), names([P1, P3]));
    assert.deepEqual(match('(1-ff00:0:133 1-ff00:0:120 1-ff00:0:110)|(2-ff00:0:210 0*)'), names([P1]));
    // Postfix binds tighter than |: A | (B*).
    assert.deepEqual(match('1-64512 1-ff00:0:110|1-ff00:0:120*'), names([P4]));
  });

  for (const bad of ['1-', '(0', '0)', '0 |', '|0', 'x', '1-ff00:0:133#', '1-ff00:0:133#1,', '?', '1-ff00:0:13g']) {
    it(`rejects "${bad}"`, () => {
      assert.throws(() => new Sequence(bad), (e: unknown) => e instanceof PathPolicyError && e.code === 'BAD_SEQUENCE');
    });
  }
});
