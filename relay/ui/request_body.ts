// A request's JSON body, read up to the body limit: past it the request is refused with 413
// before the rest is read, so a client cannot make the relay hold more than the limit.
import { status } from '@grpc/grpc-js';
import type { IncomingMessage } from 'node:http';
import { GatewayError } from './http_error';

export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => new GatewayError(status.RESOURCE_EXHAUSTED, `the request body is larger than ${maxBytes} bytes`, 413);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (b: Buffer): void => {
      size += b.length;
      if (size > maxBytes) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge());
        return;
      }
      parts.push(b);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(parts)));
    req.once('error', reject);
  });
}

/** The body as a JSON object ({} when empty); anything else is INVALID_ARGUMENT. */
export function jsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new GatewayError(status.INVALID_ARGUMENT, `the body is not JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new GatewayError(status.INVALID_ARGUMENT, 'the body must be a JSON object');
  return v as Record<string, unknown>;
}

/** What a field must hold beyond what fromJSON checks: undefined, or why the value is refused. */
export type FieldCheck = (v: unknown) => string | undefined;

const MAX_UINT64 = (1n << 64n) - 1n;

/** A google.protobuf.Timestamp: fromJSON turns anything else into NaN and fails without naming the field. */
export const rfc3339: FieldCheck = (v) =>
  typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/i.test(v) && Number.isFinite(Date.parse(v))
    ? undefined
    : 'is not an RFC 3339 time such as "2026-12-05T10:00:00Z"';

/** A uint64: fromJSON would take "-1" or 2^70 as they are, which no gRPC client can send. */
export const uint64: FieldCheck = (v) => {
  const text = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : typeof v === 'string' ? v : '';
  return /^\d{1,20}$/.test(text) && BigInt(text) <= MAX_UINT64 ? undefined : 'is not an unsigned 64-bit integer';
};

/**
 * A proto3 JSON message read by its ts-proto fromJSON; a value of the wrong type, or a field
 * `checks` refuses, is INVALID_ARGUMENT naming the field.
 */
export function fromJson<T>(fromJSON: (o: unknown) => T, body: Buffer, what: string, checks: Record<string, FieldCheck> = {}): T {
  const o = jsonObject(body);
  for (const [field, check] of Object.entries(checks)) {
    if (!Object.hasOwn(o, field) || o[field] === null) continue;
    const why = check(o[field]);
    if (why !== undefined) throw new GatewayError(status.INVALID_ARGUMENT, `${what}.${field} ${JSON.stringify(o[field]).slice(0, 64)} ${why}`);
  }
  try {
    return fromJSON(o);
  } catch (e) {
    throw new GatewayError(status.INVALID_ARGUMENT, `not a ${what}: ${(e as Error).message}`);
  }
}
