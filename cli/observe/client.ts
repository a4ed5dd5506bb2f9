// The Observer client for every client command: one address syntax (host:port or
// unix:///path) and one way to turn gRPC failures into messages a user can act on.
import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { ObserverClient } from '../../proto/gen/observer/observer';
import type { Connection } from './client_tls';

export const DEFAULT_SERVER = '127.0.0.1:4245';
export const DEFAULT_NODE_SOCKET = 'unix:///var/run/cillion/observer.sock';

export function observerClient(c: Connection): ObserverClient {
  return new ObserverClient(c.address, c.credentials, c.options);
}

export function isServiceError(e: unknown): e is ServiceError {
  return typeof e === 'object' && e !== null && 'code' in e && typeof (e as ServiceError).code === 'number' && 'details' in e;
}

/** One line for the user: what went wrong talking to `address`. */
export function describeError(e: unknown, address: string): string {
  if (!isServiceError(e)) return e instanceof Error ? e.message : String(e);
  switch (e.code) {
    case grpcStatus.UNAVAILABLE:
    case grpcStatus.DEADLINE_EXCEEDED:
      return `cannot reach the Observer API at ${address}: ${e.details.replace(/\s*Resolution note:\s*$/, '')}`;
    case grpcStatus.INVALID_ARGUMENT:
      return `the server refused the request: ${e.details}`;
    default:
      return `${address}: ${grpcStatus[e.code] ?? e.code}: ${e.details}`;
  }
}
