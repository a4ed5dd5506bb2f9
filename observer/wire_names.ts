// Node names replaced in an encoded GetFlowsResponse without decoding its flow: stored
// history and live flows are already wire bytes, and a relay with --cluster renames every
// one of them (cluster_names.ts). Only the response's node_name (1000) and the flow's
// node_name (field 11 of field 1) change; every other byte is copied as it is.
import { lengthDelimited, stringField } from '../columns/proto_writer';

const FLOW = 1;
const FLOW_NODE_NAME = 11;
const RESPONSE_NODE_NAME = 1000;

export interface Field {
  field: number;
  wireType: number;
  /** The field's bytes, tag included. */
  start: number;
  end: number;
  /** A length-delimited field's payload starts here. */
  payload: number;
}

export function varint(b: Uint8Array, at: number, end: number): [value: number, next: number] | undefined {
  let v = 0;
  let mul = 1;
  for (let i = at; i < end && i < at + 10; i++) {
    v += (b[i] & 0x7f) * mul;
    if (b[i] < 0x80) return [v, i + 1];
    mul *= 128;
  }
  return undefined;
}

/** The fields of a message in b[start, end); undefined when the bytes are not one. */
export function fields(b: Uint8Array, start: number, end: number): Field[] | undefined {
  const out: Field[] = [];
  let at = start;
  while (at < end) {
    const key = varint(b, at, end);
    if (!key) return undefined;
    const [k, next] = key;
    const wireType = k % 8;
    let payload = next;
    let stop: number;
    if (wireType === 0) {
      const v = varint(b, next, end);
      if (!v) return undefined;
      stop = v[1];
    } else if (wireType === 1) stop = next + 8;
    else if (wireType === 5) stop = next + 4;
    else if (wireType === 2) {
      const len = varint(b, next, end);
      if (!len) return undefined;
      payload = len[1];
      stop = payload + len[0];
    } else return undefined;
    if (stop > end) return undefined;
    out.push({ field: Math.floor(k / 8), wireType, start: at, end: stop, payload });
    at = stop;
  }
  return out;
}

const text = (b: Uint8Array, f: Field): string => Buffer.from(b.buffer, b.byteOffset + f.payload, f.end - f.payload).toString('utf8');

/** `b` with its node names passed through `rename`; undefined for what is not a flow response this can rewrite. */
export function renameNodes(b: Buffer, rename: (name: string) => string): Buffer | undefined {
  const top = fields(b, 0, b.length);
  if (!top || top.some((f) => f.field !== FLOW && f.field !== RESPONSE_NODE_NAME && f.field !== 1001)) return undefined;
  const parts: Uint8Array[] = [];
  for (const f of top) {
    if (f.wireType !== 2 && (f.field === FLOW || f.field === RESPONSE_NODE_NAME)) return undefined;
    if (f.field === RESPONSE_NODE_NAME) parts.push(stringField(RESPONSE_NODE_NAME, rename(text(b, f))));
    else if (f.field === FLOW) {
      const inner = fields(b, f.payload, f.end);
      if (!inner) return undefined;
      const flow: Uint8Array[] = inner.map((g) =>
        g.field === FLOW_NODE_NAME && g.wireType === 2 ? stringField(FLOW_NODE_NAME, rename(text(b, g))) : b.subarray(g.start, g.end),
      );
      parts.push(lengthDelimited(FLOW, Buffer.concat(flow)));
    } else parts.push(b.subarray(f.start, f.end));
  }
  return Buffer.concat(parts);
}
