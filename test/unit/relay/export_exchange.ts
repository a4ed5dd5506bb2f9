// One FlowExport stream driven by hand: the messages written at once, the acks collected
// until `want` came or the stream failed. For tests that play a lying or racing collector.
import { credentials, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { FlowExportClient, type ExportAck, type FlowBatch } from '../../../proto/gen/export/v1/export';

export function exchange(address: string, msgs: FlowBatch[], want = msgs.length, metadata?: Metadata): Promise<{ acks: ExportAck[]; error?: ServiceError }> {
  const client = new FlowExportClient(address, credentials.createInsecure());
  const call = metadata ? client.export(metadata) : client.export();
  const acks: ExportAck[] = [];
  return new Promise((resolve) => {
    const done = (error?: ServiceError): void => {
      call.cancel();
      client.close();
      resolve({ acks, error });
    };
    call.on('data', (a: ExportAck) => {
      acks.push(a);
      if (acks.length === want) done();
    });
    call.on('error', (e: ServiceError) => done(e));
    for (const m of msgs) call.write(m);
  });
}
