import assert from 'node:assert/strict';
import { parseIA } from '../../../../scion/isdas';
import { LocalIsdAs, PathPolicyError, RemoteIsdAs } from '../../../../scion/pathpol';
import { ALL, names, P1, P2, P3, P4 } from './paths';

describe('scion/pathpol: local and remote ISD-AS rules', () => {
  it('keeps paths whose source AS is listed, never a path inside one AS', () => {
    assert.deepEqual(names(LocalIsdAs.parse(['1-ff00:0:133']).filter(ALL)), names([P1, P2, P3]));
    assert.deepEqual(names(LocalIsdAs.parse(['1-64512', '1-ff00:0:1']).filter(ALL)), names([P4]));
    assert.deepEqual(LocalIsdAs.parse(['1-ff00:0:133']).toJSON(), ['1-ff00:0:133']);
  });

  it('judges the destination by the first matching rule; no match rejects', () => {
    const rules = RemoteIsdAs.parse([{ isd_as: '2-ff00:0:211', reject: true }, { isd_as: '0-0' }]);
    assert.deepEqual(names(rules.filter(ALL)), names([P1, P2, P4]));
    assert.deepEqual(names(RemoteIsdAs.parse([{ isd_as: '2-0' }]).filter(ALL)), names([P3]));
    assert.deepEqual(names(RemoteIsdAs.parse([{ reject: false }]).filter(ALL)), names([P1, P2, P3, P4]));
    assert.deepEqual(RemoteIsdAs.parse([{ isd_as: '2-0', reject: true }]).rules, [{ ia: parseIA('2-0'), reject: true }]);
  });

  it('reports malformed rules with their field', () => {
    const fails = (fn: () => unknown, field: string) =>
      assert.throws(fn, (e: unknown) => e instanceof PathPolicyError && e.code === 'BAD_ISD_AS_RULE' && e.field === field);
    fails(() => LocalIsdAs.parse('1-ff00:0:133'), 'local_isd_ases');
    fails(() => LocalIsdAs.parse(['1-ff00:0:133', 'nope']), 'local_isd_ases[1]');
    fails(() => RemoteIsdAs.parse([{ isd_as: '1-x' }]), 'remote_isd_ases[0].isd_as');
    fails(() => RemoteIsdAs.parse([{ isd_as: '1-0', reject: 'yes' }]), 'remote_isd_ases[0].reject');
    fails(() => RemoteIsdAs.parse([{ ia: '1-0' }]), 'remote_isd_ases[0]');
  });
});
