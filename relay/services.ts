// Every service the relay's gRPC server offers, each behind the guard (the certificate's
// role decides before any handler runs): FlowExport for collectors, Observer and FlowHistory
// for readers (fanned out to the peers when there are any), Attest for attesters.
import type { Server, ServiceDefinition } from '@grpc/grpc-js';
import { AttestService, type AttestServer } from '../proto/gen/attest/v1/attest';
import type { ObserverServer } from '../proto/gen/observer/observer';
import type { FlowHistoryServer } from '../proto/gen/observer/v1/flow_history';
import { FlowExportService, type FlowExportServer } from '../proto/gen/export/v1/export';
import { FlowHistoryServiceDefinition, ObserverServiceDefinition } from '../observer/service_definition';
import { flowHistoryService, observerService, type ObserverDeps } from '../observer/service';
import { attestService, type AttestOptions } from './attest/service';
import { boundedBatchDecoder, type IngestBudget } from './export/admission';
import type { Guard } from './auth/guard';
import type { RelayLimits } from './limits';
import type { RelayMetrics } from './metrics';
import { fanOutServices } from './peers/fan_observer';
import type { PeerOptions } from './peers/options';
import type { PeerSet } from './peers/peer_set';
import type { FlowJudge } from '../geofence/judge';
import type { FlowStore } from './store/store';

export function addExportService(server: Server, guard: Guard, limits: RelayLimits, budget: IngestBudget, impl: FlowExportServer): void {
  // Export messages are measured before they are decoded (admission.ts).
  const boundedExport: ServiceDefinition = {
    ...FlowExportService,
    export: { ...FlowExportService.export, requestDeserialize: boundedBatchDecoder(limits, budget) },
  };
  server.addService(boundedExport, guard.wrap(boundedExport, 'collector', impl));
}

export interface ReadServicesDeps {
  observer: ObserverDeps;
  peerSet: PeerSet | undefined;
  mergeWindowMs: number | undefined;
  metrics: RelayMetrics;
  log: (message: string) => void;
}

/** The guarded handler objects the gRPC server serves; the web UI calls the same ones. */
export interface ReadHandlers {
  observer: ObserverServer;
  history: FlowHistoryServer;
}

export function addReadServices(server: Server, guard: Guard, d: ReadServicesDeps): ReadHandlers {
  const own = { observer: observerService(d.observer), history: flowHistoryService(d.observer) };
  const reads = d.peerSet
    ? fanOutServices(own, d.observer, d.peerSet, {
      windowMs: d.mergeWindowMs,
      onPeer: (peer, state, reason) => {
        d.metrics.peer(peer, state);
        d.log(`peer ${peer} ${state}${reason ? `: ${reason}` : ''}`);
      },
    })
    : own;
  // Readers see the set; another relay of it (the peer role) only this relay's own data.
  const readers = ['reader', { role: 'peer', localScopeOnly: true }] as const;
  const guarded = {
    observer: guard.wrap(ObserverServiceDefinition, readers, reads.observer),
    history: guard.wrap(FlowHistoryServiceDefinition, readers, reads.history),
  };
  server.addService(ObserverServiceDefinition, guarded.observer);
  server.addService(FlowHistoryServiceDefinition, guarded.history);
  return guarded;
}

export interface AttestServiceDeps {
  attest: AttestOptions | undefined;
  store: FlowStore | undefined;
  judge: FlowJudge;
  relay: { name: string; version: string; cluster: string | undefined };
  peers: PeerOptions | undefined;
  metrics: RelayMetrics;
  log: (message: string) => void;
}

/** Adds the Attest service and returns its guarded handler object (the web UI's download calls it). */
export function addAttestService(server: Server, guard: Guard, d: AttestServiceDeps): AttestServer {
  const guarded = guard.wrap(AttestService, ['attester', { role: 'peer', localScopeOnly: true }], attestService({
    ...d.attest,
    store: d.store,
    fences: (n) => d.judge.engine.get(n),
    relay: d.relay,
    peers: d.peers,
    onError: (err) => d.log(`attest: ${err.message}`),
    onPeerFailure: (f) => {
      d.metrics.attestPeerMissing(f.kind);
      d.log(`attest: ${f.message}`);
    },
  }));
  server.addService(AttestService, guarded);
  return guarded;
}
