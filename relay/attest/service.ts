// The Attest gRPC service on the relay: the export of `cillion attest export`, streamed.
// The relay signs only when asked and when it was given a key; otherwise the client signs
// the statement bytes it receives, so a private key never has to cross the wire. Every
// item goes out in pieces of at most chunkBytes, so an export of any size fits any
// client's message limit (4 MiB by default) with room to spare.
import { Metadata, status, type ServerWritableStream } from '@grpc/grpc-js';
import type { KeyObject } from 'node:crypto';
import type { Geofence } from '../../operator/resources/geofence';
import type { AttestServer, ExportRequest, ExportResponse } from '../../proto/gen/attest/v1/attest';
import type { Timestamp } from '../../proto/gen/google/protobuf/timestamp';
import { FilterError } from '../../observer/filters/error';
import type { FlowStore } from '../store/store';
import { exportAttestation, ExportUsageError, RECORD_CHOICES, type RecordChoice, type StoreIdentity } from './export';
import { keyId } from './keys';
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
}

export const DEFAULT_CHUNK_BYTES = 1 << 20;

export interface AttestDeps extends AttestOptions {
  store: FlowStore | undefined;
  fences: (name: string) => Geofence | undefined;
  relay: { name: string; version: string };
  onError?: (err: Error) => void;
}

class Cancelled extends Error {}

function toDate(t: Timestamp | undefined, what: string): Date {
  if (!t) throw new ExportUsageError(`${what} is required`);
  return new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1_000_000));
}

function send(call: ServerWritableStream<ExportRequest, ExportResponse>, item: ExportResponse['item']): Promise<void> {
  if (call.cancelled) return Promise.reject(new Cancelled());
  if (call.write({ item })) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const drained = (): void => {
      call.off('cancelled', gone);
      resolve();
    };
    const gone = (): void => {
      call.off('drain', drained);
      reject(new Cancelled());
    };
    call.once('drain', drained);
    call.once('cancelled', gone);
  });
}

type ChunkCase = 'evidenceChunk' | 'statementChunk' | 'envelopeChunk' | 'reportChunk';

async function sendChunks(call: ServerWritableStream<ExportRequest, ExportResponse>, $case: ChunkCase, bytes: Buffer, chunkBytes: number): Promise<void> {
  for (let at = 0; at < bytes.length; at += chunkBytes) await send(call, { $case, value: bytes.subarray(at, at + chunkBytes) });
}

export function attestService(deps: AttestDeps): AttestServer {
  const chunkBytes = deps.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`chunkBytes must be a positive whole number, not ${chunkBytes}`);
  return {
    export(call) {
      void (async () => {
        const r = call.request;
        const store = deps.store;
        if (!store) throw Object.assign(new Error('this relay has no flow store'), { grpcCode: status.FAILED_PRECONDITION });
        if (r.sign && !deps.key) throw Object.assign(new Error('this relay has no signing key; sign on the client'), { grpcCode: status.FAILED_PRECONDITION });
        if (r.records !== '' && !(RECORD_CHOICES as readonly string[]).includes(r.records)) throw new ExportUsageError(`records must be one of ${RECORD_CHOICES.join(', ')}`);
        let progress = Promise.resolve();
        const { statement } = await exportAttestation(
          store,
          {
            selector: r.selector,
            since: toDate(r.since, 'since'),
            until: toDate(r.until, 'until'),
            geofence: r.geofence || undefined,
            records: (r.records || 'sent') as RecordChoice,
            fences: deps.fences,
            relay: deps.relay,
            store: deps.storeIdentity ?? { kind: 'unknown', location: '', database: '' },
            onProgress: (flows) => {
              progress = progress.then(() => send(call, { $case: 'progress', value: { flows: BigInt(flows) } }));
              // Handled here so a cancelled call is no unhandled rejection; the evidence sink still sees it.
              progress.catch(() => undefined);
            },
          },
          async (chunk) => {
            await progress;
            await sendChunks(call, 'evidenceChunk', chunk, chunkBytes);
          },
        );
        await progress;
        const payload = statementBytes(statement);
        await sendChunks(call, 'statementChunk', payload, chunkBytes);
        if (r.sign && deps.key) {
          const env = signPayload(payload, [deps.key]);
          await sendChunks(call, 'envelopeChunk', Buffer.from(JSON.stringify(env)), chunkBytes);
        }
        const report = renderReport(statement, r.sign && deps.key ? { keyid: keyId(deps.key) } : undefined);
        await sendChunks(call, 'reportChunk', Buffer.from(report, 'utf8'), chunkBytes);
        call.end();
      })().catch((e: unknown) => {
        if (e instanceof Cancelled) return;
        const err = e as Error & { grpcCode?: status };
        const code = err.grpcCode ?? (e instanceof ExportUsageError || e instanceof FilterError ? status.INVALID_ARGUMENT : status.INTERNAL);
        if (code === status.INTERNAL) deps.onError?.(err);
        call.emit('error', Object.assign(new Error(err.message), { code, details: err.message, metadata: new Metadata() }));
      });
    },
  };
}
