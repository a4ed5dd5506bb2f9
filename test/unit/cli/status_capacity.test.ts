// `cillion status` says how full each place that holds flows is and what it does when full:
// the collectors' flow tables, the recent-flows buffer, a relay's store. Run as a child
// process against real servers: a node's own Observer (the agent's), a relay with a store,
// and a relay that sums a peer's figures.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { flowTableGauge, pipelineCounters } from '../../../collector/collector';
import { FlowTable, type MeteredFlow } from '../../../collector/flowtable';
import { serveLocalObserver, type LocalObserver } from '../../../collector/local_observer';
import { FlowHub } from '../../../observer/hub';
import { zeroCounters } from '../../../observer/nodes';
import type { ObserverClient } from '../../../proto/gen/observer/observer';
import { startRelay, type Relay } from '../../../relay/server';
import { openStore, type FlowStore } from '../../../relay/store/store';
import { batchOf } from '../collector/records';
import { getFlows, makeFlow } from '../observer/helpers';
import { FakeCollector } from '../relay/exporter_client';
import { observer, relayWithPeers, waitFor } from '../relay/peers/set';

const ROOT = resolve(__dirname, '../../..');

function cillion(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--require', 'tsx/cjs', 'cli/main.ts', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) =>
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** The lines of the "Flows held" block, and Hubble's Current/Max line. */
async function capacityLines(server: string): Promise<string[]> {
  const r = await cillion('status', '--server', server);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  const at = lines.indexOf('Flows held (now/capacity; what happens when full):');
  assert.ok(at >= 0, r.stdout);
  const block = lines.slice(at, at + 1 + lines.slice(at + 1).findIndex((l) => !l.startsWith('  ')));
  return [...lines.filter((l) => l.startsWith('Current/Max Flows:')), ...block];
}

async function holdersJson(server: string): Promise<unknown> {
  const r = await cillion('status', '--server', server, '-o', 'json');
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { flowHolders: unknown }).flowHolders;
}

