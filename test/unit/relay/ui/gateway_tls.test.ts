// The web UI with the relay's TLS: HTTPS on the relay's server certificate, a client
// certificate of the relay's CA required, roles as the AccessPolicy gives them. A reader
// reads but may not download an attestation; an attester downloads a tar that the real
// `cillion attest verify FILE.tar` verifies with the relay's public key.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { list } from 'tar';
import { startRelay, type Relay } from '../../../../relay/server';
import { openStore, type FlowStore } from '../../../../relay/store/store';
import { CORPUS_START_MS, corpus, fill } from '../attest/fixture';
import { issue, makeCerts } from '../test_certs';
import { API, api, fetchUi, leaveAfter, lines, type UiTarget } from './ui_client';
import { until } from '../../../until';

const ROOT = resolve(__dirname, '../../../..');

function verify(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', 'attest', 'verify', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('relay/ui gateway with TLS', function () {
  this.timeout(120_000);
  let dir: string;
  let store: FlowStore;
  let relay: Relay;
  let tmpBefore: string[];
  const file = (n: string): string => join(dir, n);
  const as = (who: 'reader' | 'auditor' | 'rogue' | 'none'): UiTarget => ({
    address: relay.uiAddress as string,
    tls: { ca: readFileSync(file('ca.pem')), ...(who === 'none' ? {} : { cert: readFileSync(file(`${who}.pem`)), key: readFileSync(file(`${who}.key`)) }) },
  });
  const exportBody = {
    selector: 'app=ledger',
    since: new Date(CORPUS_START_MS + 1000).toISOString(),
    until: new Date(CORPUS_START_MS + 9000).toISOString(),
  };

  before(async () => {
    tmpBefore = readdirTmp();
    dir = mkdtempSync(join(tmpdir(), 'cillion-ui-tls-'));
    makeCerts(dir);
    for (const [out, name, roles] of [['reader', 'alice', ['reader']], ['auditor', 'bob', ['reader', 'attester']]] as const) {
      const c = issue(dir, out, name, [...roles]);
      writeFileSync(file(`${out}.pem`), readFileSync(c.cert));
      writeFileSync(file(`${out}.key`), readFileSync(c.key));
    }
    store = await openStore({ dataDir: file('data') });
    await fill(store, corpus(2000));
    const key = generateKeyPairSync('ed25519');
    writeFileSync(file('relay.pub'), key.publicKey.export({ type: 'spki', format: 'pem' }));
    relay = await startRelay({
      listen: '127.0.0.1:0',
      name: 'zurich-relay',
      store,
      attest: { key: key.privateKey },
      tls: { cert: file('server.pem'), key: file('server.key'), clientCa: file('ca.pem') },
      ui: { listen: '127.0.0.1:0', staticDir: file('no-bundle'), limits: { maxAttestDownloads: 1 } },
    });
  });
  after(async () => {
    await relay?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a client without a certificate, or with one of another CA', async () => {
    await assert.rejects(api(as('none'), 'whoami'), /certificate|socket hang up|ECONNRESET|alert/i);
    await assert.rejects(api(as('rogue'), 'whoami'), /certificate|socket hang up|ECONNRESET|alert|unknown ca/i);
  });

  it('names the certificate and its roles in whoami', async () => {
    assert.deepEqual(JSON.parse((await api(as('reader'), 'whoami')).text), { name: 'alice', roles: ['reader'], tls: true, relay: 'zurich-relay', cluster: '' });
    assert.deepEqual(JSON.parse((await api(as('auditor'), 'whoami')).text).roles, ['attester', 'reader']);
  });

  it('lets a reader read flows, and refuses it the attestation download (403)', async () => {
    const flows = lines((await api(as('reader'), 'observer.Observer/GetFlows', { number: '2' })).text);
    assert.equal(flows.length, 3);
    // History comes from the store as wire bytes; the gateway decodes them for JSON.
    for (const l of flows.slice(0, 2)) assert.match((l.flow as { uuid: string }).uuid, /^[0-9a-f-]{36}$/);
    assert.deepEqual(flows[2], { status: { code: 0, name: 'OK', message: '' } });
    const r = await api(as('reader'), 'cillion.attest.v1.Attest/Export', exportBody);
    assert.equal(r.status, 403);
    const err = JSON.parse(r.text) as { code: number; name: string; message: string };
    assert.equal(err.name, 'PERMISSION_DENIED');
    assert.match(err.message, /certificate "alice" may not call cillion\.attest\.v1\.Attest\/Export: that needs the attester role/);
  });

  it('refuses reads to a certificate without the reader role (403), as the gRPC guard does', async () => {
    const c = issue(dir, 'collector', 'node-z', ['collector']);
    const t: UiTarget = { address: relay.uiAddress as string, tls: { ca: readFileSync(file('ca.pem')), cert: readFileSync(c.cert), key: readFileSync(c.key) } };
    const r = await api(t, 'observer.Observer/GetFlows', {});
    assert.equal(r.status, 403);
    assert.equal((JSON.parse(r.text) as { code: number }).code, 7);
    assert.equal((await api(t, 'observer.Observer/ServerStatus', {})).status, 403);
  });

  it('gives an attester a signed attestation as a tar that cillion attest verify accepts', async () => {
    const r = await api(as('auditor'), 'cillion.attest.v1.Attest/Export', exportBody);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['content-type'], 'application/x-tar');
    assert.match(String(r.headers['content-disposition']), /^attachment; filename="attestation-zurich-relay-\d{8}T\d{6}Z-\d{8}T\d{6}Z\.tar"$/);
    const tarFile = file('download.tar');
    writeFileSync(tarFile, r.body);
    const names: string[] = [];
    await list({ file: tarFile, onReadEntry: (e) => void names.push(e.path) });
    assert.deepEqual(names.sort(), ['attestation.dsse.json', 'flows.ndjson', 'flows.tree', 'report.md']);
    const v = await verify(tarFile, '--key', file('relay.pub'));
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /^VERIFIED .*download\.tar:attestation\.dsse\.json: signed by/);
    assert.match(v.stdout, /evidence .*download\.tar:flows\.ndjson: \d+ flows, Merkle root = subject digest/);
    // Another key does not verify it; a tampered archive does not either.
    const other = generateKeyPairSync('ed25519');
    writeFileSync(file('other.pub'), other.publicKey.export({ type: 'spki', format: 'pem' }));
    assert.equal((await verify(tarFile, '--key', file('other.pub'))).code, 1);
    const bad = Buffer.from(r.body);
    const at = bad.indexOf('"uuid"');
    bad[at + 10] ^= 1;
    writeFileSync(file('tampered.tar'), bad);
    assert.equal((await verify(file('tampered.tar'), '--key', file('relay.pub'))).code, 1);
  });

  it('assembles one attestation download at a time here: the second at once gets 429', async () => {
    const [a, b] = await Promise.all([api(as('auditor'), 'cillion.attest.v1.Attest/Export', exportBody), api(as('auditor'), 'cillion.attest.v1.Attest/Export', exportBody)]);
    assert.deepEqual([a.status, b.status].sort(), [200, 429]);
    const refused = JSON.parse((a.status === 429 ? a : b).text) as { name: string; message: string };
    assert.equal(refused.name, 'RESOURCE_EXHAUSTED');
    assert.match(refused.message, /1 attestation downloads are being assembled/);
    assert.match(await relay.metrics.text(), /cillion_limit_breaches_total\{kind="ui_downloads"\} 1/);
    assert.equal((await api(as('auditor'), 'cillion.attest.v1.Attest/Export', exportBody)).status, 200, 'the slot is given back');
  });

  it('stops an export whose browser leaves half-way, and frees its slot and directory', async () => {
    const seen = new Set<string>();
    const watch = setInterval(() => readdirTmp().forEach((n) => seen.add(n)), 5);
    try {
      await leaveAfter(as('auditor'), 'POST', '/api/v1/cillion.attest.v1.Attest/Export', JSON.stringify(exportBody), API, 60);
    } finally {
      clearInterval(watch);
    }
    assert.ok([...seen].some((n) => !tmpBefore.includes(n)), 'the export had begun');
    await until('the left export\'s directory to go', () => readdirTmp().every((n) => tmpBefore.includes(n)), 10_000);
    assert.equal((await api(as('auditor'), 'cillion.attest.v1.Attest/Export', exportBody)).status, 200, 'the download slot is free');
  });

  it('answers a bad export request with 400, and leaves no temporary directory behind', async () => {
    const r = await api(as('auditor'), 'cillion.attest.v1.Attest/Export', { selector: 'app=ledger' });
    assert.equal(r.status, 400);
    assert.match(r.text, /since is required/);
    await until('the downloads\' temporary directories to go', () => readdirTmp().every((n) => tmpBefore.includes(n)), 5000);
    assert.equal((await fetchUi(as('auditor'), 'GET', '/')).status, 503);
  });
});

function readdirTmp(): string[] {
  return readdirSync(tmpdir()).filter((n) => n.startsWith('cillion-ui-attest-')).sort();
}
