// A gRPC server call delivered in-process: what the relay's guarded service handlers use of
// a grpc-js call (request, metadata, the caller's certificate and address, write with
// backpressure, sendMetadata, end, emit('error'), the 'cancelled', 'close' and 'drain' events), so
// the web UI is answered by the very handler objects the gRPC server registers, with their
// role check, limits and fan-out. Where the answer goes (an HTTP response, an attestation
// being assembled) is the CallOutput's business.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import type { PeerCertificate } from 'node:tls';

export interface CallOutput {
  /** The handler sent its headers: the answer has begun (a stream's first line may be a while). */
  open(): void;
  /** One response message; false when the handler should wait for 'drain'. */
  message(m: unknown, done?: () => void): boolean;
  /** The call ended: OK (no error) or with this status. Called once. */
  finish(err: ServiceError | undefined): void;
}

/** Who is calling: the TLS client certificate (none on plain HTTP) and the address. */
export interface CallPeer {
  address: string;
  certificate: PeerCertificate | undefined;
}

export function serviceError(code: status, message: string): ServiceError {
  return Object.assign(new Error(message), { code, details: message, metadata: new Metadata() });
}

export class GatewayCall<Req> extends EventEmitter {
  readonly metadata = new Metadata();
  private gone = false;
  private over = false;

  constructor(
    readonly request: Req,
    private readonly peer: CallPeer,
    private readonly output: CallOutput,
  ) {
    super();
  }

  /** True once the client went away (grpc-js: the call was cancelled). */
  get cancelled(): boolean {
    return this.gone;
  }

  getAuthContext(): { transportSecurityType?: string; sslPeerCertificate?: PeerCertificate } {
    return this.peer.certificate ? { transportSecurityType: 'ssl', sslPeerCertificate: this.peer.certificate } : {};
  }

  getPeer(): string {
    return this.peer.address;
  }

  sendMetadata(_md?: Metadata): void {
    if (!this.over && !this.gone) this.output.open();
  }

  write(m: unknown, done?: () => void): boolean {
    if (this.over || this.gone) return false;
    return this.output.message(m, done);
  }

  end(): void {
    this.settle(undefined);
  }

  /** A handler reports its error as grpc-js's calls take it, as an 'error' event; listeners (a response writer) hear it too. */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error') {
      const err = args[0] as Partial<ServiceError> & Error;
      this.settle(serviceError(typeof err.code === 'number' ? err.code : status.INTERNAL, err.details ?? err.message));
      if (this.listenerCount('error') === 0) return true;
    }
    return super.emit(event, ...args);
  }

  /** The client went away: the handler stops its work and gives its slot back. */
  cancel(): void {
    if (this.over || this.gone) return;
    this.gone = true;
    super.emit('cancelled');
    super.emit('close');
  }

  /**
   * The server is closing: the client gets `err` as the call's last word, and the handler
   * stops as if the client had gone (its subscription ends, its slot is given back).
   */
  abandon(err: ServiceError): void {
    this.settle(err);
    if (this.gone) return;
    this.gone = true;
    super.emit('cancelled');
  }

  /** The output takes messages again. */
  drain(): void {
    if (!this.over && !this.gone) super.emit('drain');
  }

  private settle(err: ServiceError | undefined): void {
    if (this.over) return;
    this.over = true;
    if (this.gone) return;
    this.output.finish(err);
    super.emit('close');
  }
}

/** A unary handler's answer: the value, or the status it failed with (the guard's refusal included). */
export function callUnary<Req, Res>(
  handler: (call: GatewayCall<Req>, callback: (err: ServiceError | null, value?: Res | null) => void) => void,
  request: Req,
  peer: CallPeer,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const call = new GatewayCall(request, peer, {
      open: () => undefined,
      message: () => true,
      finish: (err) => reject(err ?? serviceError(status.INTERNAL, 'the call ended without an answer')),
    });
    handler(call, (err, value) => {
      if (err) reject(err);
      else if (value === undefined || value === null) reject(serviceError(status.INTERNAL, 'the call ended without an answer'));
      else resolve(value);
    });
  });
}
