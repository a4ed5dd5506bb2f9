// observer.Observer, served by the relay (hub + store + the collectors' nodes) and by each
// collector on its local socket (hub only). Bad requests get INVALID_ARGUMENT and the
// server carries on. Losses go into ServerStatus's lost_flows, a field Hubble clients skip.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type {
  FingerprintMismatches,
  GetNamespacesResponse,
  GetNodesResponse,
  LostFlows,
  Namespace,
  ObserverServer,
  ServerStatusResponse,
} from '../proto/gen/observer/observer';
import { LostEventSource } from '../proto/gen/flow/flow';
import { NodeState } from '../proto/gen/relay/relay';
import type { NodeBook } from './nodes';
import type { FlowHistory } from './history';
import { getFlows, RequestError, type GetFlowsOptions } from './get_flows';
import type { FlowHub } from './hub';

export interface StatusFigures {
  version: string;
  uptimeNs: bigint;
  /** Per node, flows whose sent path fingerprint disagreed with the computed one (a relay only). */
  fingerprintMismatches?: FingerprintMismatches[];
}

export interface ObserverDeps {
  hub: FlowHub;
  store?: FlowHistory;
  nodes: NodeBook;
  status: () => StatusFigures;
  getFlows?: GetFlowsOptions;
  /** Unexpected failures (store errors), for the log. */
  onError?: (err: Error, method: string) => void;
}

function serviceError(code: status, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

function nsSince(ms: number): bigint {
  return ms > 0 ? BigInt(Math.max(0, Date.now() - ms)) * 1_000_000n : 0n;
}

function lostFlows(nodes: NodeBook, hub: FlowHub): LostFlows[] {
  const t = nodes.totals();
  return [
    { source: LostEventSource.PERF_EVENT_RING_BUFFER, reason: 'ring_reserve_failures', count: t.ringReserveFailures },
    { source: LostEventSource.UNKNOWN_LOST_EVENT_SOURCE, reason: 'decode_errors', count: t.decodeErrors },
    { source: LostEventSource.OBSERVER_EVENTS_QUEUE, reason: 'export_drops', count: t.exportDrops },
    { source: LostEventSource.HUBBLE_RING_BUFFER, reason: 'follower_queue', count: hub.followerLost },
  ];
}

export function observerService(deps: ObserverDeps): ObserverServer {
  const { hub, store, nodes } = deps;
  const unimplemented = (what: string) => serviceError(status.UNIMPLEMENTED, `${what} is not provided by Cillion`);

  return {
    getFlows(call) {
      getFlows(call, hub, store, deps.getFlows).then(
        () => {
          if (!call.cancelled) call.end();
        },
        (e: unknown) => {
          if (call.cancelled) return;
          if (e instanceof RequestError) {
            call.emit('error', serviceError(e.code, e.message));
            return;
          }
          deps.onError?.(e as Error, 'GetFlows');
          call.emit('error', serviceError(status.UNAVAILABLE, `reading flows: ${(e as Error).message}`));
        },
      );
    },

    getAgentEvents(call) {
      call.emit('error', unimplemented('GetAgentEvents'));
    },

    getDebugEvents(call) {
      call.emit('error', unimplemented('GetDebugEvents'));
    },

    getNodes(_call, callback) {
      const res: GetNodesResponse = {
        nodes: nodes.list().map((n) => ({
          name: n.name,
          version: n.version,
          address: n.address,
          state: n.state,
          tls: { enabled: n.tls.enabled, serverName: n.tls.serverName },
          uptimeNs: n.state === NodeState.NODE_CONNECTED ? nsSince(n.connectedSince) : 0n,
          numFlows: n.storedFlows,
          maxFlows: 0n,
          seenFlows: n.counters.flowsExported + n.counters.exportDrops,
        })),
      };
      callback(null, res);
    },

    getNamespaces(_call, callback) {
      // From the flows in the ring: what was active recently, as Hubble answers it.
      const seen = new Map<string, Namespace>();
      for (const f of hub.recent()) {
        for (const ep of [f.source, f.destination]) {
          if (!ep || ep.namespace === '') continue;
          const key = `${ep.clusterName}/${ep.namespace}`;
          if (!seen.has(key)) seen.set(key, { cluster: ep.clusterName, namespace: ep.namespace });
        }
      }
      const res: GetNamespacesResponse = {
        namespaces: [...seen.values()].sort((a, b) => a.cluster.localeCompare(b.cluster) || a.namespace.localeCompare(b.namespace)),
      };
      callback(null, res);
    },

    serverStatus(_call, callback) {
      void (async () => {
        const figures = deps.status();
        const list = nodes.list();
        const unavailable = list.filter((n) => n.state !== NodeState.NODE_CONNECTED).map((n) => n.name);
        const res: ServerStatusResponse = {
          // With a store every stored flow is available and there is no fixed maximum.
          numFlows: store ? await store.count() : BigInt(hub.size),
          maxFlows: store ? 0n : BigInt(hub.capacity),
          seenFlows: hub.seen,
          uptimeNs: figures.uptimeNs,
          numConnectedNodes: list.length - unavailable.length,
          numUnavailableNodes: unavailable.length,
          unavailableNodes: unavailable,
          version: figures.version,
          flowsRate: hub.flowsRate(),
          lostFlows: lostFlows(nodes, hub),
          fingerprintMismatches: figures.fingerprintMismatches ?? [],
        };
        callback(null, res);
      })().catch((e: unknown) => {
        deps.onError?.(e as Error, 'ServerStatus');
        callback(serviceError(status.UNAVAILABLE, `server status: ${(e as Error).message}`));
      });
    },
  };
}
