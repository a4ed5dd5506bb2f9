// The Attest gRPC service on the relay: the export of `cillion attest export`, streamed.
// The relay signs only when asked and when it was given a key; otherwise the client signs
// the statement bytes it receives, so a private key never has to cross the wire. Every
// item goes out in pieces of at most chunkBytes, so an export of any size fits any
// client's message limit (4 MiB by default) with room to spare. A relay with peers of its
// own stores gathers theirs into the export (gather.ts) unless the call carries the local
// scope; asked with evidence_only (by a gathering peer), it answers with its evidence, the
// paths it uses and a catalogue instead of a statement.
import { Metadata, status } from '@grpc/grpc-js';
import type { KeyObject } from 'node:crypto';
import type { Geofence } from '../../resources/geofence';
import type { AttestServer, ExportRequest } from '../../proto/gen/attest/v1/attest';
import type { Timestamp } from '../../proto/gen/google/protobuf/timestamp';
import { FilterError } from '../../observer/filters/error';
import type { PeerOptions } from '../peers/options';
import { isLocalScope } from '../peers/scope';
import type { FlowStore } from '../store/store';
import { catalogueBytes, pathEntryBytes } from './catalogue';
import { exportAttestation, ExportUsageError, RECORD_CHOICES, type ExportOptions, type Exported, type RecordChoice, type StoreIdentity } from './export';
import { gatherAttestation } from './gather';
import { keyId } from './keys';
import { Cancelled, Outbox } from './outbox';
import { DEFAULT_PEER_BOUNDS, type PeerBounds, type PeerFailure } from './peer_rows';
import { renderReport } from './report';
import { signPayload } from './sign';
import { statementBytes } from './statement';

export interface AttestOptions {
  /** The relay's signing key (Ed25519 or ECDSA P-256). */
  key?: KeyObject;
  /** How the store is named in attestations. */
  storeIdentity?: StoreIdentity;
  /** Largest piece of evidence, statement, envelope or report in one message; default 1 MiB. */
  chunkBytes?: number;
  /** What one peer may send when its evidence is gathered; defaults DEFAULT_PEER_BOUNDS. */
  peerBounds?: Partial<PeerBounds>;
  /** How often a working export sends progress when it has nothing else to send; default HEARTBEAT_MS. */
  heartbeatMs?: number;
}

export const DEFAULT_CHUNK_BYTES = 1 << 20;

export interface AttestDeps extends AttestOptions {
  store: FlowStore | undefined;
  fences: (name: string) => Geofence | undefined;
  relay: { name: string; version: string; cluster?: string };
  /** The relays this one answers together with; exports gather their evidence (own stores). */
  peers?: PeerOptions;
  onError?: (err: Error) => void;
  /** A peer whose evidence could not be gathered (logged and counted). */
  onPeerFailure?: (f: PeerFailure) => void;
}

function toDate(t: Timestamp | undefined, what: string): Date {
  if (!t) throw new ExportUsageError(`${what} is required`);
  return new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1_000_000));
}

const failed = (message: string, grpcCode: status): Error => Object.assign(new Error(message), { grpcCode });

function checkRequest(r: ExportRequest, deps: AttestDeps, local: boolean): FlowStore {
  const store = deps.store;
  if (!store) throw failed('this relay has no flow store', status.FAILED_PRECONDITION);
  if (r.evidenceOnly && (r.sign || !local)) throw new ExportUsageError('evidence_only is what relays ask each other: with the local scope header and without sign');
  if (r.sign && !deps.key) throw failed('this relay has no signing key; sign on the client', status.FAILED_PRECONDITION);
  if (r.records !== '' && !(RECORD_CHOICES as readonly string[]).includes(r.records)) throw new ExportUsageError(`records must be one of ${RECORD_CHOICES.join(', ')}`);
  return store;
}

export function attestService(deps: AttestDeps): AttestServer {
  const chunkBytes = deps.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`chunkBytes must be a positive whole number, not ${chunkBytes}`);
  const peerBounds = { ...DEFAULT_PEER_BOUNDS, ...deps.peerBounds };
  const peers = deps.peers;
  return {
    export(call) {
      const out = new Outbox(call, chunkBytes, deps.heartbeatMs);
      // A client that goes away stops the work: heartbeats, the peers' calls, the merge.
      const abort = new AbortController();
      call.once('cancelled', () => {
        out.stop();
        abort.abort();
      });
      void (async () => {
        const r = call.request;
        const local = isLocalScope(call.metadata);
        const store = checkRequest(r, deps, local);
        const signs = r.sign && deps.key ? deps.key : undefined;
        const opts: ExportOptions = {
          selector: r.selector,
          since: toDate(r.since, 'since'),
          until: toDate(r.until, 'until'),
          geofence: r.geofence || undefined,
          records: (r.records || 'sent') as RecordChoice,
          fences: deps.fences,
          relay: deps.relay,
          store: deps.storeIdentity ?? { kind: 'unknown', location: '', database: '' },
          signingKey: signs ? keyId(signs) : null,
          sharedStoreWith: peers?.sharedStore ? peers.targets.map((t) => t.name) : [],
          onProgress: (flows) => {
            // Handled here so a cancelled call is no unhandled rejection; the evidence sink still sees it.
            out.progress(flows).catch(() => undefined);
          },
          onWritten: (flows) => out.count(flows),
          onPaths: r.evidenceOnly ? async (paths) => {
            for (const p of paths) await out.send({ $case: 'path', value: pathEntryBytes(p) });
          } : undefined,
        };
        await out.progress(0);
        const sink = (chunk: Buffer): Promise<void> => out.chunks('evidenceChunk', chunk);
        const gather = !local && peers !== undefined && !peers.sharedStore && peers.targets.length > 0;
        const { statement }: Exported = gather
          ? await gatherAttestation(store, opts, r, { ...peerBounds, peers, allowIncomplete: r.allowIncomplete, onPeerFailure: deps.onPeerFailure, signal: abort.signal }, sink)
          : await exportAttestation(store, opts, sink);
        if (r.evidenceOnly) {
          const p = statement.predicate;
          const relay = { name: p.relay.name, cluster: p.relay.cluster, version: p.relay.version };
          await out.chunks('catalogueChunk', catalogueBytes({ relay, store: p.store, geofences: p.geofences, evidence: { sha256: p.evidence.sha256, flows: p.evidence.flows } }));
        } else {
          const payload = statementBytes(statement);
          await out.chunks('statementChunk', payload);
          if (signs) await out.chunks('envelopeChunk', Buffer.from(JSON.stringify(signPayload(payload, [signs]))));
          await out.chunks('reportChunk', Buffer.from(renderReport(statement, signs ? { keyid: keyId(signs) } : undefined), 'utf8'));
        }
        await out.flushed();
        out.stop();
        call.end();
      })().catch((e: unknown) => {
        out.stop();
        if (e instanceof Cancelled || call.cancelled) return;
        const err = e as Error & { grpcCode?: status };
        const code = err.grpcCode ?? (e instanceof ExportUsageError || e instanceof FilterError ? status.INVALID_ARGUMENT : status.INTERNAL);
        if (code === status.INTERNAL) deps.onError?.(err);
        call.emit('error', Object.assign(new Error(err.message), { code, details: err.message, metadata: new Metadata() }));
      });
    },
  };
}
