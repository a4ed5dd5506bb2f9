// A bare collector stand-in for the relay tests: one export stream, batches written by
// hand, acknowledgements collected.
import { ChannelCredentials, credentials, Metadata, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { FlowExportClient, type ExportAck, type ExportCounters, type FlowBatch, type FlowTableGauge } from '../../../proto/gen/export/v1/export';
import type { Flow } from '../../../proto/gen/flow/flow';
import { zeroCounters } from '../../../observer/nodes';

export class FakeCollector {
  readonly acks: bigint[] = [];
  private readonly client: FlowExportClient;
  private readonly call: ClientDuplexStream<FlowBatch, ExportAck>;
  readonly ended: Promise<void>;
  /** Callers of acked() still waiting, each woken by the acknowledgement that covers it. */
  private readonly waiting = new Set<{ sequence: bigint; done: (err?: Error) => void }>();
  /** The status the stream ended with, when it was an error. */
  error: ServiceError | undefined;
  private sequence = 0n;
  /** The flow table every following batch reports, as a collector's exporter does. */
  flowTable: FlowTableGauge | undefined;
  private over = false;

  constructor(
    address: string,
    readonly nodeName: string,
    readonly sessionId = `${nodeName}-session`,
    creds: ChannelCredentials = credentials.createInsecure(),
    readonly clusterName = 'c1',
  ) {
    this.client = new FlowExportClient(address, creds);
    const md = new Metadata();
    md.set('cillion-version', '1.2.3');
    this.call = this.client.export(md);
    this.call.on('data', (a: ExportAck) => {
      this.acks.push(a.ackedSequence);
      for (const w of this.waiting) if (a.ackedSequence >= w.sequence) w.done();
    });
    this.ended = new Promise((resolve) => {
      this.call.on('error', (e: ServiceError) => {
        this.error = e;
        resolve();
      });
      this.call.on('status', () => resolve());
    });
    void this.ended.then(() => {
      this.over = true;
      for (const w of this.waiting) w.done(new Error(`${this.nodeName}: stream ended before batch ${w.sequence} was acknowledged (${this.error?.message ?? 'no error'})`));
    });
  }

  send(flows: Flow[], counters?: Partial<ExportCounters>): bigint {
    return this.sendAt(flows.length > 0 ? ++this.sequence : 0n, flows, counters);
  }

  /** A batch with a sequence of the caller's choosing, and optionally another node's name: a lying client. */
  sendAt(sequence: bigint, flows: Flow[], counters?: Partial<ExportCounters>, nodeName = this.nodeName): bigint {
    this.call.write({
      nodeName,
      clusterName: this.clusterName,
      sessionId: this.sessionId,
      sequence,
      flows,
      counters: { ...zeroCounters(), ...counters },
      sentAt: undefined,
      columns: undefined,
      handover: undefined,
      retraction: undefined,
      flowTable: this.flowTable,
    });
    return sequence;
  }

  /** Resolves on the acknowledgement that covers `sequence`: woken by it, not by polling, so many waiters cost nothing while they wait. */
  acked(sequence: bigint, ms = 15_000): Promise<void> {
    if (this.acks.some((a) => a >= sequence)) return Promise.resolve();
    if (this.over) return Promise.reject(new Error(`${this.nodeName}: stream ended before batch ${sequence} was acknowledged (${this.error?.message ?? 'no error'})`));
    return new Promise((resolve, reject) => {
      const w = {
        sequence,
        done: (err?: Error): void => {
          clearTimeout(timer);
          this.waiting.delete(w);
          if (err) reject(err);
          else resolve();
        },
      };
      const timer = setTimeout(() => w.done(new Error(`${this.nodeName}: batch ${sequence} not acknowledged within ${ms} ms (acks ${this.acks.join(',')})`)), ms);
      this.waiting.add(w);
    });
  }

  async close(): Promise<void> {
    this.call.end();
    await this.ended;
    this.client.close();
  }
}
