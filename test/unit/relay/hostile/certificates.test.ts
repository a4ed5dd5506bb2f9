// The relay over mutual TLS as an outsider with a certificate would try it: claiming another
// node, using a role it was not given, no role at all, another CA, and taking over another
// node's session. Certificates are minted by `cillion certs`' code; the relay has a real
// store; an honest collector and reader keep working throughout.
import assert from 'node:assert/strict';
import { credentials, status, type ChannelCredentials, type Client, type ServiceError } from '@grpc/grpc-js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttestClient, type ExportRequest, type ExportResponse } from '../../../../proto/gen/attest/v1/attest';
import type { Flow } from '../../../../proto/gen/flow/flow';
import { GetFlowsRequest, GetNamespacesRequest, GetNodesRequest, ObserverClient, type GetFlowsResponse } from '../../../../proto/gen/observer/observer';
import { flowStream } from '../../../../cli/observe/flow_stream';
import type { Role } from '../../../../relay/auth/identity';
import { startRelay, type Relay } from '../../../../relay/server';
import { openStore, type FlowStore } from '../../../../relay/store/store';
import { issueLeaf } from '../../../../cli/certs/openssl';
import { FakeCollector } from '../exporter_client';
import { flowTimeNs, getFlows, labelOf, makeFlow, readAll, serverStatus, uuidFor } from '../../observer/helpers';
import { issue, makeCerts } from '../test_certs';

/**
 * How long a batch may wait for its acknowledgement: the relay works through a session's
 * batches in order at the pace this process gets CPU, a few a second on a busy 2-core machine.
 */
const ACK_MS = 60_000;
/** Batches the honest collector sends ahead of the relay's acknowledgements. */
const HONEST_IN_FLIGHT = 4;

const denied = (e: unknown): boolean => (e as ServiceError).code === status.PERMISSION_DENIED;

