// The load test's collectors, a process of their own (forked by load.test.ts) so that making
// and encoding flows does not share the relay's event loop. Every TICK_MS it builds the demo
// flows of that tick at the asked rate, as columns (what the agent's exporter sends), one
// batch per node, and writes them on that node's export stream, for the asked time. A tick
// finding more than MAX_UNACKED flows unacknowledged sends nothing (the agent's export
// buffer is bounded too): when the relay does not keep up the test sees fewer flows sent
// than asked. It reports what it sent, when, and the largest backlog it had.
import { credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { encodeColumns } from '../../columns/encode';
import { FlowBatch, FlowExportClient, type ExportAck } from '../../proto/gen/export/v1/export';
import { zeroCounters } from '../../observer/nodes';
import { DemoTraffic, type NodeFlow } from './demo_flows';

export interface SenderConfig {
  /** The relay's gRPC address, by the name its certificate carries. */
  address: string;
  ca: string;
  nodes: Array<{ node: string; cluster: string; cert: string; key: string }>;
  flowsPerSecond: number;
  seconds: number;
}

export type SenderMessage =
  | { kind: 'ready' }
  | { kind: 'done'; sent: number; acked: number; rejected: number; firstMs: number; lastMs: number; ticksLate: number; ticksSkipped: number; maxUnacked: number; cpuSeconds: number }
  | { kind: 'failed'; error: string };

const TICK_MS = 100;
/** The agent's default --export-buffer: what a collector holds unacknowledged before it sheds. */
const MAX_UNACKED = 100_000;

interface NodeStream {
  call: ClientDuplexStream<FlowBatch, ExportAck>;
  client: FlowExportClient;
  sizes: Map<bigint, number>;
  next: bigint;
}

function open(cfg: SenderConfig, n: SenderConfig['nodes'][number], onAck: (flows: number, rejected: number) => void, onError: (e: Error) => void): NodeStream {
  const client = new FlowExportClient(cfg.address, credentials.createSsl(readFileSync(cfg.ca), readFileSync(n.key), readFileSync(n.cert)));
  const s: NodeStream = { call: client.export(), client, sizes: new Map(), next: 1n };
  s.call.on('data', (a: ExportAck) => {
    let flows = 0;
    for (const [seq, size] of s.sizes) {
      if (seq > a.ackedSequence) break;
      flows += size;
      s.sizes.delete(seq);
    }
    onAck(flows, Number(a.rejectedFlows));
  });
  s.call.on('error', onError);
  return s;
}

function run(cfg: SenderConfig): Promise<SenderMessage> {
  const traffic = new DemoTraffic();
  let sent = 0;
  let acked = 0;
  let rejected = 0;
  let ticksLate = 0;
  let ticksSkipped = 0;
  let maxUnacked = 0;
  let failed: Error | undefined;
  const streams = new Map(cfg.nodes.map((n) => [n.node, open(cfg, n, (f, r) => ((acked += f), (rejected += r)), (e) => (failed ??= e))]));
  const sessions = new Map(cfg.nodes.map((n) => [n.node, `${n.node}-load-${process.pid}`]));
  const cpu = process.cpuUsage();
  const firstMs = Date.now();
  const ticks = Math.round((cfg.seconds * 1000) / TICK_MS);
  const perTick = Math.round((cfg.flowsPerSecond * TICK_MS) / 1000);
  return new Promise((resolve) => {
    const finish = (m: SenderMessage): void => {
      for (const s of streams.values()) {
        s.call.end();
        s.client.close();
      }
      resolve(m);
    };
    const settle = (lastMs: number): void => {
      const deadline = Date.now() + 10_000;
      const wait = setInterval(() => {
        if (acked + rejected < sent && Date.now() < deadline && !failed) return;
        clearInterval(wait);
        const used = process.cpuUsage(cpu);
        finish({ kind: 'done', sent, acked, rejected, firstMs, lastMs, ticksLate, ticksSkipped, maxUnacked, cpuSeconds: (used.user + used.system) / 1e6 });
      }, 20);
    };
    const sendTick = (flows: NodeFlow[]): void => {
      const byNode = new Map<string, NodeFlow[]>();
      for (const f of flows) {
        let list = byNode.get(f.node);
        if (!list) byNode.set(f.node, (list = []));
        list.push(f);
      }
      for (const [node, list] of byNode) {
        const s = streams.get(node);
        if (!s) continue;
        const { columns } = encodeColumns(list.map((f) => f.flow));
        const sequence = s.next++;
        s.sizes.set(sequence, list.length);
        s.call.write(FlowBatch.fromPartial({ nodeName: node, clusterName: list[0].cluster, sessionId: sessions.get(node), sequence, columns, counters: zeroCounters() }));
        sent += list.length;
      }
    };
    let tick = 0;
    const step = (): void => {
      if (failed) return finish({ kind: 'failed', error: failed.message });
      if (tick === ticks) return settle(Date.now());
      const backlog = sent - acked - rejected;
      maxUnacked = Math.max(maxUnacked, backlog);
      if (backlog > MAX_UNACKED) ticksSkipped++;
      else sendTick(traffic.flows(perTick, Date.now(), TICK_MS, tick + 1));
      tick++;
      // Ticks keep to the wall clock: a late tick shortens the next wait instead of shifting the rest.
      const due = firstMs + tick * TICK_MS - Date.now();
      if (due < 0) ticksLate++;
      setTimeout(step, Math.max(0, due));
    };
    process.send?.({ kind: 'ready' } satisfies SenderMessage);
    step();
  });
}

if (require.main === module) {
  const cfg = JSON.parse(process.env.CILLION_WEB_SENDER ?? '') as SenderConfig;
  run(cfg).then(
    (m) => {
      process.send?.(m);
      process.disconnect?.();
    },
    (e: Error) => {
      process.send?.({ kind: 'failed', error: e.message } satisfies SenderMessage);
      process.disconnect?.();
    },
  );
}
