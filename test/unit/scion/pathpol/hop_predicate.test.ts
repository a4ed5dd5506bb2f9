import assert from 'node:assert/strict';
import { parseIA } from '../../../../scion/isdas';
import { formatHopPredicate, matchesInterface, parseHopPredicate, PathPolicyError } from '../../../../scion/pathpol';

describe('scion/pathpol: hop predicates', () => {
  const cases: [string, string][] = [
    ['0', '0-0#0'],
    ['1', '1-0#0'],
    ['1-0', '1-0#0'],
    ['1-ff00:0:133', '1-ff00:0:133#0'],
    ['1-ff00:0:133#2', '1-ff00:0:133#2'],
    ['1-ff00:0:133#2,3', '1-ff00:0:133#2,3'],
    ['1-64512#0,1', '1-64512#0,1'],
  ];
  for (const [text, canonical] of cases) {
    it(`parses "${text}" and prints it as "${canonical}"`, () => {
      assert.equal(formatHopPredicate(parseHopPredicate(text)), canonical);
    });
  }

  for (const bad of ['1-ff00:0:133#1,2,3', '1#2', '1,2', '1-0#2', '1-0#0,3', '1-ff00:0:133#x', 'a', '1-2-3', '1-ff00:0:133##1', '65536']) {
    it(`rejects "${bad}"`, () => {
      assert.throws(() => parseHopPredicate(bad), (e: unknown) => e instanceof PathPolicyError && e.code === 'BAD_HOP_PREDICATE');
    });
  }

  it('matches one interface in either direction, two as ingress then egress', () => {
    const pi = { ia: parseIA('1-ff00:0:120'), ifid: 3 };
    assert.equal(matchesInterface(parseHopPredicate('1-ff00:0:120#3'), pi, true), true);
    assert.equal(matchesInterface(parseHopPredicate('1-ff00:0:120#3'), pi, false), true);
    assert.equal(matchesInterface(parseHopPredicate('1-ff00:0:120#3,7'), pi, true), true);
    assert.equal(matchesInterface(parseHopPredicate('1-ff00:0:120#3,7'), pi, false), false);
    assert.equal(matchesInterface(parseHopPredicate('1-ff00:0:120#7,3'), pi, false), true);
    assert.equal(matchesInterface(parseHopPredicate('1-ff00:0:120#0,3'), pi, true), true);
  });

  it('matches ISD and AS with wildcards', () => {
    const pi = { ia: parseIA('1-ff00:0:120'), ifid: 3 };
    assert.equal(matchesInterface(parseHopPredicate('1'), pi, true), true);
    assert.equal(matchesInterface(parseHopPredicate('2'), pi, true), false);
    assert.equal(matchesInterface(parseHopPredicate('0-ff00:0:120'), pi, true), true);
    assert.equal(matchesInterface(parseHopPredicate('1-ff00:0:121'), pi, true), false);
  });
});
