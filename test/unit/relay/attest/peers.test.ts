// Attestations across relays, through real servers: relay-a (in this process, embedded store)
// with peers relay-b and relay-c (`cillion relay` processes, each its own embedded store),
// flows stored on each over FlowExport, some on two of them. An export through relay-a
// covers all three and verifies; a peer that never answers is refused within the timeout,
// or, when an incomplete range is allowed, named as missing in a statement that verifies.
import assert from 'node:assert/strict';
import { credentials, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttestClient, type ExportRequest, type ExportResponse } from '../../../../proto/gen/attest/v1/attest';
import { FlowExportClient } from '../../../../proto/gen/export/v1/export';
import { ObserverClient } from '../../../../proto/gen/observer/observer';
import type { Flow } from '../../../../proto/gen/flow/flow';
import { keyId } from '../../../../relay/attest/keys';
import type { Statement } from '../../../../relay/attest/statement';
import { verifyAttestation } from '../../../../relay/attest/verify';
import type { PeerOptions } from '../../../../relay/peers/options';
import { localScope } from '../../../../relay/peers/scope';
import { startRelay, type Relay } from '../../../../relay/server';
import { openStore, type FlowStore } from '../../../../relay/store/store';
import { cli, Proc } from '../../../e2e/procs';
import { FakeCollector } from '../exporter_client';
import { serverStatus } from '../../observer/helpers';
import { issue, makeCerts } from '../test_certs';
import { CORPUS_START_MS, corpus } from './fixture';

const ts = (ms: number) => ({ seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 });
const SINCE = CORPUS_START_MS;
const UNTIL = CORPUS_START_MS + 60_000;

function request(over: Partial<ExportRequest> = {}): ExportRequest {
  return { selector: 'app=ledger', since: ts(SINCE), until: ts(UNTIL), geofence: '', records: 'all', sign: true, allowIncomplete: false, evidenceOnly: false, ...over };
}

interface Answer {
  evidence: Buffer;
  statement: Statement;
  envelope: Buffer;
}

async function exportVia(client: AttestClient, req: ExportRequest, local = false): Promise<Answer> {
  const parts: Record<string, Buffer[]> = { evidenceChunk: [], statementChunk: [], envelopeChunk: [] };
  const call = local ? client.export(req, localScope()) : client.export(req);
  for await (const m of call as AsyncIterable<ExportResponse>) if (m.item && m.item.$case in parts) parts[m.item.$case].push(Buffer.from(m.item.value as Buffer));
  const statement = JSON.parse(Buffer.concat(parts.statementChunk).toString()) as Statement;
  return { evidence: Buffer.concat(parts.evidenceChunk), statement, envelope: Buffer.concat(parts.envelopeChunk) };
}

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

const lines = (b: Buffer): string[] => b.toString().split('\n').filter((l) => l !== '');

const FENCE_YAML = `apiVersion: cillion.io/v1alpha1
kind: Geofence
metadata:
  name: ledger-eu
spec:
  workloadSelector:
    podSelector:
      matchLabels:
        app: ledger
  allow:
    countries: [EU, CH]
  mode: audit
`;

