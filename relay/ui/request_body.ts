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

/** A proto3 JSON message read by its ts-proto fromJSON; a value of the wrong type is INVALID_ARGUMENT. */
export function fromJson<T>(fromJSON: (o: unknown) => T, body: Buffer, what: string): T {
  const o = jsonObject(body);
  try {
    return fromJSON(o);
  } catch (e) {
    throw new GatewayError(status.INVALID_ARGUMENT, `not a ${what}: ${(e as Error).message}`);
  }
}
