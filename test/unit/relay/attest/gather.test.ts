// Gathering a peer's evidence against peers that misbehave: stand-in Attest servers that
// answer with genuine evidence of flows no store holds, then break off, stall, keep only
// sending progress, send lines out of order, outside the window or over a path they never
// announced, or more than the bounds allow. Each is refused with UNAVAILABLE naming it, or,
// with an incomplete range allowed, named as missing in a statement that verifies.
import assert from 'node:assert/strict';
import { credentials, Metadata, Server, ServerCredentials, status, type ServerWritableStream, type ServiceError } from '@grpc/grpc-js';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttestClient, AttestService, type ExportRequest, type ExportResponse } from '../../../../proto/gen/attest/v1/attest';
import { canonicalFlow, canonicalLine } from '../../../../relay/attest/canonical_flow';
import { catalogueBytes, parseCatalogue, parsePathEntry, pathEntryBytes } from '../../../../relay/attest/catalogue';
import { pathEntry, srv6Entry } from '../../../../relay/attest/evidence_row';
import { WanPathType } from '../../../../proto/gen/flow/flow';
import { fenceUse, type ListedPath } from '../../../../relay/attest/export';
import type { Statement } from '../../../../relay/attest/statement';
import { verifyAttestation } from '../../../../relay/attest/verify';
import { localScope } from '../../../../relay/peers/scope';
import { startRelay, type Relay, type RelayOptions } from '../../../../relay/server';
import { openStore, type FlowStore } from '../../../../relay/store/store';
import { CORPUS_START_MS, corpus, FENCES, fill } from './fixture';

const ts = (ms: number) => ({ seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 });
const SINCE = CORPUS_START_MS;
const UNTIL = CORPUS_START_MS + 20_000;

function request(over: Partial<ExportRequest> = {}): ExportRequest {
  return { selector: 'app=ledger', since: ts(SINCE), until: ts(UNTIL), geofence: '', records: 'all', sign: true, allowIncomplete: false, evidenceOnly: false, ...over };
}

type Item = NonNullable<ExportResponse['item']>;

async function collect(client: AttestClient, req: ExportRequest, md?: Metadata): Promise<Item[]> {
  const items: Item[] = [];
  for await (const m of (md ? client.export(req, md) : client.export(req)) as AsyncIterable<ExportResponse>) if (m.item) items.push(m.item);
  return items;
}

const joined = (items: Item[], kind: Item['$case']): Buffer => Buffer.concat(items.flatMap((i) => (i.$case === kind && i.$case !== 'progress' ? [Buffer.from(i.value)] : [])));

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

/** What a relay would answer a gathering peer for flows that are in no store here. */
function peerAnswer(): { lines: string[]; paths: ListedPath[]; catalogue: Buffer; evidence: Buffer } {
  const rows = corpus(1500)
    .map((f) => ({ ...f, uuid: f.uuid.replace(/^00000000/, 'feedface') }))
    .filter((f) => f.source?.labels.includes('k8s:app=ledger'))
    .map((f) => ({ f, c: canonicalFlow(f) }));
  const lines = rows.map(({ c }) => canonicalLine(c)).sort((a, b) => {
    const [ta, tb] = [JSON.parse(a).time as string, JSON.parse(b).time as string];
    return ta < tb ? -1 : ta > tb ? 1 : a < b ? -1 : 1;
  });
  const paths = new Map<string, ListedPath>();
  for (const { f, c } of rows) {
    if (c.path === '') continue;
    if (f.pathType === WanPathType.WAN_PATH_SRV6 && f.srv6Path) paths.set(c.path, { fingerprint: c.path, ...srv6Entry(f.srv6Path) });
    else if (f.scionPath) paths.set(c.path, { fingerprint: c.path, ...pathEntry(f.scionPath) });
  }
  const evidence = Buffer.from(lines.map((l) => `${l}\n`).join(''));
  const catalogue = catalogueBytes({
    relay: { name: 'fake', cluster: 'far', version: '9.9.9' },
    store: { kind: 'clickhouse', location: 'http://far:8123/', database: 'cillion' },
    // It knows eu-only; dach it leaves out, as a relay that lost the spec.
    geofences: [fenceUse('eu-only', FENCES.get('eu-only'))],
    evidence: { sha256: createHash('sha256').update(evidence).digest('hex'), flows: lines.length },
  });
  return { lines, paths: [...paths.values()], catalogue, evidence };
}

