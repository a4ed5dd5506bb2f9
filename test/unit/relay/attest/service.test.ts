// The Attest service as the relay serves it: the same export over gRPC, streamed.
import assert from 'node:assert/strict';
import { credentials, Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttestClient, AttestService, type ExportRequest, type ExportResponse } from '../../../../proto/gen/attest/v1/attest';
import { attestService } from '../../../../relay/attest/service';
import { signPayload } from '../../../../relay/attest/sign';
import { verifyAttestation } from '../../../../relay/attest/verify';
import { startRelay, type Relay } from '../../../../relay/server';
import { openStore, type FlowStore } from '../../../../relay/store/store';
import { CORPUS_START_MS, corpus, fill, SELECTOR } from './fixture';

const ts = (ms: number) => ({ seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 });

function request(over: Partial<ExportRequest> = {}): ExportRequest {
  return { selector: SELECTOR, since: ts(CORPUS_START_MS), until: ts(CORPUS_START_MS + 300_000), geofence: '', records: '', sign: true, allowIncomplete: false, evidenceOnly: false, ...over };
}

async function collect(client: AttestClient, req: ExportRequest): Promise<ExportResponse['item'][]> {
  const items: ExportResponse['item'][] = [];
  for await (const m of client.export(req) as AsyncIterable<ExportResponse>) items.push(m.item);
  return items;
}

type Item = NonNullable<ExportResponse['item']>;

async function* chunksOf(items: ExportResponse['item'][]): AsyncGenerator<Buffer> {
  for (const i of items) if (i?.$case === 'evidenceChunk') yield Buffer.from(i.value);
}

/** The concatenation of one kind of chunk. */
function joined(items: ExportResponse['item'][], kind: Exclude<Item['$case'], 'progress'>): Buffer {
  return Buffer.concat(items.flatMap((i) => (i?.$case === kind ? [Buffer.from(i.value)] : [])));
}

/** The kinds in order with repeats collapsed: evidence, then statement, envelope, report. */
function runs(items: ExportResponse['item'][]): string[] {
  return items.map((i) => i?.$case ?? '').filter((k, n, all) => k !== 'progress' && k !== all[n - 1]);
}

