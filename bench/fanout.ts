// The fanout part of npm run bench (bench/run.ts): what answering reads together with peers
// costs. Three `cillion relay` processes on loopback (plaintext), each with its own embedded
// store in a temporary directory and the other two as --peer, each filled over FlowExport by
// a synthetic collector of its own (bench/relay/collector.ts: a node of the relay bench's
// corpus, 500 pods, every path of the example topology, UUIDv7s) with a third of
// CILLION_BENCH_FANOUT_FLOWS flows (default 300,000). Measured in the same run:
// - history: every flow read through one relay's fan-out with GetFlowBatches and --since
//   (what `cillion observe --since` asks; no local scope), against the same flows read as
//   the three relays' local-scope answers one after another (what the fan-out merges), and
//   beside it the three read at once (as the fan-out asks them: what its merge adds);
// - ServerStatus through the fan-out with all peers up, with one peer frozen (SIGSTOP: it
//   holds its connections and never answers, the worst case the peer timeout bounds) and
//   with it killed (SIGKILL: the connection is refused), against --peer-timeout.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, type Client } from '@grpc/grpc-js';
import { GetFlowsRequest, ObserverClient, ServerStatusRequest, type ServerStatusResponse } from '../proto/gen/observer/observer';
import { FlowHistoryService } from '../proto/gen/observer/v1/flow_history';
import { nsTimestamp } from '../observer/time';
import { localScope } from '../relay/peers/scope';
import { freePort, Proc } from '../test/e2e/procs';
import { TOPOLOGY } from './relay/corpus';
import { writeFences } from './relay/fences';
import { startCollector, type Collector } from './relay';
import { cpuSeconds } from './relay/procstat';
import { batchUuids } from './relay/uuid_reader';
import { fmt, median, type Result } from './report';

const RELAYS = 3;
const PEER_TIMEOUT_MS = 2000;
const BATCH_FLOWS = 16_384;
const BACKLOG_FLOWS = 100_000;
const STATUS_SAMPLES = 5;
const FROZEN_SAMPLES = 3;
const READ_ROUNDS = 2;
const GET_FLOW_BATCHES = FlowHistoryService.getFlowBatches.path;

export function fanoutFlows(): number {
  const raw = process.env.CILLION_BENCH_FANOUT_FLOWS;
  const n = raw === undefined || raw === '' ? 300_000 : Number(raw);
  if (!Number.isSafeInteger(n) || n < RELAYS) throw new Error(`CILLION_BENCH_FANOUT_FLOWS=${raw}: a whole number of at least ${RELAYS}`);
  return n;
}

interface Read {
  flows: number;
  ms: number;
  /** CPU seconds of the relay asked (the fan-out's) and of all three relays meanwhile. */
  askedCpu: number;
  allCpu: number;
}

/** Every flow since `sinceMs` through GetFlowBatches, each uuid added to `uuids`. */
function readSince(client: Client, sinceMs: number, md: Metadata, uuids: Set<string>): Promise<{ flows: number; ms: number }> {
  const start = performance.now();
  const request = GetFlowsRequest.fromPartial({ since: nsTimestamp(BigInt(sinceMs) * 1_000_000n) });
  const serialize = (r: GetFlowsRequest) => Buffer.from(GetFlowsRequest.encode(r).finish());
  let flows = 0;
  return new Promise((resolve, reject) => {
    const stream = client.makeServerStreamRequest(GET_FLOW_BATCHES, serialize, (b: Buffer) => b, request, md);
    stream.on('data', (b: Buffer) => {
      for (const u of batchUuids(b)) {
        flows++;
        uuids.add(u);
      }
    });
    stream.on('error', reject);
    stream.on('end', () => resolve({ flows, ms: performance.now() - start }));
  });
}

function status(client: ObserverClient, md = new Metadata()): Promise<{ s: ServerStatusResponse; ms: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) =>
    client.serverStatus(ServerStatusRequest.fromPartial({}), md, { deadline: Date.now() + 30_000 }, (e, s) => (e ? reject(e) : resolve({ s, ms: performance.now() - start }))),
  );
}

