// The relay under a steady load, end to end over the real datapath, bounded: one pod sends
// to 10,000 UDP ports round after round for 20 s (10,000 datagrams a second), so 10,000
// flows stay active and the agent reports each every 5 s, as the demo does. Nothing may be
// dropped on the way (the collector's loss counters stay 0 and the stored meters add up to
// every packet sent), and a live viewer at the relay (GetFlows follow, every flow) sees
// every report, half of them within 2 s of the agent reporting it and the slowest within two
// report periods (10 s), so that the test holds on a machine shared with another busy process. When the agent reported is what
// a second viewer on the agent's own Observer socket sees, for a sample of 100 of the
// flows (all of them would overflow the agent's live queue, which bursts of 10,000
// reports every 5 s do, and that is not what is measured here).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, type ClientReadableStream } from '@grpc/grpc-js';
import { ScionObservationPoint, type Flow } from '../../proto/gen/flow/flow';
import { GetFlowsRequest, ObserverClient, ServerStatusRequest, type GetFlowsResponse, type LossCounter, type ServerStatusResponse } from '../../proto/gen/observer/observer';
import { requireDatapath } from '../datapath/harness/require';
import { udpPaced } from '../datapath/harness/traffic';
import type { Wan } from '../datapath/harness/wan';
import { allocateIdentities, METRICS_ON, Proc, SERVING, until } from './procs';
import { metric, ZRH, zurichToFrankfurt } from './zurich_wan';

const SRC_PORT = 47100;
/** 10,000 flows, one datagram each per second for 20 s. */
const SPRAY = { basePort: 20000, flows: 10_000, rounds: 20, size: 64, srcPort: SRC_PORT, perSecond: 10_000 };
/** The flows whose report times the agent's viewer takes: every 100th destination port. */
const SAMPLE_PORTS = Array.from({ length: 100 }, (_, i) => String(SPRAY.basePort + 100 * i));
/** Seconds between a busy flow's reports (the agent's --flow-active). */
const ACTIVE_S = 5;
const LIVE_WITHIN_MS = 2000;
/** The slowest report: within two report periods even when another process takes a core. */
const SLOWEST_WITHIN_MS = 2 * ACTIVE_S * 1000;



const sprayed = (f: Flow): boolean =>
  f.scionObservationPoint === ScionObservationPoint.SCION_EDGE_ENCAP && f.l4?.protocol?.$case === 'UDP' && f.l4.protocol.value.sourcePort === SRC_PORT;

/** A follow viewer: when it first saw each sprayed flow (by uuid), and the lost events it was told of. */
class Viewer {
  readonly seen = new Map<string, { atMs: number; flow: Flow }>();
  lost = 0n;
  error: Error | undefined;
  private readonly call: ClientReadableStream<GetFlowsResponse>;

  constructor(client: ObserverClient, destinationPorts: string[] = []) {
    this.call = client.getFlows(GetFlowsRequest.fromPartial({ follow: true, whitelist: destinationPorts.length > 0 ? [{ destinationPort: destinationPorts }] : [] }));
    this.call.on('data', (r: GetFlowsResponse) => {
      const now = Date.now();
      if (r.responseTypes?.$case === 'lostEvents') this.lost += BigInt(r.responseTypes.value.numEventsLost);
      if (r.responseTypes?.$case === 'flow' && sprayed(r.responseTypes.value) && !this.seen.has(r.responseTypes.value.uuid)) {
        this.seen.set(r.responseTypes.value.uuid, { atMs: now, flow: r.responseTypes.value });
      }
    });
    this.call.on('error', (e: Error & { code?: number }) => {
      if (e.code !== 1) this.error = e;
    });
  }

  close(): void {
    this.call.cancel();
  }
}

