import assert from 'node:assert/strict';
import { parsePolicies, parsePolicy, PathPolicyError } from '../../../../scion/pathpol';
import { ALL, EMPTY, names, P1, P2, P3, P4 } from './paths';

const failsWith = (fn: () => unknown, code: string, field?: string) =>
  assert.throws(fn, (e: unknown) => e instanceof PathPolicyError && e.code === code && (field === undefined || e.field === field));

describe('scion/pathpol: policies', () => {
  it('applies end-AS rules, ACL and sequence together', () => {
    const p = parsePolicy({
      local_isd_ases: ['1-ff00:0:133'],
      acl: ['- 1-ff00:0:121', '+'],
      sequence: '0* 1-ff00:0:120 0*',
    });
    assert.deepEqual(names(p.filter(ALL)), names([P1, P3]));
    assert.deepEqual(names(parsePolicy({}).filter(ALL)), names(ALL));
  });

  it('takes the options of the highest weight that select a path, pooling equal weights', () => {
    const p = parsePolicy({
      options: [
        { weight: 1, policy: { sequence: '0+' } },
        { weight: 5, policy: { sequence: '0* 2 0*' } },
        { weight: 5, policy: { sequence: '1-64512 0' } },
        { weight: 9, policy: { sequence: '0* 3 0*' } },
      ],
    });
    // Weight 9 selects nothing, weight 5 selects P3 and P4 between its two options.
    assert.deepEqual(names(p.filter(ALL)), names([P3, P4]));
    // Without P3 and P4, weight 5 selects nothing and weight 1 decides.
    assert.deepEqual(names(p.filter([P1, P2, EMPTY])), names([P1, P2]));
  });

  it('fills what a policy leaves unset from the policies it extends, the last named winning', () => {
    const named = new Map<string, unknown>([
      ['no-121', { acl: ['- 1-ff00:0:121', '+'], sequence: '0+' }],
      ['stay-in-1', { acl: ['- 2', '+'] }],
      ['three-hops', { sequence: '0 0 0', extends: ['stay-in-1'] }],
      ['combined', { extends: ['no-121', 'stay-in-1'] }],
      ['own-wins', { acl: ['+'], extends: ['no-121'] }],
    ]);
    const all = parsePolicies(named);
    // ACL from stay-in-1 (last listed), sequence from no-121 (stay-in-1 has none).
    assert.deepEqual(names(all.get('combined')!.filter(ALL)), names([P1, P2, P4]));
    assert.deepEqual(names(all.get('three-hops')!.filter(ALL)), names([P1]));
    assert.deepEqual(names(all.get('own-wins')!.filter(ALL)), names([P1, P2, P3, P4]));
    assert.deepEqual(names(parsePolicy({ extends: ['three-hops'] }, named).filter(ALL)), names([P1]));
  });

  it('reports unknown and circular extends', () => {
    failsWith(() => parsePolicy({ extends: ['nope'] }), 'UNKNOWN_POLICY', 'extends');
    const cyc = new Map<string, unknown>([
      ['a', { extends: ['b'] }],
      ['b', { extends: ['a'] }],
    ]);
    failsWith(() => parsePolicies(cyc), 'POLICY_CYCLE');
  });

  it('names the field at fault, down into options', () => {
    failsWith(() => parsePolicy({ acl: '+' }), 'BAD_ACL', 'acl');
    failsWith(() => parsePolicy({ sequence: '1-' }), 'BAD_SEQUENCE', 'sequence');
    failsWith(() => parsePolicy({ hops: 3 }), 'BAD_POLICY', '');
    failsWith(() => parsePolicy({ options: [{ weight: 1, policy: { acl: ['+', '- 1'] } }] }), 'BAD_ACL', 'options[0].policy.acl');
    failsWith(() => parsePolicy({ options: [{ weight: 'high', policy: {} }] }), 'BAD_POLICY', 'options[0].weight');
    failsWith(() => parsePolicy({ options: [{ weight: 1, policy: {}, extra: 1 }] }), 'BAD_POLICY', 'options[0]');
    failsWith(() => parsePolicy(null), 'BAD_POLICY');
    failsWith(() => parsePolicy({ extends: 'a' }), 'BAD_POLICY', 'extends');
  });
});
