// `cillion relay --roles FILE --trust-domain D` as a process: certificates another PKI issued
// (a subject CN, no Cillion role URI) get roles by name from the file; the relay honours
// role URIs of its own trust domain only; bad settings stop it before it serves.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { credentials, status, type ServiceError } from '@grpc/grpc-js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ObserverClient } from '../../../proto/gen/observer/observer';
import { issueLeaf } from '../../../cli/certs/openssl';
import { serverStatus } from '../observer/helpers';
import { issue, makeCerts } from '../relay/test_certs';
import { pool } from './pool';

const ROOT = resolve(__dirname, '..', '..', '..');

function run(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', ...args], { cwd: ROOT }, (err, _stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr }),
    );
  });
}

describe('cillion relay --roles and --trust-domain', function () {
  this.timeout(90_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-relay-roles-'));
    makeCerts(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const tlsArgs = () => ['--tls-cert', join(dir, 'server.pem'), '--tls-key', join(dir, 'server.key'), '--tls-client-ca', join(dir, 'ca.pem')];

  it('grants roles to certificate names from the file, and to role URIs of its trust domain only', async () => {
    writeFileSync(join(dir, 'roles.yaml'), '# certificate name: roles\ngrafana: [reader]\n');
    const ca = { key: readFileSync(join(dir, 'ca', 'ca.key'), 'utf8'), cert: readFileSync(join(dir, 'ca', 'ca.crt'), 'utf8') };
    const cnOnly = (cn: string) => issueLeaf({ commonName: cn, days: 1, uris: [], dnsNames: [], ips: [], clientAuth: true, serverAuth: false, issuer: ca });
    const grafana = cnOnly('grafana');
    const stranger = cnOnly('stranger');
    issue(dir, 'prod-reader', 'alice', ['reader'], { trustDomain: 'prod.example' });
    const child = spawn(
      process.execPath,
      ['--require', 'tsx/cjs', 'cli/main.ts', 'relay', '--no-ui', '--listen', '127.0.0.1:0', '--metrics', '', '--data-dir', join(dir, 'store'), ...tlsArgs(), '--roles', join(dir, 'roles.yaml'), '--trust-domain', 'prod.example'],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    try {
      const end = Date.now() + 60_000;
      while (!/ on 127\.0\.0\.1:\d+ /.test(log)) {
        if (child.exitCode !== null || Date.now() > end) assert.fail(`the relay did not start:\n${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const address = `localhost:${(/ on 127\.0\.0\.1:(\d+) /.exec(log) as RegExpExecArray)[1]}`;
      const caPem = readFileSync(join(dir, 'ca.pem'));
      const client = (key: string | Buffer, cert: string | Buffer) => new ObserverClient(address, credentials.createSsl(caPem, Buffer.from(key), Buffer.from(cert)));
      const asGrafana = client(grafana.key, grafana.cert);
      await serverStatus(asGrafana);
      const asAlice = client(readFileSync(join(dir, 'prod-reader', 'tls.key')), readFileSync(join(dir, 'prod-reader', 'tls.crt')));
      await serverStatus(asAlice);
      // node-a's URIs are of the default trust domain, which this relay does not honour.
      const asNodeA = client(readFileSync(join(dir, 'client.key')), readFileSync(join(dir, 'client.pem')));
      await assert.rejects(serverStatus(asNodeA), (e: ServiceError) => e.code === status.PERMISSION_DENIED && /trust domain cillion, not prod\.example/.test(e.details));
      const asStranger = client(stranger.key, stranger.cert);
      await assert.rejects(serverStatus(asStranger), (e: ServiceError) => e.code === status.PERMISSION_DENIED && /"stranger" has no SAN URI/.test(e.details));
      for (const c of [asGrafana, asAlice, asNodeA, asStranger]) c.close();
      // The refusal is logged after it is answered: wait for the line to come through the pipe.
      const logged = Date.now() + 10_000;
      while (!/refused observer\.Observer\/ServerStatus from .* \(stranger\)/.test(log) && Date.now() < logged) await new Promise((r) => setTimeout(r, 50));
      assert.match(log, /refused observer\.Observer\/ServerStatus from .* \(stranger\)/);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('stops before serving on a bad roles file or trust domain, or roles without TLS', async () => {
    writeFileSync(join(dir, 'bad.yaml'), 'grafana: [admin]\n');
    const cases = [
      [[...tlsArgs(), '--roles', join(dir, 'bad.yaml')], /roles must be a list of collector, reader, attester, peer/],
      [[...tlsArgs(), '--roles', join(dir, 'missing.yaml')], /--roles .*missing\.yaml/],
      [[...tlsArgs(), '--trust-domain', 'Not/A/Domain'], /trust domain "Not\/A\/Domain"/],
      [['--roles', join(dir, 'bad.yaml')], /--roles grants roles to client certificates: it needs --tls-cert/],
    ] as const;
    const runs = await pool(cases.map(([args], i) => () => run(['relay', '--no-ui', '--listen', '127.0.0.1:0', '--metrics', '', '--data-dir', join(dir, `never-${i}`), ...args])), 2);
    cases.forEach(([, why], i) => {
      assert.equal(runs[i].code, 1, runs[i].stderr);
      assert.match(runs[i].stderr, why);
    });
  });
});