async function statusMedian(client: ObserverClient, n: number, unavailable: number): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const { s, ms: t } = await status(client);
    // The collectors have gone, so their nodes are unavailable too; peers are "relay/<name>".
    const peers = s.unavailableNodes.filter((n) => n.startsWith('relay/'));
    if (peers.length !== unavailable) throw new Error(`ServerStatus through the fan-out reports ${peers.length} peers unavailable, expected ${unavailable}: ${peers.join(', ')}`);
    ms.push(t);
  }
  return median(ms);
}

export async function fanoutBench(total = fanoutFlows()): Promise<Result[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cillion-bench-fanout-'));
  const relays: Proc[] = [];
  const clients: ObserverClient[] = [];
  const collectors: Collector[] = [];
  try {
    const resources = join(dir, 'resources');
    mkdirSync(resources);
    writeFences(resources);
    const names = Array.from({ length: RELAYS }, (_, i) => `relay-${i + 1}`);
    const ports: number[] = [];
    for (let i = 0; i < RELAYS; i++) ports.push(await freePort());
    const address = (i: number): string => `127.0.0.1:${ports[i]}`;
    names.forEach((name, i) => {
      relays.push(new Proc(name, [
        'relay', '--no-ui', '--name', name, '--listen', address(i), '--metrics', '', '--data-dir', join(dir, name),
        '--resources', resources, '--topology', TOPOLOGY, '--query-timeout-ms', '600000',
        '--peer-timeout', String(PEER_TIMEOUT_MS),
        ...names.flatMap((peer, j) => (j === i ? [] : ['--peer', `${peer}=${address(j)}`])),
      ]));
    });
    await Promise.all(relays.map((r) => r.waitFor(/serving Observer and FlowExport on/, 60_000)));
    for (let i = 0; i < RELAYS; i++) clients.push(new ObserverClient(address(i), credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 }));

    // Each relay its own node's third, every node a different slice of the fleet's pods.
    const sinceMs = Date.now() - 3_600_000;
    const share = Math.ceil(total / RELAYS);
    for (let i = 0; i < RELAYS; i++) {
      const flows = Math.min(share, total - i * share);
      collectors.push(startCollector({ address: address(i), nodeName: `fan-node-${i + 1}`, node: i, nodes: RELAYS, seed: 2000 + i, flows, batchFlows: BATCH_FLOWS, backlogFlows: BACKLOG_FLOWS }));
    }
    await Promise.all(collectors.map((c) => c.ready));
    for (const c of collectors) c.child.send('go');
    const done = await Promise.all(collectors.map((c) => c.done));
    const rejected = done.reduce((n, d) => n + d.rejected, 0);
    if (rejected > 0) throw new Error(`the relays rejected ${rejected} flows of the corpus`);
    const deadline = Date.now() + 120_000;
    for (let i = 0; i < RELAYS; i++) {
      const want = Math.min(share, total - i * share);
      for (let n = 0; n < want;) {
        if (Date.now() > deadline) throw new Error(`${names[i]} stores ${n} of ${want} flows after 120 s`);
        n = Number((await status(clients[i], localScope())).s.numFlows);
        if (n < want) await new Promise((r) => setTimeout(r, 250));
      }
    }

    const pids = relays.map((r) => r.child.pid!);
    const measure = async (read: () => Promise<number>): Promise<Read> => {
      const asked0 = cpuSeconds(pids[0]);
      const all0 = pids.reduce((n, p) => n + cpuSeconds(p), 0);
      const start = performance.now();
      const flows = await read();
      return { flows, ms: performance.now() - start, askedCpu: cpuSeconds(pids[0]) - asked0, allCpu: pids.reduce((n, p) => n + cpuSeconds(p), 0) - all0 };
    };
    // Each way is read in two rounds and its faster kept: the engines' merges after the
    // inserts slow whatever is read first, whichever way that is.
    const ways: Record<'direct' | 'atOnce' | 'fan', (uuids: Set<string>) => Promise<number>> = {
      direct: async (uuids) => {
        let n = 0;
        for (const c of clients) n += (await readSince(c, sinceMs, localScope(), uuids)).flows;
        return n;
      },
      // The fan-out asks its peers at once: the same three reads at once is what its merge adds to.
      atOnce: async (uuids) => (await Promise.all(clients.map((c) => readSince(c, sinceMs, localScope(), uuids)))).reduce((n, r) => n + r.flows, 0),
      fan: async (uuids) => (await readSince(clients[0], sinceMs, new Metadata(), uuids)).flows,
    };
    const best = new Map<string, Read>();
    for (let round = 0; round < READ_ROUNDS; round++) {
      for (const [what, read] of Object.entries(ways)) {
        const uuids = new Set<string>();
        const r = await measure(() => read(uuids));
        if (r.flows !== total || uuids.size !== total) throw new Error(`${what} read gave ${r.flows} flows (${uuids.size} distinct uuids) of ${total} stored`);
        if (!best.has(what) || r.ms < best.get(what)!.ms) best.set(what, r);
      }
    }
    const [direct, atOnce, fan] = (['direct', 'atOnce', 'fan'] as const).map((w) => best.get(w)!);

    const healthyMs = await statusMedian(clients[0], STATUS_SAMPLES, 0);
    const frozen = relays[RELAYS - 1].child;
    frozen.kill('SIGSTOP');
    const frozenMs = await statusMedian(clients[0], FROZEN_SAMPLES, 1);
    const gone = new Promise((resolve) => frozen.once('exit', resolve));
    frozen.kill('SIGKILL');
    await gone;
    const killedMs = await statusMedian(clients[0], STATUS_SAMPLES, 1);

    const rate = (r: Read): number => r.flows / (r.ms / 1000);
    const cpuUs = (r: Read, cpu: number): string => fmt((cpu * 1e6) / r.flows, 1);
    const flowsText = total.toLocaleString('en-US');
    return [
      {
        what: `relay fan-out history: all ${flowsText} flows of 3 relays (own embedded stores, plaintext loopback) through one relay's fan-out (GetFlowBatches --since, every uuid once; faster of 2 rounds) vs the 3 relays' local-scope answers read one after another`,
        figures: `${fmt(rate(fan))} flows/s through the fan-out (${fmt(fan.ms / 1000, 1)} s; relay asked ${cpuUs(fan, fan.askedCpu)} us CPU per flow, all relays ${cpuUs(fan, fan.allCpu)} us) vs ${fmt(rate(direct))} flows/s direct (${fmt(direct.ms / 1000, 1)} s; all relays ${cpuUs(direct, direct.allCpu)} us CPU per flow) [the three read at once ${fmt(rate(atOnce))} flows/s; fan-out ${fmt(rate(fan) / rate(atOnce), 2)}x that]`,
        ratio: `${fmt(rate(fan) / rate(direct), 2)}x direct`,
        target: 'reported',
        met: true,
      },
      {
        what: `relay fan-out ServerStatus, median, with all peers up, one peer frozen (SIGSTOP: never answers) and killed (SIGKILL: refused), vs --peer-timeout ${PEER_TIMEOUT_MS} ms`,
        figures: `${fmt(healthyMs, 1)} ms all up; ${fmt(frozenMs)} ms frozen; ${fmt(killedMs, 1)} ms killed (the dead peer reported unavailable each time)`,
        ratio: `frozen ${fmt(frozenMs / PEER_TIMEOUT_MS, 2)}x the timeout`,
        target: 'at most 1.1x the timeout',
        met: frozenMs <= PEER_TIMEOUT_MS * 1.1 && killedMs <= PEER_TIMEOUT_MS * 1.1,
      },
    ];
  } finally {
    for (const c of collectors) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    for (const c of clients) c.close();
    for (const r of relays) {
      if (r.child.exitCode !== null || r.child.signalCode !== null) continue;
      r.child.kill('SIGCONT');
      await r.stop();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
