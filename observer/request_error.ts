// A GetFlows request the server will not answer as asked: its status code, its message, and
// the limit it hit (the `kind` of cillion_limit_breaches_total) when it hit one.
import type { status } from '@grpc/grpc-js';

export class RequestError extends Error {
  constructor(
    readonly code: status,
    message: string,
    readonly limit?: 'filters' | 'time_range' | 'query_time' | 'stalled',
  ) {
    super(message);
  }
}
