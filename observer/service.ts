// observer.Observer, served by the relay (hub + store + the collectors' nodes) and by each
// collector on its local socket (hub only). Bad requests get INVALID_ARGUMENT and the
// server carries on. Losses go into ServerStatus's lost_flows, a field Hubble clients skip.
// Beside it, cillion.observer.v1.FlowHistory gives GetFlows' answers in batches.
import { Metadata, status, type ServerWritableStream, type ServiceError } from '@grpc/grpc-js';
import type {
  FingerprintMismatches,
  FlowHolder,
  GetNamespacesResponse,
  GetNodesResponse,
  LostFlows,
  LossCounter,
  Namespace,
  ObserverServer,
  ServerStatusResponse,
} from '../proto/gen/observer/observer';
import { LostEventSource } from '../proto/gen/flow/flow';
import { NodeState } from '../proto/gen/relay/relay';
import type { FlowTableTotals, NodeBook } from './nodes';
import type { ExportCounters } from '../proto/gen/export/v1/export';
import { HistoryLimitError, type FlowHistory } from './history';
import { randomBytes } from 'node:crypto';
import { checkRequest, streamFlows, FlowResponseWriter, type GetFlowsOptions, type ResponseSink } from './get_flows';
import { askedFollowQueue } from './follow_queue';
import { RequestError } from './request_error';
import type { FlowHub } from './hub';
import type { StreamSlots } from './stream_slots';
import { BatchWriter } from './flow_batches';
import type { ClusterNames } from './cluster_names';
import type { GetFlowsRequest } from '../proto/gen/observer/observer';
import type { FlowHistoryServer } from '../proto/gen/observer/v1/flow_history';

export interface StatusFigures {
  version: string;
  uptimeNs: bigint;
  /** Batches the relay's store failed to take (the collectors send them again); a relay only. */
  storeErrors?: bigint;
  /** A per-node server's own counters; a relay sums its nodes' instead. */
  counters?: ExportCounters;
  /** Per node, flows whose sent path fingerprint disagreed with the computed one (a relay only). */
  fingerprintMismatches?: FingerprintMismatches[];
  /** A per-node server's own flow table; a relay sums its connected nodes' instead. */
  flowTable?: FlowTableTotals;
}

export interface ObserverDeps {
  hub: FlowHub;
  store?: FlowHistory;
  nodes: NodeBook;
  status: () => StatusFigures;
  getFlows?: GetFlowsOptions;
  /** Flow streams (GetFlows and GetFlowBatches) served at once; unbounded when absent (a node's own local socket). */
  flowStreams?: StreamSlots;
  /** Unexpected failures (store errors), for the log. */
  onError?: (err: Error, method: string) => void;
  /** A request that hit a limit (too many filters, a time out of range, the store's query limits). */
  onLimit?: (kind: 'filters' | 'time_range' | 'query_time' | 'query_rows' | 'flow_streams' | 'stalled', message: string, peer: string) => void;
  /** The cluster a relay serves: its flows and nodes are named "cluster/node" (cluster_names.ts). */
  names?: ClusterNames;
}

/**
 * This server's own answer to a flows request, into `out`, its nodes named as it names them;
 * `md`, the call's metadata, may ask for a shorter follower queue (follow_queue.ts).
 */
export async function localFlows(deps: ObserverDeps, request: GetFlowsRequest, out: ResponseSink, md?: Metadata): Promise<void> {
  const { names } = deps;
  const asked = askedFollowQueue(md, deps.getFlows?.followQueue ?? deps.hub.followQueue);
  const opts = asked === undefined ? deps.getFlows : { ...deps.getFlows, followQueue: asked };
  // A malformed pattern is the client's error (INVALID_ARGUMENT), found before its names are read.
  if (names) checkRequest(request, opts);
  return names ? streamFlows(names.request(request), names.sink(out), deps.hub, deps.store, opts) : streamFlows(request, out, deps.hub, deps.store, opts);
}

function serviceError(code: status, details: string): ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

/**
 * A store failure as the client sees it: the store's own limits as RESOURCE_EXHAUSTED with
 * their message, anything else as UNAVAILABLE naming only an error id. The full error goes
 * to onError (the log) under the same id; engine text never reaches a client.
 */
function storeFailure(e: unknown, what: string, method: string, onError: ObserverDeps['onError']): ServiceError {
  if (e instanceof HistoryLimitError) return serviceError(status.RESOURCE_EXHAUSTED, e.message);
  const given = (e as { errorId?: unknown }).errorId;
  const id = typeof given === 'string' ? given : randomBytes(6).toString('hex');
  const err = e as Error;
  onError?.(new Error(`error id ${id}: ${(err as { detail?: string }).detail ?? err.message}`), method);
  return serviceError(status.UNAVAILABLE, `${what} failed (error id ${id})`);
}

