// `cillion attest export|verify` as child processes: against an embedded store on disk and
// against a relay serving the Attest service, then verify, tampering and usage errors.
import assert from 'node:assert/strict';
import { credentials, Server, ServerCredentials, status } from '@grpc/grpc-js';
import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AttestClient, AttestService, type AttestServer, type ExportResponse } from '../../../proto/gen/attest/v1/attest';
import { signPayload } from '../../../relay/attest/sign';
import { startRelay, type Relay } from '../../../relay/server';
import { openStore, type FlowStore } from '../../../relay/store/store';
import { CORPUS_START_MS, corpus, fill } from '../relay/attest/fixture';
import { pool } from './pool';

const ROOT = resolve(__dirname, '../../..');

interface Run { code: number; stdout: string; stderr: string }

function cillion(...args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', 'attest', ...args], { cwd: ROOT, env: { ...process.env, TZ: 'UTC', NO_COLOR: '1' }, maxBuffer: 1 << 26 }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** `cillion attest ...` with its standard streams on a pseudo-terminal (util-linux `script`); what the terminal showed. */
function onTerminal(...args: string[]): Promise<Run> {
  const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, '--require', 'tsx/cjs', 'cli/main.ts', 'attest', ...args].map(quote).join(' ');
  return new Promise((done) => {
    execFile('script', ['--quiet', '--return', '--command', command, '/dev/null'], { cwd: ROOT, env: { ...process.env, TZ: 'UTC', NO_COLOR: '1' } }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** `cillion relay` as a process until it serves; its address is the one it logs. */
function relayProcess(args: string[]): Promise<{ address: string; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', 'relay', '--no-ui', '--listen', '127.0.0.1:0', '--metrics', '', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      const m = / on (127\.0\.0\.1:\d+) /.exec(log);
      if (m) resolve({ address: m[1], stop: () => (child.kill('SIGTERM'), exited) });
    });
    void exited.then((code) => reject(new Error(`relay exited ${code} before serving:\n${log}`)));
  });
}

