// Retractions through a real relay (startRelay over an embedded store, raw export streams):
// a late retraction never deletes what the relay stored after taking the session back, a
// retraction meant for another relay deletes nothing, and a node sending retraction after
// retraction is refused with RESOURCE_EXHAUSTED while another collector is served.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import type { FlowBatch, Retraction } from '../../../proto/gen/export/v1/export';
import { Flow } from '../../../proto/gen/flow/flow';
import { exchange as sendOn } from './export_exchange';
import { startRelay, type Relay } from '../../../relay/server';
import { openStore, type FlowStore } from '../../../relay/store/store';

const base = (nodeName: string, sessionId: string, sequence: bigint): FlowBatch => ({
  nodeName, clusterName: '', sessionId, sequence, flows: [], counters: undefined, sentAt: undefined, columns: undefined, handover: undefined, retraction: undefined, flowTable: undefined,
});
const batch = (node: string, sessionId: string, sequence: bigint): FlowBatch => ({
  ...base(node, sessionId, sequence),
  flows: [1, 2].map(() => Flow.fromPartial({ uuid: randomUUID(), nodeName: node, time: { seconds: BigInt(Math.floor(Date.now() / 1000) - 60), nanos: 0 } })),
});
const retraction = (node: string, sessionId: string, r: Retraction): FlowBatch => ({ ...base(node, sessionId, 0n), retraction: r });

/** A Prometheus sample's value, 0 when absent. */
function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('relay: retractions from collectors', function () {
  this.timeout(60_000);
  let dir: string;
  let store: FlowStore;
  let relay: Relay;
  const logs: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-retraction-'));
    store = await openStore({ dataDir: dir });
    relay = await startRelay({ listen: '127.0.0.1:0', name: 'relay-a', store, log: (l) => logs.push(l), limits: { maxRetractionsPerMinute: 2 } });
  });
  after(async () => {
    await relay.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const exchange = (msgs: FlowBatch[], want = msgs.length): ReturnType<typeof sendOn> => sendOn(relay.address, msgs, want);

  it('a retraction racing a failover back to this relay deletes nothing it acknowledged since', async () => {
    // Its first stint: 1-4 stored (3 and 4 never acknowledged, the collector moved on).
    const first = await exchange([1n, 2n, 3n, 4n].map((q) => batch('n1', 's-race', q)));
    assert.deepEqual(first.acks.map((a) => a.ackedSequence), [1n, 2n, 3n, 4n]);
    // Back from relay-b, which acknowledged up to 6: taken over at 6, then 7 and 8 acknowledged here.
    const back = await exchange([{ ...base('n1', 's-race', 0n), handover: { ackedSequence: 6n, relayName: 'relay-b' } }, batch('n1', 's-race', 7n), batch('n1', 's-race', 8n)]);
    assert.deepEqual(back.acks.map((a) => a.ackedSequence), [6n, 7n, 8n]);
    // The retraction the collector sent before it came back arrives late, through 10.
    const late = await exchange([retraction('n1', 's-race', { afterSequence: 2n, throughSequence: 10n, relayName: 'relay-a' })]);
    assert.ok(late.acks[0]?.retracted, late.error?.message);
    assert.equal(late.acks[0].ackedSequence, 8n);
    // 1, 2, 7 and 8 stay: two flows each.
    assert.equal(await store.position('n1', 's-race'), 8n);
    assert.equal(await store.count(), 8n);
  });

  it('a retraction naming another relay is acknowledged and deletes nothing, counted', async () => {
    await exchange([batch('n1', 's-stale', 1n), batch('n1', 's-stale', 2n)]);
    const before = await store.count();
    const stale = await exchange([retraction('n1', 's-stale', { afterSequence: 0n, throughSequence: 2n, relayName: 'relay-old' })]);
    assert.ok(stale.acks[0]?.retracted);
    assert.equal(await store.count(), before);
    assert.equal(await store.position('n1', 's-stale'), 2n);
    assert.equal(metric(await relay.metrics.text(), 'cillion_export_retractions_ignored_total', 'reason="misdirected"'), 1);
    assert.ok(logs.some((l) => /meant for relay "relay-old"/.test(l)), logs.join('\n'));
  });

  it('refuses a node retracting more often than its bound with RESOURCE_EXHAUSTED, counted, and serves another collector meanwhile', async () => {
    // Store, retract, store again...: each retraction costs the store mutations.
    const r = (): FlowBatch => retraction('n2', 's-churn', { afterSequence: 0n, throughSequence: 1n, relayName: 'relay-a' });
    // Another collector exports all along.
    const served = exchange([1n, 2n, 3n, 4n].map((q) => batch('n3', 's-other', q)));
    const churn = await exchange([batch('n2', 's-churn', 1n), r(), batch('n2', 's-churn', 1n), r(), batch('n2', 's-churn', 1n), r()], 6);
    assert.deepEqual(churn.acks.map((a) => [a.ackedSequence, Boolean(a.retracted)]), [[1n, false], [0n, true], [1n, false], [0n, true], [1n, false]]);
    assert.equal(churn.error?.code, status.RESOURCE_EXHAUSTED, churn.error?.message);
    assert.match(churn.error!.details, /more than 2 retractions a minute/);
    assert.equal(metric(await relay.metrics.text(), 'cillion_limit_breaches_total', 'kind="retraction_rate"'), 1);
    // Both retractions deleted (a batch stored again under a retracted sequence is stored);
    // the third batch stays, and the node's next retraction is refused too.
    assert.equal(logs.filter((l) => l.startsWith('export: deleted 2 flows of node n2 session s-churn')).length, 2, logs.join('\n'));
    assert.equal(await store.position('n2', 's-churn'), 1n);
    const again = await exchange([r()]);
    assert.equal(again.error?.code, status.RESOURCE_EXHAUSTED);
    assert.deepEqual((await served).acks.map((a) => a.ackedSequence), [1n, 2n, 3n, 4n]);
    const after = await exchange([batch('n3', 's-other', 5n)]);
    assert.deepEqual(after.acks.map((a) => a.ackedSequence), [5n]);
    assert.equal(await store.position('n3', 's-other'), 5n);
  });
});
