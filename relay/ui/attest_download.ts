// The compliance view's download: the Attest service's Export handler (the one the gRPC
// server registers, behind its attester check) answers in-process with the relay signing;
// the answer is assembled into an attestation directory exactly as `cillion attest export
// --out DIR` writes it (relay/attest/receive.ts), then sent as a tar of that directory,
// which `cillion attest verify FILE.tar` checks. The directory is temporary and removed
// once the tar has gone out (or the client has).
import { status, type ServiceError } from '@grpc/grpc-js';
import { mkdtemp, rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AttestServer, ExportRequest, ExportResponse } from '../../proto/gen/attest/v1/attest';
import type { Timestamp } from '../../proto/gen/google/protobuf/timestamp';
import { packAttestation } from '../attest/archive';
import { EnvelopeError } from '../attest/dsse';
import { DraftError, draftAttestation } from '../attest/files';
import { receiveExport } from '../attest/receive';
import { GatewayCall, serviceError, type CallOutput, type CallPeer } from './gateway_call';
import { API_HEADERS, GatewayError } from './http_error';

/** Messages a handler may send ahead of the assembly before it has to wait. */
const AHEAD = 16;

/** The Export answer as an async iterable, with the call's flow control: a full queue waits for 'drain'. */
class ExportReader implements CallOutput, AsyncIterable<ExportResponse> {
  private readonly queue: ExportResponse[] = [];
  private done = false;
  private error: ServiceError | undefined;
  private wake: (() => void) | undefined;
  call: GatewayCall<ExportRequest> | undefined;

  open(): void {}

  message(m: unknown): boolean {
    this.queue.push(m as ExportResponse);
    this.wake?.();
    return this.queue.length < AHEAD;
  }

  finish(err: ServiceError | undefined): void {
    if (this.done) return;
    this.done = true;
    this.error = err;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ExportResponse> {
    for (;;) {
      const m = this.queue.shift();
      if (m) {
        if (this.queue.length === AHEAD - 1) this.call?.drain();
        yield m;
        continue;
      }
      if (this.done) {
        if (this.error) throw this.error;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

/** A time for a file name: 20261205T210000Z. */
function fileTime(t: Timestamp | undefined): string {
  if (!t) return 'unknown';
  return new Date(Number(t.seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

export function attestationFileName(relay: string, r: ExportRequest): string {
  const safe = relay.replace(/[^A-Za-z0-9._-]/g, '-');
  return `attestation-${safe}-${fileTime(r.since)}-${fileTime(r.until)}.tar`;
}

/** Runs the export for `request` (sign forced on), and sends the attestation as a tar. */
export async function downloadAttestation(
  res: ServerResponse,
  exportHandler: AttestServer['export'],
  request: ExportRequest,
  peer: CallPeer,
  relayName: string,
): Promise<void> {
  const asked: ExportRequest = { ...request, sign: true, evidenceOnly: false };
  const dir = await mkdtemp(join(tmpdir(), 'cillion-ui-attest-'));
  const removeDir = () => rm(dir, { recursive: true, force: true }).catch(() => undefined);
  try {
    const reader = new ExportReader();
    const call = new GatewayCall(asked, peer, reader);
    reader.call = call;
    // The browser leaving stops the export (its store query, its peers' calls) and the assembly.
    const leave = () => {
      call.cancel();
      reader.finish(serviceError(status.CANCELLED, 'the client went away'));
    };
    res.once('close', leave);
    const draft = await draftAttestation(dir);
    try {
      exportHandler(call as never);
      await receiveExport(reader, draft, { source: 'the relay' });
    } catch (e) {
      if (e instanceof DraftError || e instanceof EnvelopeError) throw new GatewayError(status.INTERNAL, `the export did not add up: ${e.message}`);
      throw e;
    } finally {
      await draft.abort();
      res.off('close', leave);
    }
  } catch (e) {
    await removeDir();
    // The gateway answers the error as every route's (a status, or an error id for the log).
    if (!res.destroyed) throw e;
    return;
  }
  if (res.destroyed) {
    await removeDir();
    return;
  }
  res.writeHead(200, {
    ...API_HEADERS,
    'content-type': 'application/x-tar',
    'content-disposition': `attachment; filename="${attestationFileName(relayName, asked)}"`,
  });
  const tar = packAttestation(dir);
  res.once('close', () => void removeDir());
  tar.on('error', () => res.destroy());
  tar.pipe(res);
}