describe('attestations across relays (own stores)', function () {
  this.timeout(240_000);
  const key = generateKeyPairSync('ed25519');
  // Every flow as node-a's: the collector certificate names node-a.
  const flows: Flow[] = corpus(3000).map((f) => ({ ...f, nodeName: 'node-a' }));
  let dir: string;
  let store: FlowStore;
  let relayA: Relay;
  const procs: Proc[] = [];
  const address: Record<string, string> = {};
  let blackhole: NetServer;
  const held: Socket[] = [];
  let dead: string;
  const file = (n: string) => readFileSync(join(dir, n));
  let attester: ChannelCredentials;
  let peerCreds: ChannelCredentials;
  const clients: { close(): void }[] = [];
  const attestClient = (addr: string, creds: ChannelCredentials): AttestClient => {
    const c = new AttestClient(addr, creds);
    clients.push(c);
    return c;
  };

  async function push(addr: string, session: string, batch: Flow[]): Promise<void> {
    const c = new FakeCollector(addr, 'node-a', session, attester);
    let last = 0n;
    for (let i = 0; i < batch.length; i += 250) last = c.send(batch.slice(i, i + 250));
    await c.acked(last, 30_000);
    await c.close();
  }

  function peers(targets: PeerOptions['targets'], over: Partial<PeerOptions> = {}): PeerOptions {
    return { targets, credentials: peerCreds, timeoutMs: 3000, sharedStore: false, ...over };
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-attest-peers-'));
    makeCerts(dir);
    issue(dir, 'peer', 'relay-a', ['peer']);
    mkdirSync(join(dir, 'fences'));
    writeFileSync(join(dir, 'fences', 'fence.yaml'), FENCE_YAML);
    writeFileSync(join(dir, 'attest.pub'), key.publicKey.export({ type: 'spki', format: 'pem' }));
    attester = credentials.createSsl(file('ca.pem'), file('client.key'), file('client.pem'));
    peerCreds = credentials.createSsl(file('ca.pem'), file(join('peer', 'tls.key')), file(join('peer', 'tls.crt')));
    const tls = ['--tls-cert', join(dir, 'server.pem'), '--tls-key', join(dir, 'server.key'), '--tls-client-ca', join(dir, 'ca.pem')];
    for (const [name, extra] of [['relay-b', ['--resources', join(dir, 'fences')]], ['relay-c', []]] as const) {
      procs.push(new Proc(name, ['relay', '--no-ui', '--listen', '127.0.0.1:0', '--metrics', '', '--data-dir', join(dir, name), ...tls, ...extra]));
    }
    blackhole = createServer((s) => held.push(s));
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
    dead = `127.0.0.1:${(blackhole.address() as { port: number }).port}`;
    store = await openStore({ dataDir: join(dir, 'relay-a') });
    await Promise.all(procs.map((p) => p.waitFor(/ on 127\.0\.0\.1:\d+ /, 120_000)));
    for (const p of procs) address[p.name] = `localhost:${(/ on 127\.0\.0\.1:(\d+) /.exec(p.log) as RegExpExecArray)[1]}`;
    relayA = await startRelay({
      listen: '127.0.0.1:0',
      store,
      name: 'relay-a',
      tls: { cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), clientCa: join(dir, 'ca.pem') },
      attest: { key: key.privateKey, storeIdentity: { kind: 'chdb', location: join(dir, 'relay-a'), database: 'cillion' } },
      peers: peers([{ name: 'relay-b', address: address['relay-b'] }, { name: 'relay-c', address: address['relay-c'] }]),
    });
    address['relay-a'] = relayA.address.replace('127.0.0.1', 'localhost');
    // relay-b also holds copies of 200 of relay-a's flows: a batch both took around a failover.
    await Promise.all([
      push(address['relay-a'], 'sa', flows.slice(0, 1000)),
      push(address['relay-b'], 'sb', [...flows.slice(1000, 2000)]),
      push(address['relay-b'], 'sb-copies', flows.slice(0, 200)),
      push(address['relay-c'], 'sc', flows.slice(2000, 3000)),
    ]);
  });

  after(async () => {
    for (const c of clients) c.close();
    await relayA?.close();
    await store?.close();
    await Promise.all(procs.map((p) => p.stop()));
    for (const s of held) s.destroy();
    blackhole?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('covers the flows of every relay, each once, signed by the relay asked, and verifies', async () => {
    const client = attestClient(address['relay-a'], attester);
    // Each relay alone: an attester asking with the local scope gets that relay's store only.
    const alone = await Promise.all(['relay-a', 'relay-b', 'relay-c'].map((n) => exportVia(attestClient(address[n], attester), request({ sign: n === 'relay-a' }), true)));
    for (const a of alone) assert.deepEqual(a.statement.predicate.relays.covered.map((r) => r.name), [a.statement.predicate.relay.name]);
    assert.equal(alone[0].statement.predicate.relay.name, 'relay-a');
    assert.ok(alone.every((a) => a.statement.predicate.evidence.flows > 50), 'every relay holds selected flows');

    const merged = await exportVia(client, request());
    const p = merged.statement.predicate;
    const r = await verifyAttestation({ envelope: merged.envelope, keys: [key.publicKey], evidence: once(merged.evidence) });
    assert.deepEqual(r.failures, []);
    assert.equal(p.relay.name, 'relay-a');
    assert.equal(p.relay.signingKey, keyId(key.privateKey));
    assert.deepEqual(p.relays.covered.map((c) => c.name), ['relay-a', 'relay-b', 'relay-c']);
    assert.deepEqual(p.relays.covered.map((c) => c.store.location), [join(dir, 'relay-a'), join(dir, 'relay-b'), join(dir, 'relay-c')]);
    assert.deepEqual(p.relays.missing, []);

    // The union of the three stores' evidence in evidence order, each uuid once: relay-a's
    // copy where it holds the flow, else the first peer's in peer order.
    const all = alone.flatMap((a) => lines(a.evidence));
    const first = new Map<string, string>();
    const order = (a: string, b: string): number => {
      const [ta, tb] = [JSON.parse(a).time as string, JSON.parse(b).time as string];
      return ta < tb ? -1 : ta > tb ? 1 : a < b ? -1 : a > b ? 1 : 0;
    };
    for (const l of all) {
      const uuid = JSON.parse(l).uuid as string;
      if (!first.has(uuid)) first.set(uuid, l);
    }
    assert.deepEqual(lines(merged.evidence), [...first.values()].sort(order));
    assert.ok(all.length - first.size > 10, `${all.length - first.size} copies`);
    assert.equal(p.relays.duplicates, all.length - first.size);
    // relay-b judged its copies against a fence relay-a lacks: they differ, relay-a's are kept.
    const differing = all.filter((l) => first.get(JSON.parse(l).uuid as string) !== l).length;
    assert.ok(differing > 10, `${differing} differing copies`);
    assert.equal(p.relays.conflicts, differing);
    // relay-b judged its flows against a fence relay-a does not have: its spec comes with them.
    assert.ok(p.geofences.some((g) => g.name === 'ledger-eu' && g.spec !== null), JSON.stringify(p.geofences));
    assert.ok(p.totals.unverified > 0);
  });

  it('refuses a peer-role client without the local scope, and answers it from its own store with it', async () => {
    const asPeer = attestClient(address['relay-a'], peerCreds);
    await assert.rejects(exportVia(asPeer, request({ sign: false })), (e: ServiceError) => e.code === status.PERMISSION_DENIED && /local scope/.test(e.details));
    const own = await exportVia(asPeer, request({ sign: false }), true);
    assert.deepEqual(own.statement.predicate.relays.covered.map((c) => c.name), ['relay-a']);
    const observer = new ObserverClient(address['relay-a'], peerCreds);
    clients.push(observer);
    await assert.rejects(serverStatus(observer), (e: ServiceError) => e.code === status.PERMISSION_DENIED);
    // The peer role never stands in for a collector, scope or not.
    const exporter = new FlowExportClient(address['relay-a'], peerCreds);
    clients.push(exporter);
    const call = exporter.export(localScope());
    const refused = await new Promise<ServiceError>((resolve) => call.on('error', resolve));
    assert.equal(refused.code, status.PERMISSION_DENIED);
  });

  describe('with a peer that never answers', () => {
    let relayD: Relay;
    let relayE: Relay;
    const TIMEOUT = 1500;
    before(async () => {
      // Further relays in this process share relay-a's store object (one data dir per process).
      relayD = await startRelay({
        listen: '127.0.0.1:0',
        store,
        name: 'relay-d',
        attest: { key: key.privateKey },
        peers: peers([{ name: 'relay-b', address: address['relay-b'] }, { name: 'relay-dead', address: dead }], { timeoutMs: TIMEOUT }),
      });
      relayE = await startRelay({ listen: '127.0.0.1:0', store, name: 'relay-e', attest: { key: key.privateKey }, peers: peers([{ name: 'relay-dead', address: dead }], { sharedStore: true }) });
    });
    after(async () => {
      await relayD?.close();
      await relayE?.close();
    });

    it('refuses with UNAVAILABLE naming it, within the timeout', async () => {
      const client = attestClient(relayD.address, credentials.createInsecure());
      const t0 = Date.now();
      await assert.rejects(exportVia(client, request()), (e: ServiceError) => {
        assert.equal(e.code, status.UNAVAILABLE, e.details);
        assert.match(e.details, /relay relay-dead \(127\.0\.0\.1:\d+\): no answer within 1500 ms/);
        assert.doesNotMatch(e.details, /relay relay-b/);
        return true;
      });
      const took = Date.now() - t0;
      assert.ok(took >= TIMEOUT && took < TIMEOUT + 4000, `refused after ${took} ms`);
      assert.match(await relayD.metrics.text(), /cillion_attest_peers_missing_total\{reason="unreachable"\} [1-9]/);
    });

    it('signs what the others hold when asked to allow an incomplete range, naming the missing relay', async () => {
      const client = attestClient(relayD.address, credentials.createInsecure());
      const a = await exportVia(client, request({ allowIncomplete: true }));
      const r = await verifyAttestation({ envelope: a.envelope, keys: [key.publicKey], evidence: once(a.evidence) });
      assert.deepEqual(r.failures, []);
      const c = a.statement.predicate.relays;
      assert.deepEqual(c.covered.map((x) => x.name), ['relay-d', 'relay-b']);
      assert.deepEqual(c.missing.map((x) => [x.name, x.address]), [['relay-dead', dead]]);
      assert.match(c.missing[0].reason, /no answer within 1500 ms/);
    });

    it('through the CLI: refuses, or with --allow-incomplete writes an attestation verify reports as incomplete', async () => {
      const out = join(dir, 'incomplete');
      const args = ['attest', 'export', '--server', relayD.address, '--selector', 'app=ledger', '--since', new Date(SINCE).toISOString(), '--until', new Date(UNTIL).toISOString(), '--records', 'all', '--out', out];
      const usage = await cli(['attest', 'export', '--data-dir', join(dir, 'nowhere'), '--key', join(dir, 'attest.pub'), ...args.slice(4), '--allow-incomplete']);
      assert.equal(usage.code, 2, usage.stderr);
      assert.match(usage.stderr, /--allow-incomplete goes with --server/);
      const refused = await cli(args);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /relay-dead.*--allow-incomplete.*nothing was written/s);
      const done = await cli([...args, '--allow-incomplete']);
      assert.equal(done.code, 0, done.stderr);
      assert.match(done.stdout, /INCOMPLETE RANGE: flows of relays relay-dead may be missing/);
      const v = await cli(['attest', 'verify', out, '--key', join(dir, 'attest.pub')]);
      assert.equal(v.code, 0, v.stdout + v.stderr);
      assert.match(v.stdout, /^VERIFIED /);
      assert.match(v.stdout, /exported by relay relay-d, which signs it with key [0-9a-f]{64}/);
      assert.ok(v.stdout.includes(`covers the stores of relays relay-d [unknown ], relay-b [chdb ${join(dir, 'relay-b')}]`), v.stdout);
      assert.match(v.stdout, /INCOMPLETE RANGE: flows of relays relay-dead may be missing \(relay relay-dead \(127\.0\.0\.1:\d+\): no answer within 1500 ms\)/);
      const j = await cli(['attest', 'verify', out, '--key', join(dir, 'attest.pub'), '-o', 'json']);
      const parsed = JSON.parse(j.stdout) as { ok: boolean; relays: { complete: boolean; missing: { name: string }[]; relay: { name: string } } };
      assert.equal(parsed.ok, true);
      assert.equal(parsed.relays.complete, false);
      assert.equal(parsed.relays.relay.name, 'relay-d');
      assert.deepEqual(parsed.relays.missing.map((m) => m.name), ['relay-dead']);
    });

    it('gathers nothing with a shared store, and says the replicas share it', async () => {
      const client = attestClient(relayE.address, credentials.createInsecure());
      const t0 = Date.now();
      const a = await exportVia(client, request());
      assert.ok(Date.now() - t0 < TIMEOUT, 'the dead replica was never asked');
      const c = a.statement.predicate.relays;
      assert.deepEqual(c.covered.map((x) => x.name), ['relay-e']);
      assert.deepEqual(c.sharedStoreWith, ['relay-dead']);
      assert.deepEqual(c.missing, []);
      const r = await verifyAttestation({ envelope: a.envelope, keys: [key.publicKey], evidence: once(a.evidence) });
      assert.deepEqual(r.failures, []);
    });
  });
});
