import assert from 'node:assert/strict';
import { credentials } from '@grpc/grpc-js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectorySource } from '../../../operator/sources/directory';
import { Flow, GeofenceVerdict, LostEventSource, Verdict } from '../../../proto/gen/flow/flow';
import { GetNodesRequest, ObserverClient, type GetFlowsResponse, type GetNodesResponse } from '../../../proto/gen/observer/observer';
import { NodeState } from '../../../proto/gen/relay/relay';
import { nsTimestamp } from '../../../observer/time';
import { endpointWorkload } from '../../../geofence/judge';
import { WorkloadEndpoints } from '../../../collector/enrich';
import { flowLabels, workloadLabels } from '../../../identity/workload_labels';
import { EmbeddedAuthority } from '../../../paths/embedded';
import { europeAndUs, EU_CH_FENCE, exampleControlPlane, honestPath } from '../paths/fixture';
import { startRelay, type Relay } from '../../../relay/server';
import { openStore, type FlowStore } from '../../../relay/store/store';
import { FakeCollector } from './exporter_client';
import { getFlows, makeFlow, readAll, serverStatus, uuidOf, uuidsOf } from '../observer/helpers';


const CONTROL = exampleControlPlane();
const { europe, viaUs } = europeAndUs(CONTROL);
const EUROPE = honestPath(europe);
const VIA_US = honestPath(viaUs);
/** The analytics pod's labels as the collector writes them. */
const ANALYTICS_LABELS = flowLabels('analytics', workloadLabels('analytics', { app: 'analytics' }, { team: 'data' }));

/** Flows in the live tests are captured now, so the merge window holds them. */
let liveBaseNs = 0n;
const capturedNow = (i: number) => nsTimestamp(liveBaseNs + BigInt(i) * 1_000_000n);

function liveFlow(i: number, nodeName: string): Flow {
  return makeFlow(i, { nodeName, time: capturedNow(i) });
}

