// The node's own Observer API on a unix socket, so `cillion observe --node` reads this
// node's flows without a relay. It serves the flows the collector judged, from memory:
// no store behind it, and no nodes to list but this one's flows.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { FlowHistoryServiceDefinition, ObserverServiceDefinition } from '../observer/service_definition';
import type { ExportCounters, FlowTableGauge } from '../proto/gen/export/v1/export';
import { NodeBook } from '../observer/nodes';
import type { FlowHub } from '../observer/hub';
import { flowHistoryService, observerService, type ObserverDeps } from '../observer/service';
import { nowNs } from '../observer/time';

export interface LocalObserver {
  readonly socket: string;
  close(): Promise<void>;
}

export interface LocalObserverOptions {
  socket: string;
  hub: FlowHub;
  version: string;
  log: (m: string) => void;
  /** This node's loss counters, for ServerStatus. */
  counters?: () => ExportCounters;
  /** This node's flow table, for ServerStatus. */
  flowTable?: () => FlowTableGauge;
}

export async function serveLocalObserver(opts: LocalObserverOptions): Promise<LocalObserver> {
  const startedAt = nowNs();
  mkdirSync(dirname(opts.socket), { recursive: true });
  // A socket file left by a process that died would refuse the bind.
  rmSync(opts.socket, { force: true });
  const server = new Server();
  const deps: ObserverDeps = {
    hub: opts.hub,
    nodes: new NodeBook(),
    status: () => ({ version: opts.version, uptimeNs: nowNs() - startedAt, counters: opts.counters?.(), flowTable: opts.flowTable && { ...opts.flowTable(), nodes: 1 } }),
    onError: (err, method) => opts.log(`local observer ${method}: ${err.message}`),
  };
  server.addService(ObserverServiceDefinition, observerService(deps));
  server.addService(FlowHistoryServiceDefinition, flowHistoryService(deps));
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${opts.socket}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  return {
    socket: opts.socket,
    close: async () => {
      opts.hub.closeFollowers();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), 1000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      rmSync(opts.socket, { force: true });
    },
  };
}