function unary<T>(fn: (cb: (e: ServiceError | null, r?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((e, r) => (e ? reject(e) : resolve(r as T))));
}

async function attest(client: AttestClient, req: Partial<ExportRequest>): Promise<ExportResponse['item'][]> {
  const items: ExportResponse['item'][] = [];
  for await (const m of client.export({ selector: 'app=web', geofence: '', records: '', sign: false, ...req } as ExportRequest) as AsyncIterable<ExportResponse>) items.push(m.item);
  return items;
}

describe('relay/hostile: certificates', function () {
  this.timeout(180_000);
  let dir: string;
  let store: FlowStore;
  let relay: Relay;
  let address: string;
  const logs: string[] = [];
  const creds = (name: string, ca = 'ca.pem'): ChannelCredentials =>
    credentials.createSsl(readFileSync(join(dir, ca)), readFileSync(join(dir, name, 'tls.key')), readFileSync(join(dir, name, 'tls.crt')));
  const mint = (out: string, name: string, roles: Role[]): ChannelCredentials => {
    issue(dir, out, name, roles);
    return creds(out);
  };
  let honest: FakeCollector;
  let honestSent = 0;
  let honestTimer: NodeJS.Timeout | undefined;
  let reader: ObserverClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-hostile-certs-'));
    makeCerts(dir);
    store = await openStore({ dataDir: join(dir, 'store') });
    relay = await startRelay({
      listen: '127.0.0.1:0',
      store,
      tls: { cert: join(dir, 'server.pem'), key: join(dir, 'server.key'), clientCa: join(dir, 'ca.pem') },
      mergeWindowMs: 0,
      shutdownGraceMs: 200,
      log: (l) => logs.push(l),
    });
    // The server certificate is for localhost and 127.0.0.1; by name, as clients usually connect.
    address = relay.address.replace('127.0.0.1', 'localhost');
    reader = new ObserverClient(address, mint('reader', 'grafana', ['reader']));
    // An honest node pushing a batch every 50 ms for as long as the tests run, as a collector
    // does: with a few batches unacknowledged it waits, so a busy machine (on which this
    // process, relay included, gets a fraction of a core) slows it down instead of piling
    // up more batches than the relay has had the CPU to take.
    honest = new FakeCollector(address, 'node-honest', 'honest-session', mint('honest', 'node-honest', ['collector']));
    honestTimer = setInterval(() => {
      if (BigInt(honestSent) - (honest.acks.at(-1) ?? 0n) >= HONEST_IN_FLIGHT) return;
      honest.send([makeFlow(100_000 + honestSent, { uuid: uuidFor(`honest-${honestSent}`), nodeName: 'node-honest' })]);
      honestSent++;
    }, 50);
  });

  after(async () => {
    if (honestTimer) clearInterval(honestTimer);
    reader?.close();
    await honest?.close();
    await relay?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(async () => {
    // The relay still serves the honest collector and reader after every attack.
    const before = honestSent;
    await honest.acked(BigInt(before), ACK_MS);
    assert.equal(honest.error, undefined, 'the honest collector\'s stream is still open');
    await serverStatus(reader);
  });

  it('refuses a collector certificate whose batches claim another node, logs and counts it', async () => {
    const liar = new FakeCollector(address, 'node-b', 'liar-session', mint('liar', 'node-b', ['collector']));
    liar.sendAt(1n, [makeFlow(1, { uuid: uuidFor('liar-1') })], undefined, 'node-a');
    await liar.ended;
    assert.equal(liar.error?.code, status.PERMISSION_DENIED);
    assert.match(liar.error?.details ?? '', /certificate is for node "node-b".*claims node "node-a"/);
    assert.ok(logs.some((l) => /refused cillion\.export\.v1\.FlowExport\/Export .*\(node-b\).*node-a/.test(l)), logs.join('\n'));
    assert.match(await relay.metrics.text(), /cillion_auth_refused_total\{service="cillion\.export\.v1\.FlowExport",reason="node_mismatch"\} 1/);
    assert.deepEqual(await flowsWhere((f) => f.uuid === uuidFor('liar-1')), []);
    await liar.close();
  });

  it('files every flow of a batch under the certificate\'s node, whatever the flows say', async () => {
    const c = new FakeCollector(address, 'node-c', 'c-session', mint('node-c', 'node-c', ['collector']));
    // Batch node_name left empty and flows claiming node-a: both become node-c.
    await c.acked(c.sendAt(1n, [makeFlow(2, { uuid: uuidFor('c-1'), nodeName: 'node-a' })], undefined, ''));
    const [f] = await flowsWhere((x) => x.uuid === uuidFor('c-1'));
    assert.equal(f?.nodeName, 'node-c');
    const nodes = await unary<{ nodes: Array<{ name: string; tls?: { serverName: string } }> }>((cb) => reader.getNodes(GetNodesRequest.fromPartial({}), cb));
    assert.deepEqual(nodes.nodes.find((n) => n.name === 'node-c')?.tls, { enabled: true, serverName: 'node-c' });
    assert.ok(!nodes.nodes.some((n) => n.name === 'node-a'), 'no flow or stream made node-a appear');
    await c.close();
  });

  it('lets a reader certificate read but not push or export', async () => {
    await serverStatus(reader);
    // The first flows: the honest collector adds to the last ones meanwhile.
    const first = await readAll(getFlows(reader, { number: 2n, first: true }));
    const batched = flowStream(reader as unknown as Client, GetFlowsRequest.fromPartial({ number: 2n, first: true }));
    const viaBatches: GetFlowsResponse[] = [];
    for await (const r of batched.responses) viaBatches.push(r);
    assert.equal(batched.method, 'GetFlowBatches');
    assert.deepEqual(viaBatches, first);
    const push = new FakeCollector(address, 'grafana', 'reader-session', creds('reader'));
    push.send([makeFlow(3, { uuid: uuidFor('reader-1') })]);
    await push.ended;
    assert.equal(push.error?.code, status.PERMISSION_DENIED);
    assert.match(push.error?.details ?? '', /"grafana" may not call cillion\.export\.v1\.FlowExport\/Export: that needs the collector role, it has reader/);
    const a = new AttestClient(address, creds('reader'));
    await assert.rejects(attest(a, window()), denied);
    a.close();
    assert.deepEqual(await flowsWhere((f) => f.uuid === uuidFor('reader-1')), []);
  });

  it('lets a collector certificate push but not read flows, nodes or status, nor export attestations', async () => {
    const cc = mint('collector-only', 'node-d', ['collector']);
    const o = new ObserverClient(address, cc);
    await assert.rejects(readAll(getFlows(o, { number: 10n })), denied);
    const batched = flowStream(o as unknown as Client, GetFlowsRequest.fromPartial({ number: 10n }));
    await assert.rejects((async () => {
      for await (const r of batched.responses) assert.fail(`read ${r.responseTypes?.$case}`);
    })(), (e: ServiceError) => denied(e) && /cillion\.observer\.v1\.FlowHistory\/GetFlowBatches: that needs the reader role/.test(e.details));
    await assert.rejects(serverStatus(o), denied);
    await assert.rejects(unary((cb) => o.getNodes(GetNodesRequest.fromPartial({}), cb)), denied);
    o.close();
    const a = new AttestClient(address, cc);
    await assert.rejects(attest(a, window()), (e: ServiceError) => denied(e) && /needs the attester role or the peer role in the local scope \(header cillion-scope: local\), it has collector/.test(e.details));
    a.close();
  });

  it('lets an attester certificate export an attestation', async () => {
    const c = new FakeCollector(address, 'node-e', 'e-session', mint('node-e', 'node-e', ['collector']));
    await c.acked(c.send([makeFlow(10, { uuid: uuidFor('e-1') }), makeFlow(11, { uuid: uuidFor('e-2') })]));
    await c.close();
    const a = new AttestClient(address, mint('attester', 'auditor', ['attester']));
    const items = await attest(a, window());
    a.close();
    assert.ok(items.some((i) => i?.$case === 'statementChunk'), `got ${items.map((i) => i?.$case).join(',')}`);
    assert.ok(items.some((i) => i?.$case === 'reportChunk'));
  });

  it('refuses a certificate without a role on every service, and one whose role URIs name two clients', async () => {
    // Issued by the right CA as a client certificate, but with no Cillion role URI.
    const none = issueLeaf({ commonName: 'nobody', days: 1, uris: [], dnsNames: [], ips: [], clientAuth: true, serverAuth: false, issuer: { key: readFileSync(join(dir, 'ca', 'ca.key'), 'utf8'), cert: readFileSync(join(dir, 'ca', 'ca.crt'), 'utf8') } });
    const two = issueLeaf({
      commonName: 'node-a',
      days: 1,
      uris: ['spiffe://cillion/cillion/collector/node-a', 'spiffe://cillion/cillion/collector/node-b', 'spiffe://other/cillion/reader/node-a'],
      dnsNames: [],
      ips: [],
      clientAuth: true,
      serverAuth: false,
      issuer: { key: readFileSync(join(dir, 'ca', 'ca.key'), 'utf8'), cert: readFileSync(join(dir, 'ca', 'ca.crt'), 'utf8') },
    });
    const ca = readFileSync(join(dir, 'ca.pem'));
    for (const [what, pair] of [['no role', none], ['two names', two]] as const) {
      const cc = credentials.createSsl(ca, Buffer.from(pair.key), Buffer.from(pair.cert));
      const o = new ObserverClient(address, cc);
      await assert.rejects(readAll(getFlows(o, { number: 1n })), (e: ServiceError) => denied(e) && /grants no role/.test(e.details), what);
      await assert.rejects(serverStatus(o), denied, what);
      await assert.rejects(unary((cb) => o.getNodes(GetNodesRequest.fromPartial({}), cb)), denied, what);
      await assert.rejects(unary((cb) => o.getNamespaces(GetNamespacesRequest.fromPartial({}), cb)), denied, what);
      o.close();
      const a = new AttestClient(address, cc);
      await assert.rejects(attest(a, window()), denied, what);
      a.close();
      const push = new FakeCollector(address, 'node-a', `${what}-session`, cc);
      push.send([makeFlow(4, { uuid: uuidFor(`${what}-1`) })]);
      await push.ended;
      assert.equal(push.error?.code, status.PERMISSION_DENIED, what);
    }
    const metrics = await relay.metrics.text();
    for (const svc of ['observer.Observer', 'cillion.attest.v1.Attest', 'cillion.export.v1.FlowExport']) {
      assert.match(metrics, new RegExp(`cillion_auth_refused_total\\{service="${svc.replace(/\./g, '\\.')}",reason="no_role"\\} [1-9]`), svc);
    }
  });

  it('refuses a certificate from another CA at the handshake', async () => {
    const rogue = credentials.createSsl(readFileSync(join(dir, 'ca.pem')), readFileSync(join(dir, 'rogue.key')), readFileSync(join(dir, 'rogue.pem')));
    const o = new ObserverClient(address, rogue);
    await assert.rejects(serverStatus(o), (e: ServiceError) => e.code === status.UNAVAILABLE);
    o.close();
    const push = new FakeCollector(address, 'node-a', 'rogue-session', rogue);
    push.send([makeFlow(5, { uuid: uuidFor('rogue-1') })]);
    await push.ended;
    assert.equal(push.error?.code, status.UNAVAILABLE);
  });

  it('keeps a session to the node that opened it: another node naming its id cannot make acknowledged batches disappear', async () => {
    const BATCHES = 60;
    const PER = 3;
    const flowsOf = (node: string, seq: number) => Array.from({ length: PER }, (_, i) => makeFlow(seq * PER + i, { uuid: uuidFor(`${node}-${seq}-${i}`), nodeName: node }));
    const victim = new FakeCollector(address, 'node-v', 'shared-session', mint('node-v', 'node-v', ['collector']));
    for (let s = 1; s <= 20; s++) victim.send(flowsOf('node-v', s));
    await victim.acked(20n, ACK_MS);
    // The attack of the issue: another node writes the session's next sequence numbers
    // (21..40) before the victim does. Those are the attacker's own session's now, 20
    // ahead of its position 0: held, then refused as a gap.
    const attacker = new FakeCollector(address, 'node-x', 'shared-session', mint('node-x', 'node-x', ['collector']));
    for (let s = 21; s <= 40; s++) attacker.sendAt(BigInt(s), flowsOf('node-x', s));
    await Promise.race([attacker.ended, attacker.acked(40n, ACK_MS).catch(() => undefined)]);
    assert.equal(attacker.error?.code, status.FAILED_PRECONDITION, `the attacker's batches were taken (acks ${attacker.acks.join(',')})`);
    // And from the start: 1..40 under the same session id are stored, as the attacker's.
    const attacker2 = new FakeCollector(address, 'node-x', 'shared-session', creds('node-x'));
    for (let s = 1; s <= 40; s++) attacker2.send(flowsOf('node-x', s));
    await attacker2.acked(40n, ACK_MS);
    await attacker2.close();
    // The victim goes on: every one of its 60 batches is acknowledged and stored.
    for (let s = 21; s <= BATCHES; s++) victim.send(flowsOf('node-v', s));
    await victim.acked(BigInt(BATCHES), ACK_MS);
    await victim.close();
    assert.equal(await store.position('node-v', 'shared-session'), BigInt(BATCHES));
    assert.equal(await store.position('node-x', 'shared-session'), 40n);
    const stored = new Set((await flowsWhere((f) => f.nodeName === 'node-v')).map((f) => labelOf(f.uuid)));
    const missing = Array.from({ length: BATCHES }, (_, k) => k + 1).filter((s) => !stored.has(`node-v-${s}-0`));
    assert.deepEqual(missing, [], `batches acknowledged but not stored: ${missing.length} of ${BATCHES}`);
    assert.equal(stored.size, BATCHES * PER);
    const attackers = await flowsWhere((f) => labelOf(f.uuid).startsWith('node-x-'));
    assert.equal(attackers.length, 40 * PER);
    assert.ok(attackers.every((f) => f.nodeName === 'node-x'));
  });

  it("keeps a node's flows when another node sent their uuids first: uuids are stored once per node", async () => {
    const uuids = ['u-shared-1', 'u-shared-2', 'u-shared-3'].map(uuidFor);
    const intruder = new FakeCollector(address, 'node-i', 'intruder-session', mint('node-i', 'node-i', ['collector']));
    await intruder.acked(intruder.send(uuids.map((uuid, i) => makeFlow(200 + i, { uuid }))));
    await intruder.close();
    const owner = new FakeCollector(address, 'node-o', 'owner-session', mint('node-o', 'node-o', ['collector']));
    await owner.acked(owner.send(uuids.map((uuid, i) => makeFlow(300 + i, { uuid }))));
    await owner.close();
    const owners = await flowsWhere((f) => f.nodeName === 'node-o' && uuids.includes(f.uuid));
    assert.deepEqual(owners.map((f) => f.uuid).sort(), [...uuids].sort());
  });

  /** Every stored flow matching `pred`, read through the Observer as the reader. */
  async function flowsWhere(pred: (f: Flow) => boolean): Promise<Flow[]> {
    const rs: GetFlowsResponse[] = await readAll(getFlows(reader, { number: 100_000n, first: true }));
    return rs.flatMap((r) => (r.responseTypes?.$case === 'flow' && pred(r.responseTypes.value) ? [r.responseTypes.value] : []));
  }

  function window(): Partial<ExportRequest> {
    const ms = Number(flowTimeNs(0) / 1_000_000n);
    const ts = (t: number) => ({ seconds: BigInt(Math.floor(t / 1000)), nanos: (t % 1000) * 1_000_000 });
    return { since: ts(ms - 60_000), until: ts(ms + 3_600_000) };
  }

});