function analyticsFlow(i: number, nodeName: string, scionPath: Flow['scionPath']): Flow {
  return makeFlow(i, {
    nodeName,
    time: capturedNow(i),
    scionPath,
    source: { ID: 5, identity: 5, namespace: 'analytics', podName: `analytics-${i}`, labels: ANALYTICS_LABELS, clusterName: 'c1', workloads: [] },
    // A collector's claim is not trusted: the relay decides.
    geofence: { verdict: GeofenceVerdict.GEOFENCE_COMPLIANT, name: 'forged', namespace: '', mode: 0, reason: '', offendingIsdAs: '', offendingCountry: '', offendingSid: '' },
  });
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function nodesOf(client: ObserverClient): Promise<GetNodesResponse> {
  return new Promise((res, rej) => client.getNodes(GetNodesRequest.fromPartial({}), (e, r) => (e ? rej(e) : res(r))));
}

describe('relay/server', function () {
  this.timeout(60_000);

  describe('endpointWorkload', () => {
    it('reads back from the labels the collector writes exactly the labels the operator selects by', () => {
      const operator = workloadLabels('shop', { app: 'web', tier: '', 'pod-template-hash': '5d8f' }, { team: 'red', 'kubernetes.io/metadata.name': 'shop' });
      const d = new WorkloadEndpoints('c1', () => 1);
      d.update([{ name: 'web-0', namespace: 'shop', labels: { app: 'web', tier: '', 'pod-template-hash': '5d8f' }, namespaceLabels: { team: 'red', 'kubernetes.io/metadata.name': 'shop' }, ip: '10.1.0.5', node: 'n1' }]);
      const info = d.lookup('10.1.0.5')!;
      const w = endpointWorkload({ ID: 1, identity: 1, clusterName: 'c1', namespace: 'shop', podName: 'web-0', workloads: [], labels: info.labels });
      assert.deepEqual(w, operator);
      assert.deepEqual(w, { namespaceLabels: { 'kubernetes.io/metadata.name': 'shop', team: 'red' }, podLabels: { app: 'web', tier: '' } });
      assert.equal(endpointWorkload({ ID: 2, identity: 2, clusterName: '', namespace: '', podName: '', workloads: [], labels: ['reserved:world'] }), undefined);
    });
  });

  describe('without a store', () => {
    let dir: string;
    let resources: DirectorySource;
    let relay: Relay;
    let client: ObserverClient;

    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cillion-relay-test-'));
      writeFileSync(join(dir, 'fence.yaml'), EU_CH_FENCE);
      resources = new DirectorySource(dir, { rescanMs: 200 });
      await resources.list();
      relay = await startRelay({ listen: '127.0.0.1:0', metricsListen: '127.0.0.1:0', resources, paths: new EmbeddedAuthority(CONTROL), mergeWindowMs: 1000, shutdownGraceMs: 200 });
      client = new ObserverClient(relay.address, credentials.createInsecure());
      await waitFor(() => relay.geofences.get('eu-ch') !== undefined);
    });
    afterEach(async () => {
      client.close();
      await relay.close();
      await resources.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('checks, merges by time across nodes and serves flows live; tracks nodes and losses', async () => {
      liveBaseNs = BigInt(Date.now()) * 1_000_000n;
      const live: GetFlowsResponse[] = [];
      const followers = relay.hub.followers;
      const stream = getFlows(client, { follow: true });
      stream.on('data', (r: GetFlowsResponse) => live.push(r));
      stream.on('error', () => undefined);
      await waitFor(() => relay.hub.followers > followers);

      const a = new FakeCollector(relay.address, 'node-a');
      const b = new FakeCollector(relay.address, 'node-b');
      // Node b's flows were captured between node a's but arrive after them.
      await a.acked(a.send([analyticsFlow(0, 'node-a', EUROPE), analyticsFlow(2, 'node-a', VIA_US), liveFlow(4, 'node-a')], { ringReserveFailures: 3n, ringRecords: 10n }));
      await b.acked(b.send([analyticsFlow(1, 'node-b', undefined), liveFlow(3, 'node-b')], { exportDrops: 2n, ringRecords: 5n }));
      await waitFor(() => uuidsOf(live).length >= 5);
      assert.deepEqual(uuidsOf(live), [0, 1, 2, 3, 4].map(uuidOf));

      const flows = live.flatMap((r) => (r.responseTypes?.$case === 'flow' ? [r.responseTypes.value] : []));
      const verdicts = flows.map((f) => (f.geofence ? `${f.geofence.name}:${GeofenceVerdict[f.geofence.verdict]}` : '-'));
      assert.deepEqual(verdicts, ['eu-ch:GEOFENCE_COMPLIANT', 'eu-ch:GEOFENCE_UNVERIFIED', 'eu-ch:GEOFENCE_VIOLATION', '-', '-']);
      assert.equal(flows[2].geofence?.offendingIsdAs, '66-2:0:10');
      assert.equal(flows[2].geofence?.offendingCountry, 'US');

      const losses = live.flatMap((r) => (r.responseTypes?.$case === 'lostEvents' ? [`${r.nodeName}:${LostEventSource[r.responseTypes.value.source]}:${r.responseTypes.value.numEventsLost}`] : []));
      assert.deepEqual(losses.sort(), ['node-a:PERF_EVENT_RING_BUFFER:3', 'node-b:OBSERVER_EVENTS_QUEUE:2']);

      // A later report of the same session's cumulative counters adds only the growth.
      a.send([], { ringReserveFailures: 5n, ringRecords: 20n, packetsLost: 40n, reportsDeferred: 6n });
      await waitFor(() => relay.nodes.get('node-a')?.counters.ringReserveFailures === 5n);

      let nodes = await nodesOf(client);
      assert.deepEqual(
        nodes.nodes.map((n) => [n.name, n.state, n.numFlows, n.version, n.tls?.enabled]),
        [
          ['node-a', NodeState.NODE_CONNECTED, 3n, '1.2.3', false],
          ['node-b', NodeState.NODE_CONNECTED, 2n, '1.2.3', false],
        ],
      );
      assert.match(nodes.nodes[0].address, /^(ipv4:)?127\.0\.0\.1:\d+$/);

      await b.close();
      await waitFor(() => live.some((r) => r.responseTypes?.$case === 'nodeStatus' && r.responseTypes.value.stateChange === NodeState.NODE_UNAVAILABLE));
      nodes = await nodesOf(client);
      assert.deepEqual(nodes.nodes.map((n) => n.state), [NodeState.NODE_CONNECTED, NodeState.NODE_UNAVAILABLE]);

      const { res } = await serverStatus(client);
      assert.equal(res.seenFlows, 5n);
      assert.equal(res.numFlows, 5n);
      assert.equal(res.numConnectedNodes, 1);
      assert.equal(res.numUnavailableNodes, 1);
      assert.deepEqual(res.unavailableNodes, ['node-b']);
      const lost = Object.fromEntries(res.lostFlows.map((l) => [l.reason, l.count]));
      assert.deepEqual(lost, { ring_reserve_failures: 5n, export_drops: 2n, decode_errors: 0n, follower_queue: 0n });
      // Each loss counter apart, with its place and unit; what is not data loss says so.
      const loss = new Map(res.loss.map((l) => [`${l.where}/${l.name}`, l]));
      assert.deepEqual([loss.get('datapath/ring_reserve_failures')?.count, loss.get('datapath/ring_reserve_failures')?.unit, loss.get('datapath/ring_reserve_failures')?.dataLoss], [5n, 'packets', true]);
      assert.deepEqual([loss.get('collector/packets_lost')?.count, loss.get('collector/packets_lost')?.unit, loss.get('collector/packets_lost')?.dataLoss], [40n, 'packets', true]);
      assert.deepEqual([loss.get('collector/export_drops')?.count, loss.get('collector/export_drops')?.unit], [2n, 'reports']);
      assert.deepEqual([loss.get('collector/reports_deferred')?.count, loss.get('collector/reports_deferred')?.dataLoss], [6n, false]);
      assert.deepEqual([loss.get('live_viewers/follower_queue')?.unit, loss.get('live_viewers/follower_queue')?.dataLoss], ['flows', false]);
      assert.equal(loss.get('relay/store_errors'), undefined, 'no store, no store errors');

      const text = await (await fetch(`http://${relay.metricsAddress}/metrics`)).text();
      const metric = (line: string) => assert.ok(text.split('\n').includes(line), `metrics lack "${line}"`);
      metric('cillion_flows_processed_total{verdict="FORWARDED"} 4');
      metric('cillion_flows_processed_total{verdict="DROPPED"} 1');
      metric('cillion_geofence_verdicts_total{fence="eu-ch",verdict="GEOFENCE_COMPLIANT"} 1');
      metric('cillion_geofence_verdicts_total{fence="eu-ch",verdict="GEOFENCE_VIOLATION"} 1');
      metric('cillion_geofence_verdicts_total{fence="eu-ch",verdict="GEOFENCE_UNVERIFIED"} 1');
      metric('cillion_ring_reserve_failures_total{node="node-a"} 5');
      metric('cillion_ring_records_total{node="node-a"} 20');
      metric('cillion_export_drops_total{node="node-b"} 2');
      metric('cillion_collector_loss_total{node="node-a",counter="packets_lost",unit="packets"} 40');
      metric('cillion_collector_loss_total{node="node-b",counter="export_drops",unit="reports"} 2');
      metric('cillion_store_rows_total 5');
      metric('cillion_store_insert_lag_seconds_count 2');
      metric('cillion_observer_followers 1');
      assert.equal((await fetch(`http://${relay.metricsAddress}/nope`)).status, 404);

      stream.cancel();
      await a.close();
    });

    it('picks up a fence changed on disk', async () => {
      writeFileSync(join(dir, 'fence.yaml'), EU_CH_FENCE.replace('[EU, CH]', '[EU, CH, US]'));
      await waitFor(() => relay.geofences.get('eu-ch')?.spec.allow.countries.includes('US') === true);
      const a = new FakeCollector(relay.address, 'node-a');
      await a.acked(a.send([analyticsFlow(0, 'node-a', VIA_US)]));
      relay.flushLive();
      const got = await readAll(getFlows(client, { number: 1n }));
      const r = got[0].responseTypes;
      assert.equal(r?.$case === 'flow' && r.value.geofence?.verdict, GeofenceVerdict.GEOFENCE_COMPLIANT);
      await a.close();
    });
  });

  describe('with the embedded store', () => {
    let dir: string;
    let store: FlowStore;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'cillion-relay-store-test-'));
      store = await openStore({ dataDir: dir });
    });
    after(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('stores every batch before acknowledging it and serves it back after a relay restart', async () => {
      let relay = await startRelay({ listen: '127.0.0.1:0', store, mergeWindowMs: 50, shutdownGraceMs: 200 });
      const a = new FakeCollector(relay.address, 'node-a', 'restart-session');
      const flows = [0, 1, 2].map((i) => makeFlow(i, { nodeName: 'node-a', verdict: Verdict.FORWARDED }));
      await a.acked(a.send(flows));
      await relay.close();
      await a.close();

      relay = await startRelay({ listen: '127.0.0.1:0', store, mergeWindowMs: 50, shutdownGraceMs: 200 });
      const client = new ObserverClient(relay.address, credentials.createInsecure());
      try {
        const got = await readAll(getFlows(client, { number: 10n }));
        assert.deepEqual(
          got.map((r) => (r.responseTypes?.$case === 'flow' ? r.responseTypes.value : undefined)),
          flows,
        );
        const again = new FakeCollector(relay.address, 'node-a', 'restart-session');
        again.send([]);
        await again.acked(1n);
        await again.close();
        assert.equal((await serverStatus(client)).res.numFlows, 3n);
      } finally {
        client.close();
        await relay.close();
      }
    });
  });
});