describe('e2e: load, 10,000 active flows for 20 s: nothing dropped, live within 2 s typically', function () {
  requireDatapath(this);
  this.timeout(240000);
  const prefix = `cilload${process.pid}`;
  let wan: Wan | undefined;
  let dir: string;
  const procs: Proc[] = [];
  let relayAddr: string;
  let metricsAddr: string;
  let socket: string;
  let client: ObserverClient;
  let local: ObserverClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cilload-'));
    const w = zurichToFrankfurt(prefix, dir);
    wan = w;

    // The relay as it runs by default: the merge window and live buffer are part of what is measured.
    const relay = new Proc('relay', ['relay', '--no-ui', '--listen', '127.0.0.1:0', '--metrics', '', '--data-dir', join(dir, 'store')]);
    procs.push(relay);
    relayAddr = await relay.address(SERVING);
    socket = join(dir, 'observer.sock');
    // The operator numbers the pods; the agent only reads its allocation from --state.
    await allocateIdentities(join(dir, 'zurich'), join(dir, 'pods.yaml'), join(dir, 'state'));
    const agent = new Proc('agent zrh-1', [
      'agent', '--node', 'zrh-1', '--resources', join(dir, 'zurich'), '--workloads', join(dir, 'pods.yaml'), '--netns', w.asNs.get(ZRH) as string,
      '--instance', w.edgeInstance(ZRH), '--state', join(dir, 'state'), '--relay', relayAddr, '--observer-socket', socket,
      '--flow-idle', '3', '--flow-active', String(ACTIVE_S), '--metrics', '127.0.0.1:0',
      ...[1, 2].flatMap((i) => ['--uplink', `${i}=if${i}:${w.iface(ZRH, i).port}`]),
    ]);
    procs.push(agent);
    metricsAddr = await agent.address(METRICS_ON);
    await agent.waitFor(/collecting/);
    await relay.waitFor(/node zrh-1 connected/);
    client = new ObserverClient(relayAddr, credentials.createInsecure());
    local = new ObserverClient(`unix:${socket}`, credentials.createInsecure());
  });

  after(async () => {
    client?.close();
    local?.close();
    for (const p of procs.reverse()) await p.stop();
    wan?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const scrape = async (): Promise<string> => (await fetch(`http://${metricsAddr}/metrics`)).text();
  const status = (): Promise<ServerStatusResponse> =>
    new Promise((resolve, reject) => client.serverStatus(ServerStatusRequest.fromPartial({}), new Metadata(), { deadline: Date.now() + 10000 }, (e, r) => (e ? reject(e) : resolve(r))));
  const stored = (): Promise<Flow[]> =>
    new Promise((resolve, reject) => {
      const out: Flow[] = [];
      const call = client.getFlows(GetFlowsRequest.fromPartial({ number: 1_000_000n, whitelist: [{ nodeName: ['zrh-1'] }] }));
      call.on('data', (r: GetFlowsResponse) => r.responseTypes?.$case === 'flow' && sprayed(r.responseTypes.value) && out.push(r.responseTypes.value));
      call.on('error', reject);
      call.on('end', () => resolve(out));
    });
  const count = (loss: LossCounter[], where: string, name: string): bigint => {
    const c = loss.find((l) => l.where === where && l.name === name);
    assert.ok(c, `status has ${where} ${name}`);
    return c.count;
  };

  it('stores every packet sent in a stored meter, drops no report, and serves the typical report live within 2 s, the slowest within 10 s', async () => {
    const atAgent = new Viewer(local, SAMPLE_PORTS);
    const atRelay = new Viewer(client);
    try {
      const started = Date.now();
      const sent = await udpPaced((wan as Wan).pods.get('billing')?.ns as string, '10.165.0.7', SPRAY);
      const sprayMs = Date.now() - started;
      assert.deepEqual(sent, { sent: SPRAY.flows * SPRAY.rounds, failed: 0 });

      // The agent has reported everything it holds: table, carry and backlog are empty.
      const settled = await until(
        'the agent to report every flow',
        scrape,
        (t) => metric(t, 'cillion_flow_table_entries') === 0 && metric(t, 'cillion_flow_reports_carried') === 0 && metric(t, 'cillion_export_backlog_flows') === 0,
        60000,
      );
      assert.equal(metric(settled, 'cillion_datapath_packets_total{counter="ENCAP"}'), sent.sent, 'the datapath encapsulated every datagram the application sent');

      // Acknowledged is stored: with the backlog empty, every report is in the store.
      const flows = await stored();
      const metered = flows.reduce((n, f) => n + (f.meter?.packets ?? 0n), 0n);
      const s = await status();
      const reports = flows.length;
      const lossText = ['ring_reserve_failures', 'decode_errors', 'export_drops', 'reports_lost', 'packets_lost', 'export_drop_packets', 'reports_deferred', 'reports_carried']
        .map((n) => `${n} ${s.loss.find((l) => l.name === n)?.count ?? '-'}`)
        .join(', ');

      // The live view: every stored report reached the relay's viewer; the sampled ones within 2 s of the agent serving them.
      await until('the relay viewer to see every stored report', async () => atRelay.seen.size, (n) => n >= flows.length, 30000).catch(() => undefined);
      const unseen = flows.filter((f) => !atRelay.seen.has(f.uuid)).length;
      const lags: number[] = [];
      let missing = 0;
      for (const [uuid, a] of atAgent.seen) {
        const r = atRelay.seen.get(uuid);
        if (r) lags.push(r.atMs - a.atMs);
        else missing++;
      }
      lags.sort((a, b) => a - b);
      const q = (p: number): number => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] ?? NaN;
      const fromTime = [...atRelay.seen.values()].map((r) => r.atMs - Number(r.flow.time!.seconds) * 1000 - r.flow.time!.nanos / 1e6).sort((a, b) => a - b);
      console.log(
        `      sent ${sent.sent} datagrams to ${SPRAY.flows} ports in ${(sprayMs / 1000).toFixed(1)} s; stored ${metered} packets in ${reports} reports; ${lossText}\n` +
          `      live: ${atRelay.seen.size} reports at the relay's viewer (${unseen} stored ones never, lost events ${atRelay.lost}); sample of ${atAgent.seen.size} reports at the agent's socket (${missing} never at the relay's); ` +
          `report -> relay viewer p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${lags[lags.length - 1]} ms; flow time -> relay viewer max ${Math.round(fromTime[fromTime.length - 1] ?? NaN)} ms`,
      );

      assert.equal(metered, BigInt(sent.sent), 'the stored meters hold every packet sent, none twice');
      const ports = new Set(flows.map((f) => (f.l4?.protocol?.$case === 'UDP' ? f.l4.protocol.value.destinationPort : 0)));
      assert.equal(ports.size, SPRAY.flows, 'a stored flow for every port sent to');
      for (const name of ['ring_reserve_failures', 'decode_errors', 'export_drops', 'reports_lost', 'packets_lost', 'export_drop_packets']) {
        const where = name === 'ring_reserve_failures' ? 'datapath' : 'collector';
        assert.equal(count(s.loss, where, name), 0n, `${where} ${name}`);
      }
      assert.equal(metric(await scrape(), 'cillion_flow_reports_lost_total'), 0);
      assert.equal(atAgent.error, undefined, `the agent's viewer: ${atAgent.error?.message}`);
      assert.equal(atRelay.error, undefined, `the relay's viewer: ${atRelay.error?.message}`);
      assert.ok(atAgent.seen.size >= SAMPLE_PORTS.length, `the agent served ${atAgent.seen.size} sampled reports live`);
      assert.equal(atAgent.lost, 0n, 'the agent told its live viewer of no lost flows');
      assert.equal(atRelay.lost, 0n, 'the relay told its live viewer of no lost flows');
      assert.equal(unseen, 0, 'every stored report reached the relay viewer');
      assert.equal(missing, 0, 'every sampled report reached the relay viewer');
      // The typical report is live within the target; on a machine shared with another busy
      // process the slowest may wait a few scheduler slices more, but not a whole report period.
      assert.ok(q(0.5) <= LIVE_WITHIN_MS, `half the reports reached the relay viewer within ${q(0.5)} ms of the agent reporting them, over ${LIVE_WITHIN_MS} ms`);
      assert.ok(lags[lags.length - 1] <= SLOWEST_WITHIN_MS, `slowest report reached the relay viewer ${lags[lags.length - 1]} ms after the agent reported it, over ${SLOWEST_WITHIN_MS} ms`);
    } finally {
      atAgent.close();
      atRelay.close();
    }
  });
});
