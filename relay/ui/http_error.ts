// Errors as the web UI's API answers them: JSON {code, name, message} with the gRPC status
// code and name, under the HTTP status that means the same (docs/web-ui.md).
import { status } from '@grpc/grpc-js';
import type { ServerResponse } from 'node:http';

const HTTP_STATUS: Partial<Record<status, number>> = {
  [status.INVALID_ARGUMENT]: 400,
  [status.FAILED_PRECONDITION]: 400,
  [status.OUT_OF_RANGE]: 400,
  [status.UNAUTHENTICATED]: 401,
  [status.PERMISSION_DENIED]: 403,
  [status.NOT_FOUND]: 404,
  [status.RESOURCE_EXHAUSTED]: 429,
  [status.CANCELLED]: 499,
  [status.UNIMPLEMENTED]: 501,
  [status.UNAVAILABLE]: 503,
  [status.DEADLINE_EXCEEDED]: 504,
};

/** An answer decided by the gateway itself (bad path, method, body), with its HTTP status. */
export class GatewayError extends Error {
  constructor(
    readonly code: status,
    message: string,
    readonly httpStatus: number = HTTP_STATUS[code] ?? 500,
  ) {
    super(message);
  }
}

export function httpStatusOf(code: status): number {
  return HTTP_STATUS[code] ?? 500;
}

/** The status as JSON: what an error answer carries, and an NDJSON stream's last line (under "status"). */
export function statusJson(code: status, message: string): { code: number; name: string; message: string } {
  return { code, name: status[code] ?? 'UNKNOWN', message };
}

export const API_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

export function sendError(res: ServerResponse, code: status, message: string, httpStatus = httpStatusOf(code), extra: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(httpStatus, { ...API_HEADERS, ...extra });
  res.end(`${JSON.stringify(statusJson(code, message))}\n`);
}
