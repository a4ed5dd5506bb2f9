import assert from 'node:assert/strict';
import { Acl, PathPolicyError } from '../../../../scion/pathpol';
import { ALL, EMPTY, names, P1, P2, P3, P4 } from './paths';

const isAclError = (e: unknown) => e instanceof PathPolicyError && e.code === 'BAD_ACL';

describe('scion/pathpol: ACL', () => {
  it('needs exactly one match-all entry, at the end', () => {
    assert.throws(() => Acl.parse([]), isAclError);
    assert.throws(() => Acl.parse(['- 1-ff00:0:120']), isAclError);
    assert.throws(() => Acl.parse(['+', '- 1-ff00:0:120']), isAclError);
    assert.throws(() => Acl.parse(['+ 0', '-']), isAclError);
    assert.doesNotThrow(() => Acl.parse(['- 1-ff00:0:120', '+ 0-0#0']));
  });

  it('rejects malformed entries naming the entry', () => {
    assert.throws(() => Acl.parse(['* 1', '+']), (e: unknown) => isAclError(e) && (e as PathPolicyError).field === 'acl[0]');
    assert.throws(() => Acl.parse(['+ 1 2', '+']), isAclError);
    assert.throws(() => Acl.parse(['+ 1-0#4', '+']), isAclError);
  });

  it('drops a path when any interface is denied; the first matching entry decides', () => {
    assert.deepEqual(names(Acl.parse(['- 1-ff00:0:121', '+']).filter(ALL)), names([P1, P3, P4, EMPTY]));
    assert.deepEqual(names(Acl.parse(['+ 1', '-']).filter(ALL)), names([P1, P2, P4, EMPTY]));
    assert.deepEqual(names(Acl.parse(['+ 2-ff00:0:210', '- 2', '+']).filter(ALL)), names([P1, P2, P4, EMPTY]));
  });

  it('tells ingress from egress interfaces by their position in the path', () => {
    // P1 crosses 120 in on 2, out on 3; P3 in on 2, out on 9. Each interface is checked on
    // its own against the ID for its direction.
    assert.deepEqual(names(Acl.parse(['- 1-ff00:0:120#2,3', '+']).filter([P1, P3])), []);
    assert.deepEqual(names(Acl.parse(['- 1-ff00:0:120#5,9', '+']).filter([P1, P3])), names([P1]));
    assert.deepEqual(names(Acl.parse(['- 1-ff00:0:120#9,5', '+']).filter([P1, P3])), names([P1, P3]));
    assert.deepEqual(names(Acl.parse(['- 1-ff00:0:120#9', '+']).filter([P1, P3])), names([P1]));
  });

  it('keeps the entries printable in pathpol form', () => {
    assert.deepEqual(Acl.parse(['-  1-ff00:0:120#2', '+']).toStrings(), ['- 1-ff00:0:120#2', '+']);
  });
});