function nsSince(ms: number): bigint {
  return ms > 0 ? BigInt(Math.max(0, Date.now() - ms)) * 1_000_000n : 0n;
}

/**
 * Where flows are held and what each does when full: the collectors' flow tables (a node's
 * own, or those a relay's connected collectors report), the recent-flows buffer live
 * followers start from, and a relay's store (`stored` flows; absent without one).
 */
/** The places that hold flows, by the names ServerStatus gives them. */
export const FLOW_HOLDER_NAMES: ReadonlySet<string> = new Set(['flow_table', 'recent_buffer', 'store']);

function flowHolders(table: FlowTableTotals, t: ExportCounters, hub: FlowHub, stored: bigint | undefined): FlowHolder[] {
  const seen = hub.seen;
  const buffered = BigInt(hub.size);
  return [
    {
      name: 'flow_table',
      held: table.entries,
      capacity: table.capacity,
      atCapacity: 'a new flow makes the least recently seen one report early and leave the table (not a loss)',
      fullEvents: t.flowTableEvictions,
      nodes: table.nodes,
    },
    {
      name: 'recent_buffer',
      held: buffered,
      capacity: BigInt(hub.capacity),
      atCapacity: stored === undefined
        ? 'the oldest flow is overwritten: live followers and queries no longer see it'
        : 'the oldest flow is overwritten: new followers start later; the store keeps it',
      fullEvents: seen > buffered ? seen - buffered : 0n,
      nodes: 0,
    },
    ...(stored === undefined
      ? []
      : [{ name: 'store', held: stored, capacity: 0n, atCapacity: 'flows leave only by the store\'s retention (TTL)', fullEvents: 0n, nodes: 0 }]),
  ];
}

function lostFlows(t: ExportCounters, hub: FlowHub): LostFlows[] {
  return [
    { source: LostEventSource.PERF_EVENT_RING_BUFFER, reason: 'ring_reserve_failures', count: t.ringReserveFailures },
    { source: LostEventSource.UNKNOWN_LOST_EVENT_SOURCE, reason: 'decode_errors', count: t.decodeErrors },
    { source: LostEventSource.OBSERVER_EVENTS_QUEUE, reason: 'export_drops', count: t.exportDrops },
    { source: LostEventSource.HUBBLE_RING_BUFFER, reason: 'follower_queue', count: hub.followerLost },
  ];
}

type Where = 'datapath' | 'collector' | 'relay' | 'live_viewers';
type Unit = 'packets' | 'bytes' | 'records' | 'reports' | 'batches' | 'flows';

function counter(where: Where, name: string, unit: Unit, count: bigint, dataLoss: boolean, description: string): LossCounter {
  return { where, name, unit, count, dataLoss, description };
}

/**
 * Every loss counter, and every event that looks like loss but is not, by where it happened
 * and in its own unit: nothing here is added to anything else. docs/operations.md "Loss accounting"
 * says the same in prose.
 */
function lossCounters(t: ExportCounters, hub: FlowHub, figures: StatusFigures): LossCounter[] {
  const out = [
    counter('datapath', 'ring_reserve_failures', 'packets', t.ringReserveFailures, true, 'packets handled but not recorded: the ring buffer was full'),
    counter('datapath', 'ring_reserve_failure_bytes', 'bytes', t.ringReserveFailureBytes, true, 'wire bytes of those packets'),
    counter('collector', 'decode_errors', 'records', t.decodeErrors, true, 'ring records the collector could not decode'),
    counter('collector', 'reports_lost', 'reports', t.reportsLost, true, 'final flow reports shed while the export backlog stayed full'),
    counter('collector', 'packets_lost', 'packets', t.packetsLost, true, 'packets of those reports'),
    counter('collector', 'bytes_lost', 'bytes', t.bytesLost, true, 'bytes of those reports'),
    counter('collector', 'export_drops', 'reports', t.exportDrops, true, 'flow reports the exporter refused (shutting down or backlog full)'),
    counter('collector', 'export_drop_packets', 'packets', t.exportDropPackets, true, 'packets of those reports'),
    counter('collector', 'export_drop_bytes', 'bytes', t.exportDropBytes, true, 'bytes of those reports'),
    counter('collector', 'flow_table_evictions', 'flows', t.flowTableEvictions, false, 'flows reported early to make room in the flow table'),
    counter('collector', 'reports_deferred', 'reports', t.reportsDeferred, false, 'reports put off; their counts went into the flow\'s next report'),
    counter('collector', 'reports_carried', 'reports', t.reportsCarried, false, 'final reports held until there was room'),
  ];
  if (figures.storeErrors !== undefined) {
    out.push(counter('relay', 'store_errors', 'batches', figures.storeErrors, false, 'batches the store failed to take; the collector sends them again'));
  }
  out.push(counter('live_viewers', 'follower_queue', 'flows', hub.followerLost, false, 'flows a live viewer was too slow for, summed over viewers; still stored'));
  return out;
}