/** `cillion relay` expected to refuse its arguments: the exit code and what it said. */
function relayRefuses(args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', 'relay', '--no-ui', '--listen', '127.0.0.1:0', '--metrics', '', ...args], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

const FENCES_YAML = ['eu-only', 'dach'].map((name) => `apiVersion: cillion.io/v1alpha1
kind: Geofence
metadata:
  name: ${name}
spec:
  workloadSelector:
    podSelector:
      matchLabels:
        app: ledger
  allow:
    countries: [${name === 'dach' ? 'DE, AT, CH' : 'EU, CH'}]
  mode: audit
`).join('---\n');

describe('cli attest', function () {
  this.timeout(120_000);
  const since = new Date(CORPUS_START_MS + 1000).toISOString();
  const until = new Date(CORPUS_START_MS + 9000).toISOString();
  let dir: string;
  let dataDir: string;
  /** `out-ed`, made once in before(): the tests that need an export copy it instead of exporting again. */
  let edExport: Run;
  const file = (name: string): string => join(dir, name);
  const copyOfEdExport = (name: string): void => cpSync(file('out-ed'), file(name), { recursive: true });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-cli-attest-'));
    dataDir = file('data');
    const store = await openStore({ dataDir });
    await fill(store, corpus(3000));
    await store.close();
    const ed = generateKeyPairSync('ed25519');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(file('ed.pem'), ed.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(file('ed.pub'), ed.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(file('ec.pem'), ec.privateKey.export({ type: 'sec1', format: 'pem' }));
    writeFileSync(file('ec.pub'), ec.publicKey.export({ type: 'spki', format: 'pem' }));
    mkdirSync(file('resources'));
    writeFileSync(join(file('resources'), 'fences.yaml'), FENCES_YAML);
    edExport = await cillion(...exportArgs('out-ed', 'ed.pem'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const exportArgs = (out: string, key = 'ed.pem'): string[] => [
    'export', '--data-dir', dataDir, '--selector', 'app=ledger', '--since', since, '--until', until, '--key', file(key), '--out', file(out), '--resources', file('resources'),
  ];

  it('exports from an embedded store and verifies, with each key type', async () => {
    for (const k of ['ed', 'ec']) {
      const ex = k === 'ed' ? edExport : await cillion(...exportArgs(`out-${k}`, `${k}.pem`));
      assert.equal(ex.code, 0, ex.stderr);
      assert.match(ex.stdout, /^wrote .*: \d+ flows \(\d+ packets, \d+ bytes\), \d+ violations, \d+ unverified; subject [0-9a-f]{64}\n$/);
      assert.equal(ex.stderr, '', 'no progress line when stderr is not a terminal');
      assert.deepEqual(readdirSync(file(`out-${k}`)).sort(), ['attestation.dsse.json', 'flows.ndjson', 'flows.tree', 'report.md']);
      const v = await cillion('verify', file(`out-${k}`), '--key', file(`${k}.pub`));
      assert.equal(v.code, 0, v.stdout + v.stderr);
      assert.match(v.stdout, /^VERIFIED /);
    }
    const st = JSON.parse(Buffer.from((JSON.parse(readFileSync(join(file('out-ed'), 'attestation.dsse.json'), 'utf8')) as { payload: string }).payload, 'base64').toString()) as {
      predicate: { geofences: { name: string; specSha256: string | null }[]; store: { kind: string } };
    };
    assert.deepEqual(st.predicate.geofences.map((g) => [g.name, g.specSha256?.length]), [['dach', 64], ['eu-only', 64]]);
    assert.equal(st.predicate.store.kind, 'chdb');
  });

  it('verifies an envelope with --evidence and prints one flow\'s inclusion proof as JSON', async () => {
    copyOfEdExport('out-incl');
    const v = await cillion('verify', join(file('out-incl'), 'attestation.dsse.json'), '--key', file('ed.pub'), '--evidence', join(file('out-incl'), 'flows.ndjson'), '--flow', '3', '-o', 'json');
    assert.equal(v.code, 0, v.stdout + v.stderr);
    const r = JSON.parse(v.stdout) as { ok: boolean; subject: string; inclusion: { index: number; root: string; proof: string[] } };
    assert.ok(r.ok);
    assert.equal(r.inclusion.index, 3);
    assert.equal(r.inclusion.root, r.subject);
    assert.ok(r.inclusion.proof.length > 0);
  });

  it('proves one flow into a file that verify-proof checks against the envelope alone', async () => {
    copyOfEdExport('out-proof');
    const pr = await cillion('prove', file('out-proof'), '--flow', '5', '--out', file('proof.json'));
    assert.equal(pr.code, 0, pr.stderr);
    assert.match(pr.stdout, /^wrote .*proof\.json: flow 5 of \d+, \d+ hashes\n$/);
    // The third party holds the proof and the envelope, nothing else.
    mkdirSync(file('third-party'));
    cpSync(join(file('out-proof'), 'attestation.dsse.json'), join(file('third-party'), 'attestation.dsse.json'));
    const ok = await cillion('verify-proof', file('proof.json'), file('third-party'), '--key', file('ed.pub'));
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^VERIFIED .*proof\.json: flow 5 of \d+ in the evidence signed by [0-9a-f]{64}\n/);
    const lines = readFileSync(join(file('out-proof'), 'flows.ndjson'), 'utf8').split('\n');
    const proof = JSON.parse(readFileSync(file('proof.json'), 'utf8')) as { line: string; index: number; treeSize: number };
    assert.equal(proof.line, lines[5]);
    const checks = async (changed: object): Promise<string[]> => {
      writeFileSync(file('bad-proof.json'), JSON.stringify({ ...proof, ...changed }));
      const r = await cillion('verify-proof', file('bad-proof.json'), file('third-party'), '--key', file('ed.pub'), '-o', 'json');
      assert.equal(r.code, 1, r.stdout + r.stderr);
      return (JSON.parse(r.stdout) as { failures: { check: string }[] }).failures.map((f) => f.check);
    };
    assert.deepEqual(await checks({ line: lines[6] }), ['inclusion']);
    assert.deepEqual(await checks({ index: 6 }), ['inclusion']);
    // The tree size is the statement's: a proof for a smaller tree does not pass for this one.
    assert.deepEqual(await checks({ treeSize: proof.treeSize - 1 }), ['proof.treeSize']);
    const wrongKey = await cillion('verify-proof', file('proof.json'), file('third-party'), '--key', file('ec.pub'));
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stdout, /✗ signature: /);
    assert.equal((await cillion('prove', file('out-proof'), '--flow', String(proof.treeSize))).code, 2);
    writeFileSync(file('not-a-proof.json'), '{"line": 3}');
    assert.equal((await cillion('verify-proof', file('not-a-proof.json'), file('third-party'), '--key', file('ed.pub'))).code, 2);
    // verify --flow reads the same path from the index.
    const v = await cillion('verify', file('out-proof'), '--key', file('ed.pub'), '--flow', '5', '-o', 'json');
    assert.equal(v.code, 0, v.stdout);
    assert.deepEqual((JSON.parse(v.stdout) as { inclusion: { proof: string[] } }).inclusion.proof, (JSON.parse(readFileSync(file('proof.json'), 'utf8')) as { proof: string[] }).proof);
  });

  it('requires t of n trusted keys with --threshold, and takes co-signatures with sign', async () => {
    const both = await cillion(...exportArgs('out-two'), '--key', file('ec.pem'));
    assert.equal(both.code, 0, both.stderr);
    const two = ['--key', file('ed.pub'), '--key', file('ec.pub'), '--threshold', '2'];
    const v2 = await cillion('verify', file('out-two'), ...two);
    assert.equal(v2.code, 0, v2.stdout);
    assert.match(v2.stdout, /signed by 2 trusted keys \(2 required\)/);
    copyOfEdExport('out-one');
    const short = await cillion('verify', file('out-one'), ...two);
    assert.equal(short.code, 1);
    assert.match(short.stdout, /✗ signature: 1 of the trusted keys signed, 2 required/);
    // The same key twice is one signer.
    assert.equal((await cillion('verify', file('out-one'), '--key', file('ed.pub'), '--key', file('ed.pem'), '--threshold', '2')).code, 2);
    const cosign = await cillion('sign', file('out-one'), '--key', file('ec.pem'));
    assert.equal(cosign.code, 0, cosign.stderr);
    assert.match(cosign.stdout, /: 2 signatures/);
    assert.equal((await cillion('verify', file('out-one'), ...two)).code, 0);
    assert.equal((await cillion('verify', file('out-one'), '--key', file('ed.pub'), '--key', file('ec.pub'), '--threshold', '3')).code, 2);
  });

  it('fails with exit 1 and names each failed check', async () => {
    copyOfEdExport('out-bad');
    const wrongKey = await cillion('verify', file('out-bad'), '--key', file('ec.pub'));
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stdout, /^FAILED .*\n {2}✗ signature: no signature verifies with the key [0-9a-f]{64}\n$/);
    const ev = join(file('out-bad'), 'flows.ndjson');
    const lines = readFileSync(ev, 'utf8').split('\n');
    writeFileSync(ev, [...lines.slice(0, 2), ...lines.slice(3)].join('\n'));
    const tampered = await cillion('verify', file('out-bad'), '--key', file('ed.pub'), '-o', 'json');
    assert.equal(tampered.code, 1, tampered.stderr);
    const r = JSON.parse(tampered.stdout) as { ok: boolean; failures: { check: string }[] };
    assert.equal(r.ok, false);
    for (const c of ['evidence.merkleRoot', 'evidence.flows', 'evidence.totals']) assert.ok(r.failures.some((f) => f.check === c), c);
  });

  it('exits 2 on usage errors', async () => {
    const cases: string[][] = [
      ['export', '--data-dir', dataDir, '--selector', 'app=ledger', '--since', since, '--until', until, '--out', file('x')],
      ['export', '--data-dir', dataDir, '--server', '127.0.0.1:1', '--selector', 'app=ledger', '--since', since, '--until', until, '--key', file('ed.pem'), '--out', file('x')],
      ['export', '--data-dir', dataDir, '--selector', 'app in (', '--since', since, '--until', until, '--key', file('ed.pem'), '--out', file('x')],
      ['export', '--data-dir', dataDir, '--selector', 'app=ledger', '--since', 'yesterday', '--until', until, '--key', file('ed.pem'), '--out', file('x')],
      ['export', '--data-dir', dataDir, '--selector', 'app=ledger', '--since', since, '--until', until, '--key', file('ed.pub'), '--out', file('x')],
      ['export', '--selector', 'app=ledger'],
      ['verify', file('out-ed')],
      ['verify', file('nowhere'), '--key', file('ed.pub')],
    ];
    const runs = await pool(cases.map((args) => () => cillion(...args)), 2);
    cases.forEach((args, i) => assert.equal(runs[i].code, 2, `${args.join(' ')}: ${runs[i].stdout}${runs[i].stderr}`));
  });

  describe('against a relay (--server)', () => {
    let relay: Relay;
    let store: FlowStore;
    const relayKey = generateKeyPairSync('ed25519');
    const CHUNK = 8 * 1024;

    before(async () => {
      store = await openStore({ dataDir: file('relay-data') });
      await fill(store, corpus(3000));
      // Small pieces, so even this corpus' statement and envelope come in many messages.
      relay = await startRelay({ listen: '127.0.0.1:0', store, attest: { key: relayKey.privateKey, chunkBytes: CHUNK } });
      writeFileSync(file('relay.pub'), relayKey.publicKey.export({ type: 'spki', format: 'pem' }));
    });
    after(async () => {
      await relay.close();
      await store.close();
    });

    it('has the relay sign without --key, and signs locally with --key', async () => {
      const base = ['export', '--server', relay.address, '--selector', 'app=ledger', '--since', since, '--until', until];
      const bySelf = await cillion(...base, '--out', file('remote-relay'));
      assert.equal(bySelf.code, 0, bySelf.stderr);
      assert.equal((await cillion('verify', file('remote-relay'), '--key', file('relay.pub'))).code, 0);
      const byMe = await cillion(...base, '--key', file('ec.pem'), '--out', file('remote-mine'));
      assert.equal(byMe.code, 0, byMe.stderr);
      const v = await cillion('verify', file('remote-mine'), '--key', file('ec.pub'));
      assert.equal(v.code, 0, v.stdout);
      assert.equal(readFileSync(join(file('remote-mine'), 'flows.ndjson'), 'utf8'), readFileSync(join(file('remote-relay'), 'flows.ndjson'), 'utf8'));
    });

    it('puts together a statement, envelope and report sent in many pieces', async () => {
      const window = { since: { seconds: BigInt(CORPUS_START_MS / 1000), nanos: 0 }, until: { seconds: BigInt(CORPUS_START_MS / 1000 + 600), nanos: 0 } };
      const via = new AttestClient(relay.address, credentials.createInsecure());
      const pieces = new Map<string, number>();
      for await (const m of via.export({ selector: 'app', ...window, geofence: '', records: 'all', sign: true, allowIncomplete: false, evidenceOnly: false }) as AsyncIterable<ExportResponse>) {
        if (m.item && m.item.$case !== 'progress') {
          assert.ok(m.item.value.length <= CHUNK);
          pieces.set(m.item.$case, (pieces.get(m.item.$case) ?? 0) + 1);
        }
      }
      via.close();
      for (const k of ['evidenceChunk', 'statementChunk', 'envelopeChunk', 'reportChunk']) assert.ok((pieces.get(k) ?? 0) > 1, `${k}: ${pieces.get(k)}`);
      const big = await cillion('export', '--server', relay.address, '--selector', 'app', '--records', 'all', '--since', new Date(CORPUS_START_MS).toISOString(), '--until', new Date(CORPUS_START_MS + 600_000).toISOString(), '--out', file('remote-big'));
      assert.equal(big.code, 0, big.stderr);
      const v = await cillion('verify', file('remote-big'), '--key', file('relay.pub'));
      assert.equal(v.code, 0, v.stdout);
      assert.match(readFileSync(join(file('remote-big'), 'report.md'), 'utf8'), /^# Compliance attestation: app\n[^]*## What this shows/);
    });

    it('shows a progress line on a terminal, and clears it before the summary, local and against the relay', async () => {
      const window = ['--selector', 'app=ledger', '--since', since, '--until', until];
      const sources: [string, string[]][] = [['tty-local', ['--data-dir', dataDir, '--key', file('ed.pem')]], ['tty-remote', ['--server', relay.address]]];
      for (const [name, source] of sources) {
        const r = await onTerminal('export', ...source, ...window, '--out', file(name));
        assert.equal(r.code, 0, r.stdout);
        const flows = (JSON.parse(Buffer.from((JSON.parse(readFileSync(join(file(name), 'attestation.dsse.json'), 'utf8')) as { payload: string }).payload, 'base64').toString()) as { predicate: { totals: { flows: number } } }).predicate.totals.flows;
        assert.ok(flows > 0);
        assert.ok(r.stdout.includes(`\r\x1b[Kexporting: ${flows.toLocaleString('en-US')} flows\r\x1b[Kwrote ${file(name)}: ${flows} flows`), `${name}: ${JSON.stringify(r.stdout)}`);
      }
    });
  });

  describe('a relay that fails half-way or sends what it did not sign', () => {
    const relayKey = generateKeyPairSync('ed25519');
    const good = (): { evidence: Buffer; statement: Buffer; envelope: Buffer } => {
      const evidence = readFileSync(join(file('out-ed'), 'flows.ndjson'));
      const env = JSON.parse(readFileSync(join(file('out-ed'), 'attestation.dsse.json'), 'utf8')) as { payload: string };
      const statement = Buffer.from(env.payload, 'base64');
      return { evidence, statement, envelope: Buffer.from(JSON.stringify(signPayload(statement, [relayKey.privateKey]))) };
    };

    /** A relay whose Export sends `items` and then ends with `end` (OK when undefined). */
    async function fakeRelay(items: () => NonNullable<ExportResponse['item']>[], end?: status): Promise<{ address: string; close(): void }> {
      const server = new Server();
      const impl: AttestServer = {
        export(call) {
          for (const item of items()) call.write({ item });
          if (end === undefined) call.end();
          else call.emit('error', Object.assign(new Error('store went away'), { code: end, details: 'store went away' }));
        },
      };
      server.addService(AttestService, impl);
      const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
      return { address: `127.0.0.1:${port}`, close: () => server.forceShutdown() };
    }

    const exportFrom = (address: string, out: string): Promise<Run> =>
      cillion('export', '--server', address, '--selector', 'app=ledger', '--since', since, '--until', until, '--out', out);

    it('writes nothing when the stream breaks after the evidence, and leaves an earlier attestation whole', async () => {
      const g = good();
      const half = g.evidence.length >> 1;
      const relay = await fakeRelay(() => [{ $case: 'evidenceChunk', value: g.evidence.subarray(0, half) }, { $case: 'evidenceChunk', value: g.evidence.subarray(half) }], status.INTERNAL);
      try {
        const fresh = await exportFrom(relay.address, file('broken'));
        assert.equal(fresh.code, 1);
        assert.match(fresh.stderr, /store went away.*nothing was written to/);
        assert.deepEqual(readdirSync(file('broken')), []);
        cpSync(file('out-ed'), file('kept'), { recursive: true });
        assert.equal((await exportFrom(relay.address, file('kept'))).code, 1);
        assert.deepEqual(readdirSync(file('kept')).sort(), ['attestation.dsse.json', 'flows.ndjson', 'flows.tree', 'report.md']);
        assert.equal((await cillion('verify', file('kept'), '--key', file('ed.pub'))).code, 0);
      } finally {
        relay.close();
      }
    });

    it('writes nothing when the evidence is not what the envelope signs, or the envelope is missing', async () => {
      const g = good();
      const cases: [string, () => NonNullable<ExportResponse['item']>[], RegExp][] = [
        ['short', () => [{ $case: 'evidenceChunk', value: g.evidence.subarray(0, g.evidence.lastIndexOf(10, g.evidence.length - 2) + 1) }, { $case: 'statementChunk', value: g.statement }, { $case: 'envelopeChunk', value: g.envelope }], /is not the evidence signed/],
        ['mid-line', () => [{ $case: 'evidenceChunk', value: g.evidence.subarray(0, g.evidence.length - 5) }, { $case: 'statementChunk', value: g.statement }, { $case: 'envelopeChunk', value: g.envelope }], /ends in the middle of a line/],
        ['unsigned', () => [{ $case: 'evidenceChunk', value: g.evidence }, { $case: 'statementChunk', value: g.statement }], /sent no signed envelope/],
        ['other', () => [{ $case: 'evidenceChunk', value: g.evidence }, { $case: 'statementChunk', value: Buffer.from(g.statement.toString().replace('"flows":', '"flows": ')) }, { $case: 'envelopeChunk', value: g.envelope }], /signed another statement/],
      ];
      for (const [name, items, message] of cases) {
        const relay = await fakeRelay(items);
        try {
          const r = await exportFrom(relay.address, file(`lie-${name}`));
          assert.equal(r.code, 1, `${name}: ${r.stderr}`);
          assert.match(r.stderr, message, name);
          assert.deepEqual(readdirSync(file(`lie-${name}`)), [], name);
        } finally {
          relay.close();
        }
      }
      // The same pieces, whole and honest, are kept.
      const relay = await fakeRelay(() => [{ $case: 'evidenceChunk', value: g.evidence }, { $case: 'statementChunk', value: g.statement }, { $case: 'envelopeChunk', value: g.envelope }]);
      try {
        const r = await exportFrom(relay.address, file('honest'));
        assert.equal(r.code, 0, r.stderr);
        writeFileSync(file('fake-relay.pub'), relayKey.publicKey.export({ type: 'spki', format: 'pem' }));
        assert.equal((await cillion('verify', file('honest'), '--key', file('fake-relay.pub'))).code, 0);
      } finally {
        relay.close();
      }
    });
  });

  describe('cillion relay --attest-key', () => {
    it('signs exports with its key, for each key type, and names its store', async () => {
      for (const k of ['ed', 'ec']) {
        const relay = await relayProcess(['--data-dir', dataDir, '--attest-key', file(`${k}.pem`)]);
        try {
          const ex = await cillion('export', '--server', relay.address, '--selector', 'app=ledger', '--since', since, '--until', until, '--out', file(`relay-key-${k}`));
          assert.equal(ex.code, 0, ex.stderr);
          const v = await cillion('verify', file(`relay-key-${k}`), '--key', file(`${k}.pub`), '-o', 'json');
          assert.equal(v.code, 0, v.stdout);
          const other = await cillion('verify', file(`relay-key-${k}`), '--key', file(`${k === 'ed' ? 'ec' : 'ed'}.pub`));
          assert.equal(other.code, 1, 'signed by the relay\'s key, not any key');
        } finally {
          assert.equal(await relay.stop(), 0);
        }
      }
      const envelope = JSON.parse(readFileSync(join(file('relay-key-ed'), 'attestation.dsse.json'), 'utf8')) as { payload: string };
      const st = JSON.parse(Buffer.from(envelope.payload, 'base64').toString()) as { predicate: { store: { kind: string; location: string } } };
      assert.deepEqual(st.predicate.store, { kind: 'chdb', location: dataDir, database: 'cillion' });
      assert.equal(readFileSync(join(file('relay-key-ed'), 'flows.ndjson'), 'utf8'), readFileSync(join(file('out-ed'), 'flows.ndjson'), 'utf8'));
    });

    it('refuses a missing, public, non-PEM or RSA key with exit 1 before it opens the store', async () => {
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      writeFileSync(file('rsa.pem'), rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
      writeFileSync(file('junk.pem'), 'not a key\n');
      const cases: [string, RegExp][] = [
        ['missing.pem', /--attest-key: cannot read key .*missing\.pem/],
        ['ed.pub', /--attest-key: .*ed\.pub: not a PEM private key/],
        ['junk.pem', /--attest-key: .*junk\.pem: not a PEM private key/],
        ['rsa.pem', /--attest-key: .*rsa\.pem: unsupported key type rsa: use Ed25519 or ECDSA P-256/],
      ];
      const runs = await pool(cases.map(([key]) => () => relayRefuses(['--data-dir', file(`never-${key}`), '--attest-key', file(key)])), 2);
      cases.forEach(([key, message], i) => {
        assert.equal(runs[i].code, 1, `${key}: ${runs[i].stderr}`);
        assert.match(runs[i].stderr, message);
        assert.ok(!existsSync(file(`never-${key}`)), `${key}: the store was not created`);
      });
    });
  });
});
