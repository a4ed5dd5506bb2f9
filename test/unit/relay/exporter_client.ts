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
  /** The status the stream ended with, when it was an error. */
  error: ServiceError | undefined;
  private sequence = 0n;
  /** The flow table every following batch reports, as a collector's exporter does. */
  flowTable: FlowTableGauge | undefined;

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
    this.call.on('data', (a: ExportAck) => this.acks.push(a.ackedSequence));
    this.ended = new Promise((resolve) => {
      this.call.on('error', (e: ServiceError) => {
        this.error = e;
        resolve();
      });
      this.call.on('status', () => resolve());
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

  async acked(sequence: bigint, ms = 15000): Promise<void> {
    const end = Date.now() + ms;
    while (!this.acks.some((a) => a >= sequence)) {
      if (Date.now() > end) throw new Error(`${this.nodeName}: batch ${sequence} not acknowledged (acks ${this.acks.join(',')})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    this.call.end();
    await this.ended;
    this.client.close();
  }
}
