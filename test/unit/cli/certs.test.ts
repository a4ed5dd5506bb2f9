// `cillion certs`: a CA, then role and server certificates that chain to it, as files the
// relay, the agents and the client commands take.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AccessPolicy } from '../../../relay/auth/policy';

const ROOT = resolve(__dirname, '..', '..', '..');

function cillion(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', ...args], { cwd: ROOT }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('cillion certs', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'cillion-certs-cmd-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const x509 = (p: string) => new X509Certificate(readFileSync(join(dir, p)));

  it('mints a CA, a collector, a reader-attester and a server certificate that chain to it', async () => {
    assert.equal((await cillion('certs', 'ca', '--out', join(dir, 'ca'))).code, 0);
    const ca = x509('ca/ca.crt');
    assert.ok(ca.ca);
    assert.equal(statSync(join(dir, 'ca', 'ca.key')).mode & 0o777, 0o600);
    let r = await cillion('certs', 'issue', '--ca', join(dir, 'ca'), '--name', 'node-a', '--role', 'collector', '--out', join(dir, 'node-a'));
    assert.equal(r.code, 0, r.stderr);
    r = await cillion('certs', 'issue', '--ca', join(dir, 'ca'), '--name', 'alice', '--role', 'reader,attester', '--trust-domain', 'prod.example', '--out', join(dir, 'alice'));
    assert.equal(r.code, 0, r.stderr);
    r = await cillion('certs', 'issue', '--ca', join(dir, 'ca'), '--name', 'relay', '--dns', 'cillion-relay.cillion-system.svc', '--dns', 'localhost', '--ip', '127.0.0.1', '--out', join(dir, 'relay'));
    assert.equal(r.code, 0, r.stderr);

    const node = x509('node-a/tls.crt');
    assert.ok(node.verify(ca.publicKey) && node.checkIssued(ca));
    assert.ok(!node.ca);
    assert.equal(node.subjectAltName, 'URI:spiffe://cillion/cillion/collector/node-a');
    assert.deepEqual(node.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.equal(statSync(join(dir, 'node-a', 'tls.key')).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(dir, 'node-a', 'ca.crt'), 'utf8'), readFileSync(join(dir, 'ca', 'ca.crt'), 'utf8'));
    const peer = (c: X509Certificate) => ({ subject: { CN: c.subject.replace(/^CN=/, '') } as never, subjectaltname: c.subjectAltName });
    const asNode = new AccessPolicy().identify(true, peer(node));
    assert.deepEqual([asNode.name, [...asNode.roles]], ['node-a', ['collector']]);
    const alice = new AccessPolicy({ trustDomain: 'prod.example' }).identify(true, peer(x509('alice/tls.crt')));
    assert.deepEqual([alice.name, [...alice.roles].sort()], ['alice', ['attester', 'reader']]);

    const relay = x509('relay/tls.crt');
    assert.ok(relay.verify(ca.publicKey));
    assert.equal(relay.subjectAltName, 'DNS:cillion-relay.cillion-system.svc, DNS:localhost, IP Address:127.0.0.1');
    assert.deepEqual(relay.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.ok(relay.checkHost('localhost') && relay.checkIP('127.0.0.1'));
  });

  it('refuses bad input with exit 2, and to overwrite without --force', async () => {
    for (const args of [
      ['issue', '--ca', join(dir, 'ca'), '--name', 'node-a', '--role', 'admin', '--out', join(dir, 'x')],
      ['issue', '--ca', join(dir, 'ca'), '--name', 'a/b', '--role', 'reader', '--out', join(dir, 'x')],
      ['issue', '--ca', join(dir, 'ca'), '--name', 'n', '--out', join(dir, 'x')],
      ['issue', '--ca', join(dir, 'ca'), '--name', 'n', '--ip', 'not-an-ip', '--out', join(dir, 'x')],
      ['issue', '--ca', join(dir, 'ca'), '--name', 'n', '--dns', 'a b', '--out', join(dir, 'x')],
      ['issue', '--ca', join(dir, 'ca'), '--name', 'n', '--role', 'reader', '--trust-domain', 'UPPER', '--out', join(dir, 'x')],
      ['issue', '--ca', join(dir, 'nothing'), '--name', 'n', '--role', 'reader', '--out', join(dir, 'x')],
      ['issue', '--ca', join(dir, 'ca'), '--name', 'node-a', '--role', 'collector', '--out', join(dir, 'node-a')],
      ['ca', '--out', join(dir, 'ca')],
    ]) {
      const r = await cillion('certs', ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /\S/);
    }
    const before = readFileSync(join(dir, 'ca', 'ca.key'), 'utf8');
    assert.equal((await cillion('certs', 'ca', '--out', join(dir, 'ca'), '--force')).code, 0);
    assert.notEqual(readFileSync(join(dir, 'ca', 'ca.key'), 'utf8'), before);
  });
});
