// The client commands against a relay that requires mutual TLS, with hubble's TLS flags.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startRelay, type Relay } from '../../../relay/server';
import { makeCerts } from '../relay/test_certs';
import { pool } from './pool';

const ROOT = resolve(__dirname, '..', '..', '..');

interface Run { code: number; stdout: string; stderr: string }

function cillion(...args: string[]): Promise<Run> {
  return cillionEnv({}, ...args);
}

function cillionEnv(env: Record<string, string>, ...args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env } }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('client commands over TLS (--tls, --tls-ca-cert-files, --tls-client-cert-file, --tls-client-key-file)', function () {
  this.timeout(120_000);
  let dir: string;
  let relay: Relay;
  let server: string;
  const f = (n: string) => join(dir, n);
  let tls: string[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-client-tls-'));
    makeCerts(dir);
    relay = await startRelay({ listen: '127.0.0.1:0', metricsListen: undefined, tls: { cert: f('server.pem'), key: f('server.key'), clientCa: f('ca.pem') }, mergeWindowMs: 0, shutdownGraceMs: 200 });
    server = relay.address;
    // A bare IP carries no server name, so the certificate is checked for the name given.
    tls = ['--tls', '--tls-ca-cert-files', f('ca.pem'), '--tls-client-cert-file', f('client.pem'), '--tls-client-key-file', f('client.key'), '--tls-server-name', 'localhost'];
  });
  after(async () => {
    await relay.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('status, list nodes and observe reach the relay with a client certificate', async () => {
    const status = await cillion('status', '--server', server, ...tls);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /Healthcheck \(via 127\.0\.0\.1:\d+\): Ok/);
    const nodes = await cillion('list', 'nodes', '--server', server, ...tls, '-o', 'json');
    assert.equal(nodes.code, 0, nodes.stderr);
    const observe = await cillion('observe', '--server', server, ...tls, '--last', '1');
    assert.equal(observe.code, 0, observe.stderr);
  });

  it('attest export reaches the relay over TLS: its answer is the relay\'s, not a connection failure', async () => {
    const r = await cillion('attest', 'export', '--server', server, ...tls, '--selector', 'app=x', '--since', '1h', '--until', '0s', '--out', f('audit'));
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stderr, /cannot reach/);
    assert.match(r.stderr, /store|sign|key/i);
  });

  it('takes the server and TLS settings from CILLION_* environment variables, flags winning', async () => {
    const env = {
      CILLION_SERVER: server,
      CILLION_TLS: '1',
      CILLION_TLS_CA_CERT_FILES: f('ca.pem'),
      CILLION_TLS_CLIENT_CERT_FILE: f('client.pem'),
      CILLION_TLS_CLIENT_KEY_FILE: f('client.key'),
      CILLION_TLS_SERVER_NAME: 'localhost',
    };
    const status = await cillionEnv(env, 'status');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /Healthcheck \(via 127\.0\.0\.1:\d+\): Ok/);
    const observe = await cillionEnv(env, 'observe', '--last', '1');
    assert.equal(observe.code, 0, observe.stderr);
    // A flag overrides its variable: the rogue certificate is refused.
    const rogue = await cillionEnv(env, 'status', '--tls-client-cert-file', f('rogue.pem'), '--tls-client-key-file', f('rogue.key'));
    assert.equal(rogue.code, 1);
    // A local store on the command line wins over the relay of the environment.
    const local = await cillionEnv(env, 'attest', 'export', '--data-dir', f('no-store'), '--key', f('client.key'), '--selector', 'app=x', '--since', '1h', '--until', '0s', '--out', f('audit-local'));
    assert.doesNotMatch(local.stderr, /exactly one|--tls goes with/);
  });

  it('is refused without a client certificate, and over plaintext', async () => {
    const noCert = await cillion('status', '--server', server, '--tls', '--tls-ca-cert-files', f('ca.pem'), '--tls-server-name', 'localhost');
    assert.equal(noCert.code, 1);
    assert.match(noCert.stderr, /cillion status: /);
    const plain = await cillion('status', '--server', server);
    assert.equal(plain.code, 1);
    const rogue = await cillion('status', '--server', server, '--tls', '--tls-ca-cert-files', f('rogue-ca.pem'), '--tls-server-name', 'localhost');
    assert.equal(rogue.code, 1, 'a server certificate from another CA is not trusted');
  });

  it('treats TLS flags that do not fit together as usage errors (exit 2)', async () => {
    const cases = [
      ['status', '--server', server, '--tls-client-cert-file', f('client.pem')],
      ['status', '--server', server, '--tls', '--tls-client-cert-file', f('client.pem')],
      ['observe', '--node', '--tls'],
      ['list', 'nodes', '--server', server, '--tls', '--tls-ca-cert-files', f('missing.pem')],
      ['attest', 'export', '--data-dir', f('store'), '--tls', '--key', f('client.key'), '--selector', 'app=x', '--since', '1h', '--until', '0s', '--out', f('audit')],
    ];
    const runs = await pool(cases.map((args) => () => cillion(...args)), 2);
    cases.forEach((args, i) => {
      assert.equal(runs[i].code, 2, `${args.join(' ')}: ${runs[i].stderr}`);
      assert.match(runs[i].stderr, /tls/i, args.join(' '));
    });
  });
});
