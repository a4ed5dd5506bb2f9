// The FlowExport service as the relay serves it: who may export for which node and cluster,
// what a collector's counters and failovers say (metrics, log, lost events), and the node
// book's view of each stream.
import { status as grpcStatus } from '@grpc/grpc-js';
import type { FlowBatch, FlowExportServer } from '../proto/gen/export/v1/export';
import { LostEventSource } from '../proto/gen/flow/flow';
import { refusalOf, type IngestBudget } from './export/admission';
import type { CounterLog } from './export/counter_log';
import { exportService, type BatchOwner, type BatchSink, type CollectorReport, type FailoverEvent } from './export/ingest';
import type { Guard } from './auth/guard';
import type { ClientIdentity } from './auth/identity';
import type { Breaches } from './breaches';
import type { RelayLimits } from './limits';
import type { RelayMetrics } from './metrics';
import type { FlowHub } from '../observer/hub';
import type { NodeBook, TlsInfo } from '../observer/nodes';

export interface ExportEndpointDeps {
  sink: BatchSink;
  guard: Guard;
  tls: boolean;
  nodes: NodeBook;
  hub: FlowHub;
  metrics: RelayMetrics;
  breaches: Breaches;
  counterLog: CounterLog | undefined;
  budget: IngestBudget;
  limits: RelayLimits;
  relayName: string;
  /** The cluster this relay serves; batches of another are refused. */
  cluster: string | undefined;
  sharedStore: boolean;
  log: (message: string) => void;
}

/**
 * The node a batch on this stream belongs to: the certificate's name over TLS, where a batch
 * naming another node is refused; the batch's own claim on a plaintext listener.
 */
function batchOwner(id: ClientIdentity, claimed: string): BatchOwner {
  if (!id.authenticated) return { node: claimed };
  if (claimed !== '' && claimed !== id.name) return { refused: `the client certificate is for node "${id.name}"; this stream's batch claims node "${claimed}"` };
  return { node: id.name };
}

export function exportEndpoint(d: ExportEndpointDeps): FlowExportServer {
  const { guard, tls, nodes, hub, metrics, breaches, counterLog, limits, relayName, log } = d;
  const onFailover = (e: FailoverEvent): void => {
    if (e.kind === 'retraction_ignored') metrics.retractionIgnored(e.reason);
    else metrics.failover(e.kind);
    if (e.kind === 'takeover') log(`export: node ${e.node} session ${e.sessionId} taken over from relay ${e.previous} after batch ${e.after} (stored here up to ${e.position})`);
    else if (e.kind === 'retraction') log(`export: node ${e.node} retracted session ${e.sessionId} batches (${e.after}, ${e.through}]: stored by another relay; position now ${e.position}`);
    else {
      const why = e.reason === 'shared_store' ? 'the store is shared, each batch is in it once' : `it is meant for relay "${e.named}", this is "${relayName}"`;
      log(`export: node ${e.node} retraction of session ${e.sessionId} batches (${e.after}, ${e.through}] acknowledged, nothing deleted: ${why}`);
    }
  };
  const onCounters = (r: CollectorReport): void => {
    counterLog?.add(r);
    const delta = nodes.report(r);
    metrics.collector(r.nodeName, delta);
    hub.publishLost(LostEventSource.PERF_EVENT_RING_BUFFER, delta.ringReserveFailures, r.nodeName);
    // Flow reports that never reach the relay, refused by the exporter or shed by the flow table.
    hub.publishLost(LostEventSource.OBSERVER_EVENTS_QUEUE, delta.exportDrops + delta.reportsLost, r.nodeName);
    hub.publishLost(LostEventSource.UNKNOWN_LOST_EVENT_SOURCE, delta.decodeErrors, r.nodeName);
  };
  // A relay's store holds one cluster: another cluster's collector belongs to its own relay.
  const foreignCluster = (cluster: string): string | undefined =>
    d.cluster && cluster !== '' && cluster !== d.cluster
      ? `this relay serves cluster "${d.cluster}"; the batch is of cluster "${cluster}": export to that cluster's relay`
      : undefined;
  const ingest = exportService(d.sink, {
    nodeOf: (call, claimed, cluster) => {
      const id = guard.identityOf(call);
      const message = foreignCluster(cluster);
      if (message !== undefined) {
        guard.refuse({ service: 'cillion.export.v1.FlowExport', method: 'Export', peer: call.getPeer(), identity: id, reason: 'cluster_mismatch', message });
        return { refused: message, code: grpcStatus.FAILED_PRECONDITION };
      }
      const owner = batchOwner(id, claimed);
      if ('refused' in owner) guard.refuse({ service: 'cillion.export.v1.FlowExport', method: 'Export', peer: call.getPeer(), identity: id, reason: 'node_mismatch', message: owner.refused });
      return owner;
    },
    onCounters,
    maxBatchFlows: limits.maxBatchFlows,
    relayName,
    sharedStore: d.sharedStore,
    onFailover,
    maxRetractionsPerMinute: limits.maxRetractionsPerMinute,
    budget: d.budget,
    onBreach: (kind, message, peer) => breaches.record(kind, message, peer),
    onError: (err, peer) => {
      const detail = (err as { detail?: string }).detail;
      if (detail !== undefined) metrics.engineError('export');
      log(`export from ${peer}: ${err.message}${detail === undefined ? '' : `: ${detail}`}`);
    },
  });
  return {
    export(call) {
      const id = guard.identityOf(call);
      const tlsInfo: TlsInfo = { enabled: tls, serverName: id.name };
      const stream = nodes.streamOpened(call.getPeer(), tlsInfo);
      const versionHeader = call.metadata.get('cillion-version')[0];
      call.on('data', (b: FlowBatch) => {
        // A retraction comes from a collector that exports elsewhere: no connected node here.
        if (refusalOf(b) || b.retraction || foreignCluster(b.clusterName) !== undefined) return;
        const owner = batchOwner(id, b.nodeName);
        if ('node' in owner) stream.identify(owner.node, b.clusterName, typeof versionHeader === 'string' ? versionHeader : undefined);
      });
      for (const ev of ['cancelled', 'error', 'finish', 'close']) call.on(ev, () => stream.close());
      ingest.export(call);
    },
  };
}