describe('relay/attest gRPC service', function () {
  this.timeout(120_000);
  const key = generateKeyPairSync('ed25519');
  let dataDir: string;
  let store: FlowStore;
  let relay: Relay;
  let client: AttestClient;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cillion-attest-svc-'));
    store = await openStore({ dataDir });
    await fill(store, corpus(30_000));
    relay = await startRelay({ listen: '127.0.0.1:0', store, attest: { key: key.privateKey, storeIdentity: { kind: 'chdb', location: dataDir, database: 'cillion' } } });
    client = new AttestClient(relay.address, credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await relay.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('streams progress, the evidence, the statement, the relay-signed envelope and the report', async () => {
    const items = await collect(client, request());
    const kinds = items.map((i) => i?.$case);
    assert.ok(kinds.includes('progress'));
    assert.ok(kinds.filter((k) => k === 'evidenceChunk').length > 1, 'large evidence comes in several chunks');
    assert.deepEqual(runs(items), ['evidenceChunk', 'statementChunk', 'envelopeChunk', 'reportChunk']);
    const envelope = joined(items, 'envelopeChunk');
    assert.equal(Buffer.from(JSON.parse(envelope.toString()).payload as string, 'base64').toString(), joined(items, 'statementChunk').toString());
    assert.match(joined(items, 'reportChunk').toString(), /^# Compliance attestation: app=ledger/);
    const r = await verifyAttestation({ envelope, keys: [key.publicKey], evidence: chunksOf(items) });
    assert.deepEqual(r.failures, []);
    assert.equal(r.statement?.predicate.store.location, dataDir);
    assert.ok((r.evidenceFlows ?? 0) > 1000);
    const last = items.filter((i) => i?.$case === 'progress').pop();
    assert.equal(last?.$case === 'progress' && Number(last.value.flows), r.evidenceFlows);
  });

  it('leaves signing to the client when not asked to sign', async () => {
    const items = await collect(client, request({ sign: false, records: 'all', until: ts(CORPUS_START_MS + 5000) }));
    assert.ok(!items.some((i) => i?.$case === 'envelopeChunk'));
    const mine = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const env = signPayload(joined(items, 'statementChunk'), [mine.privateKey]);
    const r = await verifyAttestation({ envelope: JSON.stringify(env), keys: [mine.publicKey], evidence: chunksOf(items) });
    assert.deepEqual(r.failures, []);
  });

  it('stops an export the client cancels and keeps serving', async () => {
    const call = client.export(request({ records: 'all' }));
    await new Promise<void>((resolve) => call.once('data', () => resolve()));
    call.on('error', () => undefined);
    call.cancel();
    await new Promise((r) => setTimeout(r, 200));
    const items = await collect(client, request({ until: ts(CORPUS_START_MS + 2000) }));
    assert.equal(items[items.length - 1]?.$case, 'reportChunk');
  });

  it('streams a statement many times one message through a client with a small message limit, while serving another export', async () => {
    const chunkBytes = 4 * 1024;
    const small = await startRelay({ listen: '127.0.0.1:0', store, attest: { key: key.privateKey, chunkBytes } });
    // What a client accepts in one message: four chunks, far below the statement.
    const limit = 4 * chunkBytes;
    const tight = new AttestClient(small.address, credentials.createInsecure(), { 'grpc.max_receive_message_length': limit });
    try {
      const [items, other] = await Promise.all([collect(tight, request()), collect(client, request({ until: ts(CORPUS_START_MS + 20_000) }))]);
      const statement = joined(items, 'statementChunk');
      assert.ok(statement.length > 10 * limit, `statement of ${statement.length} bytes`);
      for (const i of items) if (i && i.$case !== 'progress') assert.ok(i.value.length <= chunkBytes, `${i.$case} of ${i.value.length} bytes`);
      assert.ok(items.filter((i) => i?.$case === 'envelopeChunk').length > 1);
      const r = await verifyAttestation({ envelope: joined(items, 'envelopeChunk'), keys: [key.publicKey], evidence: chunksOf(items) });
      assert.deepEqual(r.failures, []);
      assert.equal(r.statement?.predicate.evidence.flows, r.evidenceFlows);
      assert.equal(other[other.length - 1]?.$case, 'reportChunk');
    } finally {
      tight.close();
      await small.close();
    }
  });

  it('refuses a chunk size that is no positive whole number', () => {
    for (const chunkBytes of [0, -1, 1.5]) {
      assert.throws(() => attestService({ store, fences: () => undefined, relay: { name: 'r', version: 'v' }, chunkBytes }), /chunkBytes must be a positive whole number/);
    }
  });

  it('refuses a bad selector or records choice with INVALID_ARGUMENT', async () => {
    await assert.rejects(collect(client, request({ selector: 'app in (' })), (e: ServiceError) => e.code === status.INVALID_ARGUMENT);
    await assert.rejects(collect(client, request({ records: 'most' })), (e: ServiceError) => e.code === status.INVALID_ARGUMENT);
    await assert.rejects(collect(client, request({ since: undefined })), (e: ServiceError) => e.code === status.INVALID_ARGUMENT);
  });

  it('refuses to sign without a key, with FAILED_PRECONDITION', async () => {
    const server = new Server();
    server.addService(AttestService, attestService({ store, fences: () => undefined, relay: { name: 'r', version: 'v' } }));
    const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    const c = new AttestClient(`127.0.0.1:${port}`, credentials.createInsecure());
    try {
      await assert.rejects(collect(c, request()), (e: ServiceError) => e.code === status.FAILED_PRECONDITION && /signing key/.test(e.details));
    } finally {
      c.close();
      server.forceShutdown();
    }
  });
});
