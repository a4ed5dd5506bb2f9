// Relays that answer together, for the fan-out tests: in-process startRelay over loopback
// gRPC, peers named and addressed as `cillion relay --peer` gives them, plus a "peer" that
// takes TCP connections and never answers.
import { credentials, type ClientReadableStream } from '@grpc/grpc-js';
import { createServer, type Server, type Socket } from 'node:net';
import { GetFlowsRequest, ObserverClient, type GetFlowsResponse } from '../../../../proto/gen/observer/observer';
import { FlowHistoryClient, type GetFlowBatchesResponse } from '../../../../proto/gen/observer/v1/flow_history';
import { localScope } from '../../../../relay/peers/scope';
import { startRelay, type Relay, type RelayOptions } from '../../../../relay/server';
import type { PeerOptions, PeerTarget } from '../../../../relay/peers/options';

/** A free loopback port, for relays that must know each other's address before they start. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Accepts connections and never says a word: a stalled or wedged peer. */
export async function silentPeer(): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as { port: number }).port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function relayWithPeers(listen: string, name: string, targets: PeerTarget[], over: Partial<RelayOptions> = {}, peer: Partial<PeerOptions> = {}): Promise<Relay> {
  return startRelay({
    listen,
    name,
    mergeWindowMs: 50,
    shutdownGraceMs: 200,
    ...over,
    peers: { targets, credentials: credentials.createInsecure(), timeoutMs: 2000, sharedStore: false, ...peer },
  });
}

export function observer(address: string): ObserverClient {
  return new ObserverClient(address, credentials.createInsecure());
}

export function flowsOf(rs: GetFlowsResponse[]): { uuid: string; node: string; timeNs: bigint }[] {
  return rs.flatMap((r) => {
    const t = r.responseTypes;
    if (t?.$case !== 'flow') return [];
    const time = t.value.time;
    return [{ uuid: t.value.uuid, node: t.value.nodeName, timeNs: time ? time.seconds * 1_000_000_000n + BigInt(time.nanos) : 0n }];
  });
}

export function statusEventsOf(rs: GetFlowsResponse[]): { state: number; names: string[] }[] {
  return rs.flatMap((r) => (r.responseTypes?.$case === 'nodeStatus' ? [{ state: r.responseTypes.value.stateChange, names: r.responseTypes.value.nodeNames }] : []));
}

/** GetFlowBatches' responses, flattened; in the local scope when asked. */
export function readBatches(address: string, req: Partial<GetFlowsRequest>, local = false): Promise<GetFlowsResponse[]> {
  const client = new FlowHistoryClient(address, credentials.createInsecure());
  const call: ClientReadableStream<GetFlowBatchesResponse> = local ? client.getFlowBatches(GetFlowsRequest.fromPartial(req), localScope()) : client.getFlowBatches(GetFlowsRequest.fromPartial(req));
  return new Promise((resolve, reject) => {
    const out: GetFlowsResponse[] = [];
    call.on('data', (b: GetFlowBatchesResponse) => out.push(...b.responses));
    call.on('error', (e) => {
      client.close();
      reject(e);
    });
    call.on('end', () => {
      client.close();
      resolve(out);
    });
  });
}

export async function waitFor(what: string, ok: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