describe('cillion status: flow table size, capacity and what happens when full', function () {
  this.timeout(60_000);

  describe("a node's own Observer (the agent's)", () => {
    let dir: string;
    let local: LocalObserver;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cillion-status-'));
      // A real flow table of 4 entries meets 6 flows: the 2 least recently seen are evicted.
      const reported: MeteredFlow[] = [];
      const table = new FlowTable({ maxEntries: 4, idleTimeoutMs: 60_000, activeTimeoutMs: 60_000 }, (f) => reported.push(f));
      const batch = batchOf([...Array(6).keys()].map((i) => ({ tsNs: BigInt(i + 1) * 1000n, direction: 1 as const, inner: { proto: 6, src: '10.0.0.1', dst: '10.0.0.2', sport: 1000 + i, dport: 80 } })));
      table.ingestBatch(batch, batch.length);
      assert.equal(reported.length, 2, 'two flows reported early');
      const hub = new FlowHub({ capacity: 4 });
      hub.publish([0, 1, 2, 3, 4, 5].map((i) => makeFlow(i)));
      local = await serveLocalObserver({
        socket: join(dir, 'observer.sock'),
        hub,
        version: 'test',
        log: () => undefined,
        counters: () => ({ ...zeroCounters(), ...pipelineCounters(table.stats(), {}) }),
        flowTable: () => flowTableGauge(table.stats()),
      });
    });

    after(async () => {
      await local?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('prints its flow table and its recent buffer, each with what happens when full', async () => {
      assert.deepEqual(await capacityLines(`unix://${local.socket}`), [
        'Current/Max Flows: 4/4 (100.00%)',
        'Flows held (now/capacity; what happens when full):',
        '  Flow table (metering): 4/4 (100.00%); when full: a new flow makes the least recently seen one report early and leave the table (not a loss) (reported early: 2)',
        '  Recent-flows buffer: 4/4 (100.00%); when full: the oldest flow is overwritten: live followers and queries no longer see it (overwritten: 2)',
      ]);
    });

    it('gives the same figures in JSON', async () => {
      assert.deepEqual(await holdersJson(`unix://${local.socket}`), [
        { name: 'flow_table', held: '4', capacity: '4', atCapacity: 'a new flow makes the least recently seen one report early and leave the table (not a loss)', fullEvents: '2', nodes: 1 },
        { name: 'recent_buffer', held: '4', capacity: '4', atCapacity: 'the oldest flow is overwritten: live followers and queries no longer see it', fullEvents: '2' },
      ]);
    });
  });

  describe('a relay with a store, serving a follower meanwhile', () => {
    let dir: string;
    let store: FlowStore;
    let relay: Relay;
    let col: FakeCollector;
    let client: ObserverClient;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cillion-status-store-'));
      store = await openStore({ dataDir: dir });
      relay = await startRelay({ listen: '127.0.0.1:0', name: 'r', store, buffer: 16, mergeWindowMs: 50, shutdownGraceMs: 200 });
      client = observer(relay.address);
      col = new FakeCollector(relay.address, 'node-1');
      col.flowTable = { entries: 3n, capacity: 65_536n };
      await col.acked(col.send([0, 1, 2].map((i) => makeFlow(i)), { flowTableEvictions: 7n }));
      relay.flushLive();
    });

    after(async () => {
      client?.close();
      await col?.close();
      await relay?.close();
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('prints stored flows with no fixed maximum, the collectors\' flow tables and its buffer', async () => {
      const follower = getFlows(client, { follow: true });
      follower.on('error', () => undefined);
      await waitFor('the follower', () => relay.hub.followers > 0);
      try {
        assert.deepEqual(await capacityLines(relay.address), [
          'Current/Max Flows: 3 stored, no fixed maximum',
          'Flows held (now/capacity; what happens when full):',
          '  Flow table (metering): 3/65,536 (0.00%); when full: a new flow makes the least recently seen one report early and leave the table (not a loss) (reported early: 7)',
          '  Recent-flows buffer: 3/16 (18.75%); when full: the oldest flow is overwritten: new followers start later; the store keeps it (overwritten: 0)',
          "  Store: 3, no fixed maximum: flows leave only by the store's retention (TTL)",
        ]);
        // JSON leaves out a field at its default: the store's capacity 0.
        const json = (await holdersJson(relay.address)) as { name: string; held: string; capacity?: string }[];
        assert.deepEqual(json.map((h) => [h.name, h.held, h.capacity ?? '0']), [['flow_table', '3', '65536'], ['recent_buffer', '3', '16'], ['store', '3', '0']]);
      } finally {
        follower.cancel();
      }
    });
  });

  describe('collectors that lie about their flow tables', () => {
    let relay: Relay;
    const collectors: FakeCollector[] = [];

    after(async () => {
      for (const c of collectors) await c.close();
      await relay?.close();
    });

    it('cannot make the sum overflow: each figure is bounded and status still answers', async () => {
      relay = await startRelay({ listen: '127.0.0.1:0', name: 'r', mergeWindowMs: 50, shutdownGraceMs: 200 });
      for (const node of ['liar-1', 'liar-2']) {
        const col = new FakeCollector(relay.address, node);
        col.flowTable = { entries: (1n << 64n) - 1n, capacity: (1n << 64n) - 1n };
        collectors.push(col);
        await col.acked(col.send([makeFlow(collectors.length)]));
      }
      const r = await cillion('status', '--server', relay.address, '-o', 'json');
      assert.equal(r.code, 0, r.stderr);
      const table = (JSON.parse(r.stdout) as { flowHolders: { name: string; held: string; capacity: string }[] }).flowHolders[0];
      assert.deepEqual([table.name, table.held, table.capacity], ['flow_table', String(2n << 40n), String(2n << 40n)]);
    });
  });

  describe('a relay that sums its peer (federation)', () => {
    let a: Relay;
    let b: Relay;
    const collectors: FakeCollector[] = [];

    before(async () => {
      b = await startRelay({ listen: '127.0.0.1:0', name: 'b', buffer: 8, mergeWindowMs: 50, shutdownGraceMs: 200 });
      a = await relayWithPeers('127.0.0.1:0', 'a', [{ name: 'b', address: b.address }], { buffer: 8 });
      for (const [relay, node, entries, n] of [[a, 'node-a', 10n, 2], [b, 'node-b', 20n, 3]] as const) {
        const col = new FakeCollector(relay.address, node);
        col.flowTable = { entries, capacity: 1000n };
        collectors.push(col);
        await col.acked(col.send([...Array(n).keys()].map((i) => makeFlow(i + (node === 'node-b' ? 10 : 0)))));
        relay.flushLive();
      }
      // A collector that says nothing of its flow table adds no capacity.
      const silent = new FakeCollector(b.address, 'node-c');
      collectors.push(silent);
      await silent.acked(silent.send([makeFlow(20)]));
      b.flushLive();
    });

    after(async () => {
      for (const c of collectors) await c.close();
      await a?.close();
      await b?.close();
    });

    it('prints both relays\' flow tables and buffers summed', async () => {
      assert.deepEqual(await capacityLines(a.address), [
        'Current/Max Flows: 6/16 (37.50%)',
        'Flows held (now/capacity; what happens when full):',
        '  Flow tables (metering, 2 collectors): 30/2,000 (1.50%); when full: a new flow makes the least recently seen one report early and leave the table (not a loss) (reported early: 0)',
        '  Recent-flows buffer: 6/16 (37.50%); when full: the oldest flow is overwritten: live followers and queries no longer see it (overwritten: 0)',
      ]);
      const json = (await holdersJson(a.address)) as { name: string; held: string; capacity: string; nodes?: number }[];
      assert.deepEqual(json.map((h) => [h.name, h.held, h.capacity, h.nodes ?? 0]), [['flow_table', '30', '2000', 2], ['recent_buffer', '6', '16', 0]]);
    });
  });
});
