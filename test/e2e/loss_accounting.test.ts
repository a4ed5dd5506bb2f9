// Loss a user can add up, end to end over the real datapath: one pod sends to more flows
// than its agent's pipeline can report (a flow table of 64, an export backlog of 1024), so
// reports are evicted, put off, carried and finally shed within seconds. Every packet the
// application sent must then be in a stored flow's meter or in a loss counter that
// `cillion status` shows in packets, and a live viewer too slow to keep up must show up
// apart, never as data loss.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:http2';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { ScionObservationPoint, type Flow } from '../../proto/gen/flow/flow';
import { GetFlowsRequest, ObserverClient, ServerStatusRequest, type LossCounter, type ServerStatusResponse } from '../../proto/gen/observer/observer';
import { requireDatapath } from '../datapath/harness/require';
import { udpSpray } from '../datapath/harness/traffic';
import type { Wan } from '../datapath/harness/wan';
import { allocateIdentities, cli, METRICS_ON, Proc, SERVING, until } from './procs';
import { metric, ZRH, zurichToFrankfurt } from './zurich_wan';

const SRC_PORT = 47000;
const SPRAY = { basePort: 20000, flows: 2000, rounds: 15, size: 64, srcPort: SRC_PORT };



describe('e2e: loss accounting, sent = metered + counted loss', function () {
  requireDatapath(this);
  this.timeout(180000);
  const prefix = `cilloss${process.pid}`;
  let wan: Wan | undefined;
  let dir: string;
  const procs: Proc[] = [];
  let relayAddr: string;
  let metricsAddr: string;
  let client: ObserverClient;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cilloss-'));
    const w = zurichToFrankfurt(prefix, dir);
    wan = w;

    // A live queue of 64 flows: the paused viewer below overflows it.
    const relay = new Proc('relay', ['relay', '--no-ui', '--listen', '127.0.0.1:0', '--metrics', '', '--data-dir', join(dir, 'store'), '--merge-window', '200', '--buffer', '64', '--max-follow-queue', '64']);
    procs.push(relay);
    relayAddr = await relay.address(SERVING);
    // The operator numbers the pods; the agent only reads its allocation from --state.
    await allocateIdentities(join(dir, 'zurich'), join(dir, 'pods.yaml'), join(dir, 'state'));
    const agent = new Proc('agent zrh-1', [
      'agent', '--node', 'zrh-1', '--resources', join(dir, 'zurich'), '--workloads', join(dir, 'pods.yaml'), '--netns', w.asNs.get(ZRH) as string,
      '--instance', w.edgeInstance(ZRH), '--state', join(dir, 'state'), '--relay', relayAddr, '--observer-socket', '',
      '--flow-idle', '1', '--flow-active', '2', '--flow-max', '64', '--export-buffer', '1024', '--metrics', '127.0.0.1:0',
      ...[1, 2].flatMap((i) => ['--uplink', `${i}=if${i}:${w.iface(ZRH, i).port}`]),
    ]);
    procs.push(agent);
    metricsAddr = await agent.address(METRICS_ON);
    await agent.waitFor(/collecting/);
    await relay.waitFor(/node zrh-1 connected/);
    client = new ObserverClient(relayAddr, credentials.createInsecure());
  });

  after(async () => {
    client?.close();
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
      call.on('data', (r: { responseTypes?: { $case: string; value: unknown } }) => r.responseTypes?.$case === 'flow' && out.push(r.responseTypes.value as Flow));
      call.on('error', reject);
      call.on('end', () => resolve(out));
    });
  const count = (loss: LossCounter[], where: string, name: string): bigint => {
    const c = loss.find((l) => l.where === where && l.name === name);
    assert.ok(c, `status has ${where} ${name}`);
    return c.count;
  };
  const sprayed = (f: Flow): boolean =>
    f.scionObservationPoint === ScionObservationPoint.SCION_EDGE_ENCAP && f.l4?.protocol?.$case === 'UDP' && f.l4.protocol.value.sourcePort === SRC_PORT;

  it('every packet sent is in a stored meter or in a loss counter, in packets; a slow viewer is not data loss', async () => {
    // A live viewer that never reads (HTTP/2 with a small window it never opens again):
    // its queue at the relay overflows.
    const session = connect(`http://${relayAddr}`, { settings: { initialWindowSize: 4096 } });
    session.on('error', () => undefined);
    const request = Buffer.from(GetFlowsRequest.encode(GetFlowsRequest.fromPartial({ follow: true })).finish());
    const framed = Buffer.alloc(5 + request.length);
    framed.writeUInt32BE(request.length, 1);
    request.copy(framed, 5);
    const viewer = session.request({ ':method': 'POST', ':path': '/observer.Observer/GetFlows', 'content-type': 'application/grpc', te: 'trailers' });
    viewer.on('error', () => undefined);
    viewer.end(framed);
    viewer.pause();

    const started = Date.now();
    const w = wan as Wan;
    const sent = await udpSpray(w.pods.get('billing')?.ns as string, '10.165.0.7', SPRAY);
    assert.deepEqual(sent, { sent: SPRAY.flows * SPRAY.rounds, failed: 0 });

    // The agent has reported everything it holds: table, carry and backlog are empty.
    const settled = await until(
      'the agent to report every flow',
      scrape,
      (t) => metric(t, 'cillion_flow_table_entries') === 0 && metric(t, 'cillion_flow_reports_carried') === 0 && metric(t, 'cillion_export_backlog_flows') === 0,
    );
    const encapsulated = metric(settled, 'cillion_datapath_packets_total{counter="ENCAP"}');
    assert.equal(encapsulated, sent.sent, 'the datapath encapsulated every datagram the application sent');

    // The relay's store and status: packets metered plus packets counted lost, in packets.
    let metered = 0n;
    let flows: Flow[] = [];
    const s = await until(
      'stored meters and counted loss to add up to what was sent',
      async () => {
        flows = (await stored()).filter(sprayed);
        metered = flows.reduce((n, f) => n + (f.meter?.packets ?? 0n), 0n);
        return status();
      },
      (st) => {
        const lost = count(st.loss, 'datapath', 'ring_reserve_failures') + count(st.loss, 'collector', 'decode_errors') + count(st.loss, 'collector', 'packets_lost') + count(st.loss, 'collector', 'export_drop_packets');
        return metered + lost === BigInt(sent.sent);
      },
      30000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nmetered ${metered} in ${flows.length} stored flows of ${sent.sent} sent`);
    });
    const packetsLost = count(s.loss, 'collector', 'packets_lost');
    const follower = s.loss.find((l) => l.name === 'follower_queue');
    // The pipeline really was overwhelmed: the bound was hit and counted, not dodged.
    assert.ok(packetsLost > 0n, 'some reports were shed');
    assert.ok(metered > 0n, 'and many were stored');
    assert.ok(count(s.loss, 'collector', 'flow_table_evictions') > 0n);
    assert.ok(count(s.loss, 'collector', 'reports_carried') > 0n);
    // The agent's own metrics say the same as the relay's status.
    const text = await scrape();
    assert.equal(BigInt(metric(text, 'cillion_flow_packets_lost_total')), packetsLost);
    assert.equal(BigInt(metric(text, 'cillion_flow_reports_lost_total')), count(s.loss, 'collector', 'reports_lost'));
    assert.ok(metric(text, 'cillion_flow_table_evictions_total') > 0);

    // Bytes mean the same on both sides: each stored meter's pod bytes are its packets times
    // the pod's frame (Ethernet, IPv4, UDP, payload), and the wire bytes are larger.
    for (const f of flows) {
      const m = f.meter!;
      assert.equal(m.podBytes, m.packets * BigInt(14 + 20 + 8 + SPRAY.size));
      assert.equal(m.bytes, m.podBytes);
      assert.ok(m.wireBytes > m.podBytes);
    }
    // No stored flow claims more than was sent to it; those that know they are short say so.
    const perFlow = new Map<number, { packets: bigint; lost: bigint }>();
    for (const f of flows) {
      const port = f.l4?.protocol?.$case === 'UDP' ? f.l4.protocol.value.destinationPort : 0;
      const e = perFlow.get(port) ?? { packets: 0n, lost: 0n };
      perFlow.set(port, { packets: e.packets + (f.meter?.packets ?? 0n), lost: e.lost + (f.meter?.lostPackets ?? 0n) });
    }
    for (const [port, e] of perFlow) assert.ok(e.packets + e.lost <= BigInt(SPRAY.rounds), `flow to ${port}: ${e.packets} stored + ${e.lost} known lost`);
    console.log(`      sent ${sent.sent}: stored ${metered} in ${flows.length} flows, lost ${packetsLost} (${count(s.loss, 'collector', 'reports_lost')} reports shed), ` +
      `${count(s.loss, 'collector', 'reports_carried')} carried, ${count(s.loss, 'collector', 'flow_table_evictions')} evictions, ${follower?.count} missed by the viewer`);

    // The viewer's loss is counted, apart from data loss.
    assert.ok(follower && follower.count > 0n && !follower.dataLoss && follower.where === 'live_viewers', JSON.stringify(follower, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    assert.ok(s.loss.filter((l) => l.dataLoss).every((l) => l.where !== 'live_viewers'));
    viewer.close();
    session.close();

    const text2 = await cli(['status', '--server', relayAddr]);
    assert.equal(text2.code, 0, text2.stderr);
    const lines = text2.stdout.split('\n');
    const notLoss = lines.indexOf('Not data loss (delayed, folded into later reports, or missed by a live viewer only):');
    const lossAt = lines.indexOf('Data loss (not in the store, nor in any stored meter):');
    assert.ok(lossAt >= 0 && notLoss > lossAt, text2.stdout);
    const grouped = (n: bigint) => n.toLocaleString('en-US');
    assert.ok(lines.slice(lossAt, notLoss).includes(`  collector: packets lost ${grouped(packetsLost)} packets`), text2.stdout);
    assert.ok(lines.slice(notLoss).some((l) => /^ {2}live viewers: follower queue [\d,]+ flows$/.test(l)), text2.stdout);
    assert.doesNotMatch(text2.stdout, /Lost flows/);
    assert.ok(Date.now() - started < 60000, `sending and settling took ${Date.now() - started} ms`);
  });
});
