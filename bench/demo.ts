// The demo part of npm run bench (bench/run.ts): the demo's heaviest case, end to end over
// the real datapath. The Zurich-Frankfurt namespace WAN of the e2e load test
// (test/e2e/zurich_wan.ts), a `cillion relay` and a `cillion agent` process, and one pod
// (billing-0) sending 64-byte UDP datagrams from one socket to FLOWS destination ports in
// turn, so FLOWS flows stay active and the agent reports each every 5 s (--flow-active 5,
// as the demo runs it). The rate steps up (STEP_S seconds a step, each step RATE_STEP times
// the last) until the sender or the datapath no longer delivers what was asked, a loss
// counter moves (the highest rate this machine allows with the relay, agent and viewers on
// it), and the rest of the time runs at the last rate that kept up. Then the agent reports
// what it holds and the store catches up. Measured over the whole run:
// - packets a second sent (the sender's count) and delivered (the edge's ENCAP counter);
// - reports a second exported, and reports dropped anywhere: the agent's export drops and
//   shed reports, the relay's refusals (limit breaches, rejected flows, store errors), a
//   report exported but never stored, a live viewer's lost events, and stored reports the
//   live viewer never saw;
// - the stored meters (read back through GetFlows) against the packets sent;
// - live view latency: for a sample of 100 flows, from the agent serving a report on its
//   own Observer socket to the relay's follow viewer (every flow) seeing it;
// - the relay's CPU (cores over the traffic) and peak RSS, and the store's insert lag
//   (the relay's cillion_store_insert_lag_seconds) and how long after the traffic it held
//   every exported report.
// CILLION_BENCH_DEMO_FLOWS (default 60,000), CILLION_BENCH_DEMO_PPS (first step, default
// 20,000 a second) and CILLION_BENCH_DEMO_SECONDS (traffic at most, default 60) size it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { credentials, type ClientReadableStream } from '@grpc/grpc-js';
import { ScionObservationPoint, type Flow } from '../proto/gen/flow/flow';
import { GetFlowsRequest, ObserverClient, type GetFlowsResponse } from '../proto/gen/observer/observer';
import { allocateIdentities, freePort, Proc, until } from '../test/e2e/procs';
import { metric, ZRH, zurichToFrankfurt } from '../test/e2e/zurich_wan';
import type { Wan } from '../test/datapath/harness/wan';
import { cpuSeconds, memoryBytes } from './relay/procstat';
import { fmt, type Result } from './report';

const run = promisify(execFile);
const UDPFLOOD = join(__dirname, 'build', 'udpflood');
const DST = '10.165.0.7';
const SRC_PORT = 47200;
const BASE_PORT = 2000;
const ACTIVE_S = 5;
/** Longer than a round over every port at the first step's rate, so flows stay active between packets. */
const IDLE_S = 5;
const STEP_S = 10;
const RATE_STEP = 1.5;
/** A step that delivered less than this share of the rate asked is the machine's limit. */
const KEPT_UP = 0.9;
const SAMPLE = 100;
const LIVE_WITHIN_MS = 2000;

function sizeFromEnv(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`${name}=${raw}: a whole number from ${min} to ${max}`);
  return n;
}

export interface DemoSize {
  flows: number;
  firstPps: number;
  seconds: number;
}

/** The part's size from the environment; checked before any part runs. */
export function demoSize(): DemoSize {
  return {
    flows: sizeFromEnv('CILLION_BENCH_DEMO_FLOWS', 60_000, SAMPLE, 65_535 - BASE_PORT),
    firstPps: sizeFromEnv('CILLION_BENCH_DEMO_PPS', 20_000, 1),
    seconds: sizeFromEnv('CILLION_BENCH_DEMO_SECONDS', 60, STEP_S),
  };
}

const sprayed = (f: Flow): boolean =>
  f.scionObservationPoint === ScionObservationPoint.SCION_EDGE_ENCAP && f.l4?.protocol?.$case === 'UDP' && f.l4.protocol.value.sourcePort === SRC_PORT;

/** A follow viewer that keeps only what the figures need: which reports it saw, and when it saw the sampled ones. */
class Viewer {
  readonly uuids = new Set<string>();
  readonly sampledAt = new Map<string, number>();
  lost = 0n;
  error: Error | undefined;
  private readonly call: ClientReadableStream<GetFlowsResponse>;

