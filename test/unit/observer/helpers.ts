import { createHash } from 'node:crypto';
// Shared by the Observer tests: flows with known times and uuids, an Observer served on a
// loopback port, and stream readers.
import { credentials, Server, ServerCredentials, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { Flow, Verdict } from '../../../proto/gen/flow/flow';
import {
  GetFlowsRequest,
  ObserverClient,
  ServerStatusRequest,
  type GetFlowsResponse,
  type ServerStatusResponse,
} from '../../../proto/gen/observer/observer';
import { flowHistoryService, observerService, type ObserverDeps } from '../../../observer/service';
import { FlowHistoryServiceDefinition, ObserverServiceDefinition } from '../../../observer/service_definition';

/** 2026-01-01T00:00:00Z in ns; flow i is captured i ms and i ns later, so ns precision shows. */
export const T0_NS = 1_767_225_600_000_000_000n;

export function flowTimeNs(i: number): bigint {
  return T0_NS + BigInt(i) * 1_000_000n + BigInt(i);
}

/** Labels of the uuids uuidFor made, so a test can name flows and still send real UUIDs. */
const labels = new Map<string, string>();

/** A UUID made from a label, the same for the same label (the relay stores only real UUIDs). */
export function uuidFor(label: string): string {
  const h = createHash('sha256').update(label).digest('hex');
  const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  labels.set(uuid, label);
  return uuid;
}

/** The label a uuid was made from by uuidFor; the uuid itself when it was not. */
export const labelOf = (uuid: string): string => labels.get(uuid) ?? uuid;

export function makeFlow(i: number, over: Partial<Flow> = {}): Flow {
  const ns = flowTimeNs(i);
  return Flow.fromPartial({
    time: { seconds: ns / 1_000_000_000n, nanos: Number(ns % 1_000_000_000n) },
    uuid: `00000000-0000-4000-8000-${i.toString().padStart(12, '0')}`,
    verdict: i % 5 === 0 ? Verdict.DROPPED : Verdict.FORWARDED,
    nodeName: i % 2 === 0 ? 'node-a' : 'node-b',
    IP: { source: `10.0.0.${(i % 200) + 1}`, destination: '10.1.0.1', ipVersion: 1 },
    source: { namespace: i % 3 === 0 ? 'shop' : 'bank', podName: `pod-${i}`, labels: ['k8s:app=web'], clusterName: 'c1' },
    destination: { namespace: 'db', podName: 'db-0', labels: ['k8s:app=db'], clusterName: 'c1' },
    ...over,
  });
}

export interface Served {
  client: ObserverClient;
  address: string;
  close(): Promise<void>;
}

export async function serveObserver(deps: ObserverDeps): Promise<Served> {
  const server = new Server();
  server.addService(ObserverServiceDefinition, observerService(deps));
  server.addService(FlowHistoryServiceDefinition, flowHistoryService(deps));
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  const address = `127.0.0.1:${port}`;
  const client = new ObserverClient(address, credentials.createInsecure());
  return {
    client,
    address,
    close: async () => {
      client.close();
      deps.hub.closeFollowers();
      await new Promise<void>((res) => server.tryShutdown(() => res()));
    },
  };
}

/** All responses of a stream that ends by itself; rejects with the stream's error. */
export function readAll(stream: ClientReadableStream<GetFlowsResponse>): Promise<GetFlowsResponse[]> {
  return new Promise((resolve, reject) => {
    const out: GetFlowsResponse[] = [];
    stream.on('data', (r: GetFlowsResponse) => out.push(r));
    stream.on('error', reject);
    stream.on('end', () => resolve(out));
  });
}

export function getFlows(client: ObserverClient, req: Partial<GetFlowsRequest>): ClientReadableStream<GetFlowsResponse> {
  return client.getFlows(GetFlowsRequest.fromPartial(req));
}

export function uuidsOf(rs: GetFlowsResponse[]): string[] {
  return rs.flatMap((r) => (r.responseTypes?.$case === 'flow' ? [r.responseTypes.value.uuid] : []));
}

export function uuidOf(i: number): string {
  return makeFlow(i).uuid;
}

/** Collects a following stream's responses until `until` says enough, then cancels it. */
export function follow(
  stream: ClientReadableStream<GetFlowsResponse>,
  until: (got: GetFlowsResponse[]) => boolean,
  timeoutMs = 10_000,
): Promise<GetFlowsResponse[]> {
  return new Promise((resolve, reject) => {
    const out: GetFlowsResponse[] = [];
    const timer = setTimeout(() => {
      stream.cancel();
      reject(new Error(`follow timed out with ${out.length} responses`));
    }, timeoutMs);
    stream.on('data', (r: GetFlowsResponse) => {
      out.push(r);
      if (until(out)) {
        clearTimeout(timer);
        stream.cancel();
        resolve(out);
      }
    });
    stream.on('error', (e: ServiceError) => {
      if (e.code === 1) return; // CANCELLED, by us
      clearTimeout(timer);
      reject(e);
    });
  });
}

export function serverStatus(client: ObserverClient): Promise<{ res: ServerStatusResponse }> {
  return new Promise((resolve, reject) => {
    client.serverStatus(ServerStatusRequest.fromPartial({}), (err, res) => (err ? reject(err) : resolve({ res: res as ServerStatusResponse })));
  });
}