type Call = ServerWritableStream<ExportRequest, ExportResponse>;
type Script = (call: Call, answer: ReturnType<typeof peerAnswer>) => Promise<void>;

const CHUNK = 4096;
const write = (call: Call, item: Item): void => {
  call.write({ item });
};
const pieces = (b: Buffer): Buffer[] => Array.from({ length: Math.ceil(b.length / CHUNK) }, (_, i) => b.subarray(i * CHUNK, (i + 1) * CHUNK));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The whole answer; `evidence` and `paths` replaced where a script says so. */
function sendAll(call: Call, a: ReturnType<typeof peerAnswer>, over: { evidence?: Buffer; paths?: ListedPath[]; catalogue?: Buffer } = {}): void {
  write(call, { $case: 'progress', value: { flows: 0n } });
  for (const p of over.paths ?? a.paths) write(call, { $case: 'path', value: pathEntryBytes(p) });
  for (const c of pieces(over.evidence ?? a.evidence)) write(call, { $case: 'evidenceChunk', value: c });
  write(call, { $case: 'catalogueChunk', value: over.catalogue ?? a.catalogue });
  call.end();
}

describe('relay/attest gathering from peers that misbehave', function () {
  this.timeout(120_000);
  const key = generateKeyPairSync('ed25519');
  const answer = peerAnswer();
  let dataDir: string;
  let store: FlowStore;
  const servers: Server[] = [];
  const relays: Relay[] = [];
  const clients: AttestClient[] = [];
  let requests: { req: ExportRequest; scope: string | undefined }[] = [];

  async function fakePeer(script: Script): Promise<string> {
    const server = new Server();
    server.addService(AttestService, {
      export(call: Call) {
        requests.push({ req: call.request, scope: call.metadata.get('cillion-scope')[0] as string | undefined });
        script(call, answer).catch(() => undefined);
      },
    });
    const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    servers.push(server);
    return `127.0.0.1:${port}`;
  }

  async function gatherer(address: string, over: Partial<RelayOptions> & { timeoutMs?: number } = {}): Promise<AttestClient> {
    const relay = await startRelay({
      listen: '127.0.0.1:0',
      store,
      name: 'here',
      attest: { key: key.privateKey, ...over.attest },
      peers: { targets: [{ name: 'fake', address }], credentials: credentials.createInsecure(), timeoutMs: over.timeoutMs ?? 1000, sharedStore: false },
    });
    relays.push(relay);
    const c = new AttestClient(relay.address, credentials.createInsecure());
    clients.push(c);
    return c;
  }

  async function verified(items: Item[]): Promise<Statement> {
    const r = await verifyAttestation({ envelope: joined(items, 'envelopeChunk'), keys: [key.publicKey], evidence: once(joined(items, 'evidenceChunk')) });
    assert.deepEqual(r.failures, []);
    return r.statement as Statement;
  }

  const refused = (re: RegExp) => (e: ServiceError): boolean => {
    assert.equal(e.code, status.UNAVAILABLE, e.details);
    assert.match(e.details, re);
    return true;
  };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cillion-attest-gather-'));
    store = await openStore({ dataDir });
    await fill(store, corpus(1500));
  });
  beforeEach(() => {
    requests = [];
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const r of relays) await r.close();
    for (const s of servers) s.forceShutdown();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('merges a well-behaved peer: asks it with the local scope and evidence_only, takes its paths and geofence specs', async () => {
    const client = await gatherer(await fakePeer(async (call, a) => sendAll(call, a)));
    const items = await collect(client, request());
    const st = await verified(items);
    assert.equal(requests.length, 1);
    assert.equal(requests[0].scope, 'local');
    assert.deepEqual({ ...requests[0].req, since: undefined, until: undefined }, { ...request({ sign: false, evidenceOnly: true }), since: undefined, until: undefined });
    const p = st.predicate;
    const evidence = joined(items, 'evidenceChunk').toString();
    for (const l of answer.lines) assert.ok(evidence.includes(l));
    assert.equal(p.evidence.flows, evidence.split('\n').length - 1);
    assert.ok(p.evidence.flows > answer.lines.length);
    assert.deepEqual(p.relays.covered.map((c) => [c.name, c.cluster, c.version, c.store.location]), [['here', '', p.relay.version, ''], ['fake', 'far', '9.9.9', 'http://far:8123/']]);
    // eu-only with the spec only the peer had; dach named, its spec nowhere.
    assert.deepEqual(p.geofences.map((g) => [g.name, g.spec === null]), [['dach', true], ['eu-only', false]]);
  });

  it('names a peer that breaks off half-way as missing, keeping the lines it sent, or refuses', async () => {
    // The peer breaks off once the gatherer has merged lines (its heartbeat counts them), so
    // the lines it sent were taken before the break (a stream's unread messages go with its error).
    let merging: () => void = () => undefined;
    const merged = new Promise<void>((res) => {
      merging = res;
    });
    const sent = 300;
    const half = async (call: Call, a: ReturnType<typeof peerAnswer>): Promise<void> => {
      write(call, { $case: 'progress', value: { flows: 0n } });
      for (const p of a.paths) write(call, { $case: 'path', value: pathEntryBytes(p) });
      for (const c of pieces(Buffer.from(a.lines.slice(0, sent).map((l) => `${l}\n`).join('')))) write(call, { $case: 'evidenceChunk', value: c });
      await Promise.race([merged, sleep(15_000)]);
      call.emit('error', Object.assign(new Error('the store went away'), { code: status.INTERNAL, details: 'the store went away', metadata: new Metadata() }));
    };
    const client = await gatherer(await fakePeer(half), { attest: { heartbeatMs: 50 } });
    const items: Item[] = [];
    for await (const m of client.export(request({ allowIncomplete: true })) as AsyncIterable<ExportResponse>) {
      if (!m.item) continue;
      items.push(m.item);
      if (m.item.$case === 'progress' && m.item.value.flows > 0n) merging();
    }
    const st = await verified(items);
    assert.deepEqual(st.predicate.relays.covered.map((c) => c.name), ['here']);
    assert.deepEqual(st.predicate.relays.missing.map((m) => m.name), ['fake']);
    assert.match(st.predicate.relays.missing[0].reason, /INTERNAL: the store went away/);
    const evidence = joined(items, 'evidenceChunk').toString();
    const kept = answer.lines.filter((l) => evidence.includes(l)).length;
    assert.ok(kept > 0 && kept <= sent && sent < answer.lines.length, `${kept} of ${answer.lines.length} lines`);
    await assert.rejects(collect(client, request()), refused(/relay fake \(127\.0\.0\.1:\d+\): INTERNAL: the store went away/));
  });

  it('names a peer that stalls after answering, within the timeout', async () => {
    const stall = (call: Call, a: ReturnType<typeof peerAnswer>): Promise<void> => {
      write(call, { $case: 'progress', value: { flows: 0n } });
      for (const p of a.paths) write(call, { $case: 'path', value: pathEntryBytes(p) });
      write(call, { $case: 'evidenceChunk', value: pieces(a.evidence)[0] });
      return Promise.resolve();
    };
    const client = await gatherer(await fakePeer(stall), { timeoutMs: 800 });
    const t0 = Date.now();
    await assert.rejects(collect(client, request()), refused(/relay fake \(127\.0\.0\.1:\d+\): sent nothing for 800 ms/));
    assert.ok(Date.now() - t0 < 800 + 4000, `${Date.now() - t0} ms`);
    const st = await verified(await collect(client, request({ allowIncomplete: true })));
    assert.match(st.predicate.relays.missing[0]?.reason ?? '', /sent nothing for 800 ms/);
  });

  it('waits for a peer that works slowly but sends progress within the timeout', async () => {
    const slow = async (call: Call, a: ReturnType<typeof peerAnswer>): Promise<void> => {
      for (let i = 0; i < 8; i++) {
        write(call, { $case: 'progress', value: { flows: 0n } });
        await sleep(250);
      }
      sendAll(call, a);
    };
    const client = await gatherer(await fakePeer(slow), { timeoutMs: 800 });
    const st = await verified(await collect(client, request()));
    assert.deepEqual(st.predicate.relays.covered.map((c) => c.name), ['here', 'fake']);
  });

  it('names a peer whose evidence would not verify: out of order, outside the window, over a path never announced, or another catalogue', async () => {
    const swapped = [...answer.lines];
    [swapped[10], swapped[11]] = [swapped[11], swapped[10]];
    const late = [...answer.lines, answer.lines[answer.lines.length - 1].replace(/"time":"[^"]*"/, '"time":"2030-01-01T00:00:00.000000000Z"')];
    const asFile = (ls: string[]) => Buffer.from(ls.map((l) => `${l}\n`).join(''));
    const wrongSha = catalogueBytes({ ...parseCatalogue(answer.catalogue), evidence: { sha256: '0'.repeat(64), flows: answer.lines.length } });
    const cases: [Script, RegExp][] = [
      [async (call, a) => sendAll(call, a, { evidence: asFile(swapped) }), /evidence line 1[12] is out of order/],
      [async (call, a) => sendAll(call, a, { evidence: asFile(late) }), /time 2030-01-01T00:00:00\.000000000Z is outside the window/],
      [async (call, a) => sendAll(call, a, { paths: a.paths.slice(1) }), /uses path [0-9a-f]+, announced nowhere before it/],
      [async (call, a) => sendAll(call, a, { catalogue: wrongSha }), /its catalogue describes \d+ lines with SHA-256 0{64}/],
      [async (call, a) => sendAll(call, a, { catalogue: Buffer.from('{"relay":1}') }), /the catalogue names no relay/],
    ];
    for (const [script, re] of cases) {
      const client = await gatherer(await fakePeer(script));
      await assert.rejects(collect(client, request()), refused(re));
      const st = await verified(await collect(client, request({ allowIncomplete: true })));
      assert.deepEqual(st.predicate.relays.missing.map((m) => m.name), ['fake'], String(re));
      assert.match(st.predicate.relays.missing[0].reason, re);
    }
    assert.match(await relays[relays.length - 1].metrics.text(), /cillion_attest_peers_missing_total\{reason="invalid"\} 2/);
  });

  it('bounds what a peer sends: its longest line, and its paths and catalogue', async () => {
    const client = await gatherer(await fakePeer(async (call, a) => sendAll(call, a)), { attest: { peerBounds: { maxLineBytes: 500 } } });
    await assert.rejects(collect(client, request()), refused(/relay fake \(127\.0\.0\.1:\d+\): sent a line over 500 bytes/));
    const small = await gatherer(await fakePeer(async (call, a) => sendAll(call, a)), { attest: { peerBounds: { maxCatalogueBytes: 600 } } });
    await assert.rejects(collect(small, request()), refused(/brings its path entries and catalogue over 600 bytes/));
    const st = await verified(await collect(small, request({ allowIncomplete: true })));
    assert.deepEqual(st.predicate.relays.missing.map((m) => m.name), ['fake']);
    assert.match(await relays[relays.length - 1].metrics.text(), /cillion_attest_peers_missing_total\{reason="limit"\} 2/);
  });

  /** A peer's answer of these lines: every path they use, a catalogue that matches them. */
  function answerOf(lines: string[], paths: ListedPath[]): { paths: ListedPath[]; evidence: Buffer; catalogue: Buffer } {
    const evidence = Buffer.from(lines.map((l) => `${l}\n`).join(''));
    const catalogue = catalogueBytes({ ...parseCatalogue(answer.catalogue), evidence: { sha256: createHash('sha256').update(evidence).digest('hex'), flows: lines.length } });
    return { paths, evidence, catalogue };
  }

  const byTimeThenLine = (a: string, b: string): number => {
    const [ta, tb] = [JSON.parse(a).time as string, JSON.parse(b).time as string];
    return ta < tb ? -1 : ta > tb ? 1 : a < b ? -1 : a > b ? 1 : 0;
  };

  it("keeps the exporting relay's own copy of a flow, and refuses a peer whose copy differs from it", async () => {
    const probe = await gatherer(await fakePeer(async (call, a) => sendAll(call, a)));
    const mine = await collect(probe, request({ sign: false, evidenceOnly: true }), localScope());
    const ownLines = joined(mine, 'evidenceChunk').toString().split('\n').filter((l) => l !== '');
    const ownPaths = mine.flatMap((i) => (i.$case === 'path' ? [parsePathEntry(i.value)] : []));
    const original = ownLines[3];
    const forged = original.replace(/^\{"bytes":"\d+"/, '{"bytes":"0"');
    assert.ok(forged < original, 'the forged copy sorts first, so line order alone would keep it');
    const lying = answerOf([forged], ownPaths);
    const client = await gatherer(await fakePeer(async (call, a) => sendAll(call, a, lying)));
    await assert.rejects(collect(client, request()), refused(/relay fake \(127\.0\.0\.1:\d+\): its evidence line of flow [0-9a-f-]+ differs from the exporting relay's own/));
    const items = await collect(client, request({ allowIncomplete: true }));
    const st = await verified(items);
    const evidence = joined(items, 'evidenceChunk').toString();
    assert.ok(evidence.includes(original) && !evidence.includes(forged));
    assert.deepEqual(st.predicate.relays.missing.map((m) => m.name), ['fake']);
    assert.equal(st.predicate.relays.conflicts, 1);
    assert.match(await relays[relays.length - 1].metrics.text(), /cillion_attest_peers_missing_total\{reason="invalid"\} 2/);
    // An identical copy is a duplicate: counted once, the peer covered.
    const honest = answerOf([original], ownPaths);
    const agreeing = await gatherer(await fakePeer(async (call, a) => sendAll(call, a, honest)));
    const same = await verified(await collect(agreeing, request()));
    assert.deepEqual([same.predicate.relays.covered.map((c) => c.name), same.predicate.relays.duplicates, same.predicate.relays.conflicts], [['here', 'fake'], 1, 0]);
  });

  it('bounds the flows of one instant a peer sends', async () => {
    const t = JSON.parse(answer.lines[0]).time as string;
    const crowded = answer.lines.map((l, i) => (i < 12 ? l.replace(/"time":"[^"]*"/, `"time":"${t}"`) : l)).sort(byTimeThenLine);
    const many = answerOf(crowded, answer.paths);
    const client = await gatherer(await fakePeer(async (call, a) => sendAll(call, a, many)), { attest: { peerBounds: { maxInstantFlows: 10 } } });
    await assert.rejects(collect(client, request()), refused(/relay fake \(127\.0\.0\.1:\d+\): sent more than 10 flows of one instant/));
    const st = await verified(await collect(client, request({ allowIncomplete: true })));
    assert.deepEqual(st.predicate.relays.missing.map((m) => m.name), ['fake']);
    assert.match(await relays[relays.length - 1].metrics.text(), /cillion_attest_peers_missing_total\{reason="limit"\} 2/);
    // The same lines within the bound are merged.
    const roomy = await gatherer(await fakePeer(async (call, a) => sendAll(call, a, many)), { attest: { peerBounds: { maxInstantFlows: 12 } } });
    assert.deepEqual((await verified(await collect(roomy, request()))).predicate.relays.missing, []);
  });

  /** A peer that only ever sends progress, until its call is cancelled; `ended` hears when. */
  function progressOnly(ended: () => void): Script {
    return async (call) => {
      call.on('cancelled', ended);
      while (!call.cancelled) {
        write(call, { $case: 'progress', value: { flows: 0n } });
        await sleep(100);
      }
    };
  }

  it('refuses a peer that sends only progress, after progressOnlyTimeouts timeouts', async () => {
    const client = await gatherer(await fakePeer(progressOnly(() => undefined)), { timeoutMs: 300, attest: { peerBounds: { progressOnlyTimeouts: 3 } } });
    const t0 = Date.now();
    await assert.rejects(collect(client, request()), refused(/relay fake \(127\.0\.0\.1:\d+\): sent only progress, no evidence, for 900 ms/));
    assert.ok(Date.now() - t0 < 900 + 4000, `${Date.now() - t0} ms`);
    const st = await verified(await collect(client, request({ allowIncomplete: true })));
    assert.match(st.predicate.relays.missing[0]?.reason ?? '', /sent only progress/);
  });

  it("cancels the peers' calls when the client cancels the export", async () => {
    let ended = 0;
    const client = await gatherer(await fakePeer(progressOnly(() => ended++)), { timeoutMs: 1000 });
    const call = client.export(request());
    const first = await new Promise<ExportResponse>((res, rej) => {
      call.once('data', res);
      call.once('error', rej);
    });
    assert.equal(first.item?.$case, 'progress');
    const asked = Date.now() + 5000;
    while (requests.length === 0 && Date.now() < asked) await sleep(20);
    assert.equal(requests.length, 1, 'the peer was asked');
    call.on('error', () => undefined);
    call.cancel();
    // Without the cancel reaching the peer its progress would hold the call for 15 timeouts.
    const deadline = Date.now() + 5000;
    while (ended === 0 && Date.now() < deadline) await sleep(20);
    assert.equal(ended, 1, "the peer's call ended after the client cancelled");
  });

  it('answers evidence_only with each path before the first line that uses it, and a catalogue of what it sent', async () => {
    const relay = await startRelay({ listen: '127.0.0.1:0', store, name: 'plain', attest: { chunkBytes: 8192 } });
    relays.push(relay);
    const client = new AttestClient(relay.address, credentials.createInsecure());
    clients.push(client);
    const items = await collect(client, request({ sign: false, evidenceOnly: true }), localScope());
    assert.ok(!items.some((i) => i.$case === 'statementChunk' || i.$case === 'reportChunk' || i.$case === 'envelopeChunk'));
    const announced = new Set<string>();
    let text = '';
    let used = 0;
    for (const i of items) {
      if (i.$case === 'path') announced.add(parsePathEntry(i.value).fingerprint);
      if (i.$case !== 'evidenceChunk') continue;
      text += i.value.toString();
      const whole = text.slice(0, text.lastIndexOf('\n') + 1);
      for (const l of whole.split('\n').filter((x) => x !== '')) {
        const path = JSON.parse(l).path as string;
        if (path !== '') {
          assert.ok(announced.has(path), `path ${path} used before it was announced`);
          used++;
        }
      }
      text = text.slice(whole.length);
    }
    assert.ok(used > 100);
    const cat = parseCatalogue(joined(items, 'catalogueChunk'));
    const evidence = joined(items, 'evidenceChunk');
    assert.equal(cat.evidence.sha256, createHash('sha256').update(evidence).digest('hex'));
    assert.equal(cat.relay.name, 'plain');
    assert.ok(items.filter((i) => i.$case === 'path').length > 1);
  });

  it('refuses evidence_only without the local scope or with sign, with INVALID_ARGUMENT', async () => {
    const relay = await startRelay({ listen: '127.0.0.1:0', store, attest: { key: key.privateKey } });
    relays.push(relay);
    const client = new AttestClient(relay.address, credentials.createInsecure());
    clients.push(client);
    await assert.rejects(collect(client, request({ sign: false, evidenceOnly: true })), (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /local scope/.test(e.details));
    await assert.rejects(collect(client, request({ sign: true, evidenceOnly: true }), localScope()), (e: ServiceError) => e.code === status.INVALID_ARGUMENT);
  });

  it('sends progress while its store is slow to answer, so a gathering relay can tell it is alive', async () => {
    const slowStore = new Proxy(store, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (prop !== 'pages' || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
        return (q: unknown) => (async function* () {
          await sleep(1200);
          yield* (v as (q: unknown) => AsyncIterable<unknown>).call(target, q);
        })();
      },
    });
    const relay = await startRelay({ listen: '127.0.0.1:0', store: slowStore, attest: { heartbeatMs: 150 } });
    relays.push(relay);
    const client = new AttestClient(relay.address, credentials.createInsecure());
    clients.push(client);
    const items = await collect(client, request({ sign: false }));
    const first = items.findIndex((i) => i.$case === 'evidenceChunk');
    const beats = items.slice(0, first).filter((i) => i.$case === 'progress').length;
    assert.ok(beats >= 5, `${beats} progress messages before the evidence`);
  });
});
