// One synthetic collector of the relay bench, a process of its own (forked by bench/relay.ts)
// so that senders and relay each get their own event loop. It builds its share of the
// corpus, encodes every batch before the clock starts, then on "go" streams them to the
// relay as the agent's exporter would (batches of the agent's size, numbered 1, 2, 3...,
// never more unacknowledged flows than the agent's default backlog) and reports when the
// last batch is acknowledged. Sending is a write of bytes encoded in advance, so the
// senders cost the shared cores as little as a sender can.
import { randomUUID } from 'node:crypto';
import { makeGenericClientConstructor, type ClientDuplexStream } from '@grpc/grpc-js';
import { ColumnEncoder } from '../../columns/encode';
import { DEFAULT_MAX_BATCH_BYTES } from '../../collector/exporter';
import { ExportAck, FlowBatch, FlowExportService } from '../../proto/gen/export/v1/export';
import { connection } from '../../cli/observe/client_tls';
import { CLUSTER, flows, paths, pods } from './corpus';

export interface CollectorConfig {
  address: string;
  /** Mutual TLS with these; without them plaintext (a relay on loopback without --tls-*). */
  ca?: string;
  cert?: string;
  key?: string;
  serverName?: string;
  nodeName: string;
  /** This collector's number among `nodes`: its node hosts that slice of the fleet's pods. */
  node: number;
  nodes: number;
  seed: number;
  flows: number;
  batchFlows: number;
  /** Unacknowledged flows at most, as the agent's --export-buffer. */
  backlogFlows: number;
}

export type CollectorMessage =
  | { kind: 'ready'; batches: number; wireBytes: number }
  | { kind: 'done'; flows: number; firstSentMs: number; lastAckMs: number; rejected: number; maxAckLagMs: number; cpuSeconds: number }
  | { kind: 'failed'; error: string };

const send = (m: CollectorMessage): void => {
  process.send?.(m);
};

/** Export with the request already encoded: the bytes go out as they are. */
const RawExport = makeGenericClientConstructor(
  { export: { ...FlowExportService.export, requestSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => ExportAck.decode(b) } },
  'FlowExport',
);

/** The agent's batch bound, less room for the batch's header. */
const MAX_FLOW_BYTES = DEFAULT_MAX_BATCH_BYTES - 4096;

function encode(cfg: CollectorConfig): { batches: Buffer[]; sizes: number[] } {
  const fleet = pods();
  const share = Math.ceil(fleet.length / cfg.nodes);
  const corpus = flows(cfg.flows, cfg.seed, cfg.nodeName, fleet, fleet.slice(cfg.node * share, (cfg.node + 1) * share), paths());
  const sessionId = randomUUID();
  const batches: Buffer[] = [];
  const sizes: number[] = [];
  // Cut as the agent's exporter cuts them: at batchFlows flows or 1 MiB encoded.
  let encoder = new ColumnEncoder(cfg.batchFlows);
  let seq = 1n;
  const seal = (): void => {
    if (encoder.count === 0) return;
    batches.push(Buffer.from(FlowBatch.encode(FlowBatch.fromPartial({ nodeName: cfg.nodeName, clusterName: CLUSTER, sessionId, sequence: seq++, columns: encoder.finish() })).finish()));
    sizes.push(encoder.count);
    encoder = new ColumnEncoder(cfg.batchFlows);
  };
  for (const f of corpus) {
    let r = encoder.add(f, MAX_FLOW_BYTES);
    if (r === 'full') {
      seal();
      r = encoder.add(f, MAX_FLOW_BYTES);
    }
    if (r !== 'added') throw new Error(`corpus flow not encodable: ${r === 'full' ? 'full' : r.reason}`);
    if (encoder.count === cfg.batchFlows) seal();
  }
  seal();
  return { batches, sizes };
}

async function stream(cfg: CollectorConfig, batches: Buffer[], sizes: number[]): Promise<CollectorMessage> {
  const conn = cfg.ca === undefined
    ? connection(cfg.address, { tls: false })
    : connection(cfg.address, { tls: true, tlsCaCertFiles: [cfg.ca], tlsClientCertFile: cfg.cert, tlsClientKeyFile: cfg.key, tlsServerName: cfg.serverName });
  const client = new RawExport(conn.address, conn.credentials, { ...conn.options, 'grpc.max_send_message_length': -1 });
  const call = (client as unknown as { export(): ClientDuplexStream<Buffer, ExportAck> }).export();
  const sentAt: number[] = [];
  let next = 0;
  let acked = 0;
  let unackedFlows = 0;
  let rejected = 0;
  let maxAckLagMs = 0;
  const firstSentMs = Date.now();
  const cpu = process.cpuUsage();
  return new Promise<CollectorMessage>((resolve) => {
    const finish = (m: CollectorMessage): void => {
      call.end();
      client.close();
      resolve(m);
    };
    let draining = false;
    const pump = (): void => {
      if (draining) return;
      while (next < batches.length && unackedFlows + sizes[next] <= cfg.backlogFlows) {
        unackedFlows += sizes[next];
        sentAt.push(Date.now());
        if (!call.write(batches[next++])) {
          draining = true;
          call.once('drain', () => {
            draining = false;
            pump();
          });
          return;
        }
      }
    };
    call.on('data', (ack: ExportAck) => {
      const n = Number(ack.ackedSequence);
      const now = Date.now();
      while (acked < n) {
        unackedFlows -= sizes[acked];
        maxAckLagMs = Math.max(maxAckLagMs, now - sentAt[acked]);
        acked++;
      }
      rejected += Number(ack.rejectedFlows);
      if (acked === batches.length) {
        const used = process.cpuUsage(cpu);
        finish({ kind: 'done', flows: sizes.reduce((a, b) => a + b, 0), firstSentMs, lastAckMs: now, rejected, maxAckLagMs, cpuSeconds: (used.user + used.system) / 1e6 });
      }
      else pump();
    });
    call.on('error', (e: Error) => finish({ kind: 'failed', error: `export stream: ${e.message}` }));
    pump();
  });
}

function main(): void {
  const cfg = JSON.parse(process.env.CILLION_BENCH_COLLECTOR ?? '') as CollectorConfig;
  const { batches, sizes } = encode(cfg);
  send({ kind: 'ready', batches: batches.length, wireBytes: batches.reduce((n, b) => n + b.length, 0) });
  process.once('message', () => {
    stream(cfg, batches, sizes).then(
      (m) => {
        send(m);
        process.disconnect?.();
      },
      (e: Error) => {
        send({ kind: 'failed', error: e.message });
        process.disconnect?.();
      },
    );
  });
}

main();
