// How a call to the SCION daemon fails, as one error type with a stable code the operator
// can put into a status condition or a metric label, whatever gRPC or the reply did wrong.
import { status, type ServiceError } from '@grpc/grpc-js';
import type { PathServiceErrorCode } from './pathservice';

export type DaemonErrorCode =
  | PathServiceErrorCode
  | 'NOT_LOCAL_AS' //       the daemon answers Interfaces only for its own AS
  | 'INVALID_ARGUMENT' //   the daemon rejected the request as malformed
  | 'UNAVAILABLE' //        no connection to the daemon (down, unreachable, restarting)
  | 'DEADLINE_EXCEEDED' //  no answer within the call's deadline
  | 'CLOSED' //             the client was closed
  | 'BAD_RESPONSE' //       the answer does not decode or contradicts itself
  | 'DAEMON_ERROR'; //      any other failure the daemon reported

export class DaemonError extends Error {
  override readonly name = 'DaemonError';
  constructor(
    readonly code: DaemonErrorCode,
    message: string,
    /** The gRPC status code when the failure came from a call; undefined otherwise. */
    readonly grpcCode?: status,
  ) {
    super(`${code}: ${message}`);
  }
}

/** The DaemonError for a failed call; `notFound` names what NOT_FOUND means for that method. */
export function fromServiceError(err: ServiceError, method: string, notFound: DaemonErrorCode): DaemonError {
  const detail = `${method}: ${err.details || status[err.code]}`;
  switch (err.code) {
    case status.UNAVAILABLE:
      return new DaemonError('UNAVAILABLE', detail, err.code);
    case status.DEADLINE_EXCEEDED:
      return new DaemonError('DEADLINE_EXCEEDED', detail, err.code);
    case status.INVALID_ARGUMENT:
      return new DaemonError('INVALID_ARGUMENT', detail, err.code);
    case status.NOT_FOUND:
      return new DaemonError(notFound, detail, err.code);
    default:
      return new DaemonError('DAEMON_ERROR', `${detail} (${status[err.code] ?? err.code})`, err.code);
  }
}