  constructor(client: ObserverClient, private readonly sample: ReadonlySet<number>, destinationPorts: string[] = []) {
    this.call = client.getFlows(GetFlowsRequest.fromPartial({ follow: true, whitelist: destinationPorts.length > 0 ? [{ destinationPort: destinationPorts }] : [] }));
    this.call.on('data', (r: GetFlowsResponse) => {
      const now = Date.now();
      if (r.responseTypes?.$case === 'lostEvents') this.lost += BigInt(r.responseTypes.value.numEventsLost);
      if (r.responseTypes?.$case !== 'flow') return;
      const f = r.responseTypes.value;
      if (!sprayed(f) || this.uuids.has(f.uuid)) return;
      this.uuids.add(f.uuid);
      if (f.l4?.protocol?.$case === 'UDP' && this.sample.has(f.l4.protocol.value.destinationPort)) this.sampledAt.set(f.uuid, now);
    });
    this.call.on('error', (e: Error & { code?: number }) => {
      if (e.code !== 1) this.error = e;
    });
  }

  close(): void {
    this.call.cancel();
  }
}

/** Every series of `name` added up, whatever its labels. */
function total(text: string, name: string): number {
  let sum = 0;
  for (const l of text.split('\n')) {
    if (l.startsWith(`${name} `) || l.startsWith(`${name}{`)) sum += Number(l.slice(l.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** The upper bound of the histogram bucket that holds quantile q, or Infinity past the last bound. */
function histogramQuantile(text: string, name: string, q: number): number {
  const buckets = text
    .split('\n')
    .filter((l) => l.startsWith(`${name}_bucket{`))
    .map((l) => ({ le: l.match(/le="([^"]+)"/)?.[1] ?? '+Inf', n: Number(l.slice(l.lastIndexOf(' ') + 1)) }));
  const count = buckets.find((b) => b.le === '+Inf')?.n ?? 0;
  const hit = buckets.find((b) => b.n >= q * count);
  return hit === undefined || hit.le === '+Inf' ? Infinity : Number(hit.le);
}

const quantile = (xs: number[], q: number): number => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

interface Step {
  asked: number;
  sent: number;
  failed: number;
  delivered: number;
  seconds: number;
}

export async function demoBench(size: DemoSize): Promise<Result[]> {
  const prefix = `cilbdemo${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'cilbdemo-'));
  const procs: Proc[] = [];
  const viewers: Viewer[] = [];
  const clients: ObserverClient[] = [];
  let wan: Wan | undefined;
  try {
    wan = zurichToFrankfurt(prefix, dir);
    const relayAddr = `127.0.0.1:${await freePort()}`;
    const relayMetrics = `127.0.0.1:${await freePort()}`;
    // The relay as it runs by default, but for the read of every report at the end, which may take longer than a query may by default.
    const relay = new Proc('relay', ['relay', '--no-ui', '--listen', relayAddr, '--metrics', relayMetrics, '--data-dir', join(dir, 'store'), '--query-timeout-ms', '600000']);
    procs.push(relay);
    await relay.waitFor(/serving Observer and FlowExport/, 60000);
    const agentMetrics = `127.0.0.1:${await freePort()}`;
    const socket = join(dir, 'observer.sock');
    // The operator numbers the pods; the agent only reads its allocation from --state.
    await allocateIdentities(join(dir, 'zurich'), join(dir, 'pods.yaml'), join(dir, 'state'));
    const agent = new Proc('agent zrh-1', [
      'agent', '--node', 'zrh-1', '--resources', join(dir, 'zurich'), '--workloads', join(dir, 'pods.yaml'), '--netns', wan.asNs.get(ZRH) as string,
      '--instance', wan.edgeInstance(ZRH), '--state', join(dir, 'state'), '--relay', relayAddr, '--observer-socket', socket,
      '--flow-idle', String(IDLE_S), '--flow-active', String(ACTIVE_S), '--metrics', agentMetrics,
      ...[1, 2].flatMap((i) => ['--uplink', `${i}=if${i}:${(wan as Wan).iface(ZRH, i).port}`]),
    ]);
    procs.push(agent);
    await agent.waitFor(/collecting/, 60000);
    await relay.waitFor(/node zrh-1 connected/, 60000);
    const client = new ObserverClient(relayAddr, credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 << 20 });
    const local = new ObserverClient(`unix:${socket}`, credentials.createInsecure());
    clients.push(client, local);
    const scrape = async (addr: string): Promise<string> => (await fetch(`http://${addr}/metrics`)).text();

    const samplePorts = Array.from({ length: SAMPLE }, (_, i) => BASE_PORT + Math.floor((i * size.flows) / SAMPLE));
    const sample = new Set(samplePorts);
    const atAgent = new Viewer(local, sample, samplePorts.map(String));
    const atRelay = new Viewer(client, sample);
    // Only the sampled flows: its lag is the relay's publish alone, without streaming every flow to a viewer.
    const atRelayFiltered = new Viewer(client, sample, samplePorts.map(String));
    viewers.push(atAgent, atRelay, atRelayFiltered);

    const pid = relay.child.pid as number;
    const cpu0 = cpuSeconds(pid);
    const t0 = Date.now();
    const steps: Step[] = [];
    const pod = wan.pods.get('billing')?.ns as string;
    let asked = size.firstPps;
    let before = await scrape(agentMetrics);
    /** Why the rate stopped rising; the rest of the time runs at the highest rate that kept up. */
    let limit: string | undefined;
    while ((Date.now() - t0) / 1000 + STEP_S <= size.seconds) {
      const { stdout } = await run('ip', ['netns', 'exec', pod, UDPFLOOD, 'spray', DST, String(BASE_PORT), String(size.flows), '64', String(SRC_PORT), String(Math.round(asked)), String(STEP_S * 1000)], { timeout: (STEP_S + 30) * 1000 });
      const [sent, failed, ns] = stdout.trim().split(' ').map(Number);
      const after = await scrape(agentMetrics);
      const step: Step = {
        asked: Math.round(asked),
        sent,
        failed,
        delivered: metric(after, 'cillion_datapath_packets_total{counter="ENCAP"}') - metric(before, 'cillion_datapath_packets_total{counter="ENCAP"}'),
        seconds: ns / 1e9,
      };
      steps.push(step);
      const ringFull = metric(after, 'cillion_datapath_packets_total{counter="RING_RESERVE_FAIL"}') - metric(before, 'cillion_datapath_packets_total{counter="RING_RESERVE_FAIL"}');
      const drops = total(after, 'cillion_export_drops_total') + total(after, 'cillion_flow_reports_lost_total');
      process.stderr.write(
        `bench: demo step ${fmt(step.asked)} pps asked: ${fmt(step.sent / step.seconds)} sent, ${fmt(step.delivered / step.seconds)} delivered, ` +
          `${failed} failed sends, ${ringFull} ring reserve failures, export backlog ${metric(after, 'cillion_export_backlog_flows')}, live lost so far ${atRelay.lost}, live lag so far max ${fmt(Math.max(0, ...lags(atAgent, atRelay)))} ms\n`,
      );
      before = after;
      const short = step.delivered < KEPT_UP * step.asked * step.seconds;
      if (limit === undefined && (short || ringFull > 0 || drops > 0)) {
        limit = short ? `${fmt(step.asked)} pps not delivered` : `a loss counter moved at ${fmt(step.asked)} pps`;
        const clean = steps.length > 1 ? steps[steps.length - 2] : undefined;
        asked = clean?.asked ?? (KEPT_UP * step.delivered) / step.seconds;
      } else if (limit === undefined) {
        asked *= RATE_STEP;
      }
    }
    const why = limit ?? 'time up before the limit';    const trafficS = (Date.now() - t0) / 1000;
    const relayCores = (cpuSeconds(pid) - cpu0) / trafficS;
    const trafficEnd = Date.now();

    // The agent reports what it holds; acknowledged is stored, so the store then holds every report.
    const settled = await until(
      'the agent to report every flow',
      () => scrape(agentMetrics),
      (t) => metric(t, 'cillion_flow_table_entries') === 0 && metric(t, 'cillion_flow_reports_carried') === 0 && metric(t, 'cillion_export_backlog_flows') === 0,
      120000,
    );
    const exported = metric(settled, 'cillion_flows_exported_total');
    const relayText = await until('the relay to store every exported report', () => scrape(relayMetrics), (t) => total(t, 'cillion_store_rows_total') >= exported, 120000);
    const storeCaughtUpS = (Date.now() - trafficEnd) / 1000;
    await until('the relay viewer to see every report', async () => atRelay.uuids.size, (n) => n >= exported, 30000).catch(() => undefined);

    const stored = await new Promise<{ reports: number; packets: bigint; unseen: number; ports: Set<number> }>((resolve, reject) => {
      const out = { reports: 0, packets: 0n, unseen: 0, ports: new Set<number>() };
      const call = client.getFlows(GetFlowsRequest.fromPartial({ number: BigInt(exported) + 1000n, whitelist: [{ nodeName: ['zrh-1'] }] }));
      call.on('data', (r: GetFlowsResponse) => {
        if (r.responseTypes?.$case !== 'flow' || !sprayed(r.responseTypes.value)) return;
        const f = r.responseTypes.value;
        out.reports++;
        out.packets += f.meter?.packets ?? 0n;
        if (f.l4?.protocol?.$case === 'UDP') out.ports.add(f.l4.protocol.value.destinationPort);
        if (!atRelay.uuids.has(f.uuid)) out.unseen++;
      });
      call.on('error', reject);
      call.on('end', () => resolve(out));
    });

    const sent = steps.reduce((n, s) => n + s.sent, 0);
    const delivered = metric(settled, 'cillion_datapath_packets_total{counter="ENCAP"}');
    const sendS = steps.reduce((n, s) => n + s.seconds, 0);
    const last = steps[steps.length - 1];
    const kept = steps.filter((s) => s.delivered >= KEPT_UP * s.asked * s.seconds).reduce((m, s) => (s.delivered / s.seconds > m.delivered / m.seconds ? s : m), last);
    const agentDrops = total(settled, 'cillion_export_drops_total') + total(settled, 'cillion_flow_reports_lost_total');
    const relayRefused = total(relayText, 'cillion_limit_breaches_total') + total(relayText, 'cillion_flows_rejected_total') + total(relayText, 'cillion_store_errors_total');
    const notStored = Math.max(0, exported - stored.reports);
    const dropped = agentDrops + relayRefused + notStored;
    // A lost event and a stored report the viewer never saw are mostly the same report, counted once.
    const notLive = Math.max(Number(atRelay.lost), stored.unseen);
    const live = lags(atAgent, atRelay).sort((a, b) => a - b);
    const published = lags(atAgent, atRelayFiltered).sort((a, b) => a - b);
    const batches = metric(relayText, 'cillion_store_insert_lag_seconds_count');
    const unsampled = [...atAgent.sampledAt.keys()].filter((u) => !atRelay.sampledAt.has(u)).length;
    const rssMiB = memoryBytes(pid, 'VmHWM') / 2 ** 20;
    const lagP99 = histogramQuantile(relayText, 'cillion_store_insert_lag_seconds', 0.99);
    const liveMax = live[live.length - 1] ?? Infinity;
    process.stderr.write(
      `bench: demo: ${steps.length} steps (${why}); sent ${fmt(sent)}, delivered ${fmt(delivered)}, exported ${fmt(exported)} reports, stored ${fmt(stored.reports)} ` +
        `(${fmt(Number(stored.packets))} packets, ${fmt(stored.ports.size)} ports); dropped: agent ${agentDrops}, relay refused ${relayRefused}, not stored ${notStored}, ` +
        `live lost ${atRelay.lost}, stored but never live ${stored.unseen}, sampled never at the relay ${unsampled} of ${atAgent.sampledAt.size}; viewer errors: ${atAgent.error?.message ?? '-'} / ${atRelay.error?.message ?? '-'}; ` +
        `${fmt(batches)} batches stored (${fmt(exported / batches)} reports each); agent -> relay viewer of the sampled flows only p50/p99/max ${fmt(quantile(published, 0.5))}/${fmt(quantile(published, 0.99))}/${fmt(published[published.length - 1] ?? NaN)} ms\n`,
    );
    const met = dropped === 0 && notLive === 0 && unsampled === 0 && atAgent.sampledAt.size >= SAMPLE && liveMax <= LIVE_WITHIN_MS && stored.packets === BigInt(sent);
    return [
      {
        what: `demo: one pod, ${fmt(size.flows)} active flows, reported every ${ACTIVE_S} s`,
        figures:
          `${fmt(sent / sendS)} pps sent, ${fmt(delivered / sendS)} delivered (highest step that kept up ${fmt(kept.delivered / kept.seconds)} pps; rate stopped rising: ${why}); ` +
          `${fmt(exported / trafficS)} reports/s; stored meters ${fmt(Number(stored.packets))} of ${fmt(sent)} packets sent; ` +
          `live p50/p99/max ${fmt(quantile(live, 0.5))}/${fmt(quantile(live, 0.99))}/${fmt(liveMax)} ms (${atAgent.sampledAt.size} sampled reports); ` +
          `relay ${relayCores.toFixed(2)} cores, RSS ${fmt(rssMiB)} MiB; store lag p99 <= ${lagP99} s, all stored ${storeCaughtUpS.toFixed(1)} s after the traffic`,
        ratio: `${fmt(dropped)} reports dropped, ${fmt(notLive)} not live`,
        target: 'none dropped, live within 2 s',
        met,
      },
    ];
  } finally {
    for (const v of viewers) v.close();
    for (const c of clients) c.close();
    for (const p of procs.reverse()) await p.stop();
    wan?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** From the agent serving each sampled report to the relay's viewer seeing it, in ms. */
function lags(atAgent: Viewer, atRelay: Viewer): number[] {
  const out: number[] = [];
  for (const [uuid, at] of atAgent.sampledAt) {
    const seen = atRelay.sampledAt.get(uuid);
    if (seen !== undefined) out.push(seen - at);
  }
  return out;
}