/**
 * Serves a flows call within the server's stream slots, and ends it as its answer settles:
 * OK, the request's own error, or the store's.
 */
export function answerFlows(call: ServerWritableStream<unknown, unknown>, deps: ObserverDeps, method: string, answer: () => Promise<void>): void {
  const release = deps.flowStreams ? deps.flowStreams.take() : () => undefined;
  if (!release) {
    const message = `${deps.flowStreams?.max} flow streams (GetFlows, GetFlowBatches) are open, the most this server serves at once; retry when one ends`;
    deps.onLimit?.('flow_streams', message, call.getPeer());
    call.emit('error', serviceError(status.RESOURCE_EXHAUSTED, message));
    return;
  }
  // Headers at once: a relay reading this stream for its peers knows the call is answered
  // before the first flow, which a follow may not bring for a while.
  call.sendMetadata(new Metadata());
  // The slot is given back when the answer ends, not when the client goes: the answer's store
  // query may run a moment longer, and a client cancelling in a loop must not outrun the bound.
  answer().then(
    () => {
      release();
      if (!call.cancelled) call.end();
    },
    (e: unknown) => {
      release();
      if (call.cancelled) return;
      if (e instanceof RequestError) {
        if (e.limit) deps.onLimit?.(e.limit, e.message, call.getPeer());
        call.emit('error', serviceError(e.code, e.message));
        return;
      }
      if (e instanceof HistoryLimitError) deps.onLimit?.(e.kind, e.message, call.getPeer());
      call.emit('error', storeFailure(e, 'reading flows', method, deps.onError));
    },
  );
}

/** cillion.observer.v1.FlowHistory: GetFlows' answers in batches, for Cillion's own clients (flow_batches.ts). */
export function flowHistoryService(deps: ObserverDeps): FlowHistoryServer {
  return {
    getFlowBatches(call) {
      answerFlows(call, deps, 'GetFlowBatches', () => localFlows(deps, call.request, new BatchWriter(call), call.metadata));
    },
  };
}

export function observerService(deps: ObserverDeps): ObserverServer {
  const { hub, store, nodes } = deps;
  const unimplemented = (what: string) => serviceError(status.UNIMPLEMENTED, `${what} is not provided by Cillion`);

  return {
    getFlows(call) {
      answerFlows(call, deps, 'GetFlows', () => localFlows(deps, call.request, new FlowResponseWriter(call), call.metadata));
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
          name: deps.names ? deps.names.node(n.name) : n.name,
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
        // A node's own server reports its counters; a relay sums its nodes'.
        const totals = figures.counters ?? nodes.totals();
        const list = nodes.list();
        const unavailable = list.filter((n) => n.state !== NodeState.NODE_CONNECTED).map((n) => (deps.names ? deps.names.node(n.name) : n.name));
        // With a store every stored flow is available and there is no fixed maximum.
        const numFlows = store ? await store.count() : BigInt(hub.size);
        const res: ServerStatusResponse = {
          numFlows,
          maxFlows: store ? 0n : BigInt(hub.capacity),
          seenFlows: hub.seen,
          uptimeNs: figures.uptimeNs,
          numConnectedNodes: list.length - unavailable.length,
          numUnavailableNodes: unavailable.length,
          unavailableNodes: unavailable,
          version: figures.version,
          flowsRate: hub.flowsRate(),
          lostFlows: lostFlows(totals, hub),
          loss: lossCounters(totals, hub, figures),
          fingerprintMismatches: figures.fingerprintMismatches ?? [],
          flowHolders: flowHolders(figures.flowTable ?? nodes.flowTables(), totals, hub, store ? numFlows : undefined),
        };
        callback(null, res);
      })().catch((e: unknown) => {
        callback(storeFailure(e, 'server status', 'ServerStatus', deps.onError));
      });
    },
  };
}
