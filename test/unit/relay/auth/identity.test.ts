// Reading who a client is and what it may do from its certificate (relay/auth).
import assert from 'node:assert/strict';
import { certificateClaims, roleUri, subjectAltNames } from '../../../../relay/auth/identity';
import { AccessConfigError, AccessPolicy, parseAllowList } from '../../../../relay/auth/policy';

const cert = (cn: string, san?: string) => ({ subject: { CN: cn } as never, subjectaltname: san });

describe('relay/auth identity and roles', () => {
  it('splits subjectAltName text, quoted values included', () => {
    assert.deepEqual(subjectAltNames('DNS:a, URI:spiffe://x/cillion/reader/u, IP Address:127.0.0.1'), [
      { type: 'DNS', value: 'a' },
      { type: 'URI', value: 'spiffe://x/cillion/reader/u' },
      { type: 'IP Address', value: '127.0.0.1' },
    ]);
    // A comma inside a value is quoted by Node: it cannot pose as a second entry.
    assert.deepEqual(subjectAltNames('URI:"spiffe://x/cillion/reader/a, URI:spiffe://x/cillion/collector/b", DNS:c'), [
      { type: 'URI', value: 'spiffe://x/cillion/reader/a, URI:spiffe://x/cillion/collector/b' },
      { type: 'DNS', value: 'c' },
    ]);
    assert.deepEqual(subjectAltNames(undefined), []);
  });

  it('takes name and roles from the role URIs of its trust domain only', () => {
    const c = certificateClaims(cert('ignored', `URI:${roleUri('cillion', 'collector', 'node-a')}, URI:${roleUri('cillion', 'reader', 'node-a')}, URI:spiffe://other/cillion/attester/node-a, URI:spiffe://cillion/cillion/admin/node-a, URI:https://x/y`), 'cillion');
    assert.equal(c.name, 'node-a');
    assert.deepEqual(c.roles.sort(), ['collector', 'reader']);
    assert.equal(c.conflicting, false);
    assert.equal(c.notes.length, 2, c.notes.join('; '));
  });

  it('refuses a certificate whose URIs name two clients, and names that are not names', () => {
    const two = certificateClaims(cert('n', 'URI:spiffe://cillion/cillion/collector/node-a, URI:spiffe://cillion/cillion/collector/node-b'), 'cillion');
    assert.equal(two.conflicting, true);
    assert.deepEqual(two.roles, []);
    const bad = certificateClaims(cert('n', `URI:spiffe://cillion/cillion/collector/${'a'.repeat(300)}, URI:spiffe://cillion/cillion/collector/-x`), 'cillion');
    assert.equal(bad.name, '');
    assert.deepEqual(bad.roles, []);
  });

  it('grants everything without TLS, the certificate\'s roles with it, plus the allow-list\'s by name', () => {
    const plain = new AccessPolicy().identify(false, undefined);
    assert.equal(plain.authenticated, false);
    assert.deepEqual([...plain.roles].sort(), ['attester', 'collector', 'peer', 'reader']);
    const policy = new AccessPolicy({ allowList: parseAllowList('grafana: [reader]\nnode-a: attester\n', 'test') });
    assert.deepEqual([...policy.identify(true, cert('grafana')).roles], ['reader']);
    assert.equal(policy.identify(true, cert('grafana')).name, 'grafana');
    const a = policy.identify(true, cert('x', 'URI:spiffe://cillion/cillion/collector/node-a'));
    assert.equal(a.name, 'node-a');
    assert.deepEqual([...a.roles].sort(), ['attester', 'collector']);
    const none = policy.identify(true, cert('stranger'));
    assert.equal(none.roles.size, 0);
    assert.match(none.notes.join(' '), /no SAN URI like spiffe:\/\/cillion\/cillion\/<role>\/<name> and no entry in the relay's --roles file/);
    assert.equal(policy.identify(true, undefined).roles.size, 0);
    const td = new AccessPolicy({ trustDomain: 'prod.example' });
    assert.equal(td.identify(true, cert('x', 'URI:spiffe://cillion/cillion/collector/node-a')).roles.size, 0);
    assert.deepEqual([...td.identify(true, cert('x', 'URI:spiffe://prod.example/cillion/collector/node-a')).roles], ['collector']);
  });

  it('rejects allow-lists and trust domains that do not parse', () => {
    for (const text of ['- a\n- b\n', 'node-a: [admin]\n', 'node-a: 3\n', '"a b": [reader]\n', 'x: [reader\n']) {
      assert.throws(() => parseAllowList(text, 'roles.yaml'), AccessConfigError, text);
    }
    assert.equal(parseAllowList('', 'empty').size, 0);
    assert.throws(() => new AccessPolicy({ trustDomain: 'Bad/Domain' }), AccessConfigError);
  });
});
