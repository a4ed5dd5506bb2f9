// What the fan-out needs of a response still in its wire form: its time and its flow's uuid,
// read from the bytes, so flows pass through a fan-out without being decoded and encoded
// again. A peer's batches are split into their responses the same way.
import { fields, varint, type Field } from '../../observer/wire_names';

const RESPONSE_FLOW = 1;
const RESPONSE_NODE_STATUS = 2;
const RESPONSE_LOST_EVENTS = 3;
const RESPONSE_NODE_NAME = 1000;
const RESPONSE_TIME = 1001;
const FLOW_TIME = 1;
const FLOW_NODE_NAME = 11;
const FLOW_UUID = 34;
const BATCH_RESPONSES = 1;

/**
 * Responses one peer batch may hold. A relay's batches are cut at 1 MiB, and a flow response
 * takes well over 64 bytes, so a real batch holds far fewer; a batch of tiny responses past
 * this would overfill the fan-out's queue many times over in one message.
 */
export const MAX_BATCH_RESPONSES = 16_384;

/** A Timestamp message's time in nanoseconds; undefined when it is none. */
function timestamp(b: Buffer, f: Field): bigint | undefined {
  const parts = fields(b, f.payload, f.end);
  if (!parts) return undefined;
  let seconds = 0;
  let nanos = 0;
  for (const p of parts) {
    if (p.wireType !== 0) continue;
    const v = varint(b, p.payload, p.end);
    if (!v) return undefined;
    if (p.field === 1) seconds = v[0];
    else if (p.field === 2) nanos = v[0];
  }
  return BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
}

export interface WireFacts {
  timeNs: bigint | undefined;
  /** What the response carries: a flow, an event (node status, lost events), or nothing known. */
  kind: 'flow' | 'event' | 'none';
  /** The flow's uuid; empty for an event. */
  uuid: string;
  /** The flow's node name (the response's when the flow has none); empty for an event. */
  node: string;
}

/** Time and uuid of an encoded GetFlowsResponse; undefined when the bytes are not one. */
export function wireFacts(b: Buffer): WireFacts | undefined {
  const top = fields(b, 0, b.length);
  if (!top) return undefined;
  let timeNs: bigint | undefined;
  let flowTime: bigint | undefined;
  let uuid = '';
  let node = '';
  let responseNode = '';
  let kind: WireFacts['kind'] = 'none';
  for (const f of top) {
    if (f.wireType !== 2) continue;
    if (f.field === RESPONSE_TIME) timeNs = timestamp(b, f);
    else if (f.field === RESPONSE_NODE_NAME) responseNode = b.toString('utf8', f.payload, f.end);
    else if (f.field === RESPONSE_NODE_STATUS || f.field === RESPONSE_LOST_EVENTS) kind = 'event';
    else if (f.field === RESPONSE_FLOW) {
      kind = 'flow';
      const inner = fields(b, f.payload, f.end);
      if (!inner) return undefined;
      for (const g of inner) {
        if (g.wireType !== 2) continue;
        if (g.field === FLOW_UUID) uuid = b.toString('utf8', g.payload, g.end);
        else if (g.field === FLOW_TIME) flowTime = timestamp(b, g);
        else if (g.field === FLOW_NODE_NAME) node = b.toString('utf8', g.payload, g.end);
      }
    }
  }
  if (kind !== 'flow') return { timeNs: timeNs ?? flowTime, kind, uuid: '', node: '' };
  return { timeNs: timeNs ?? flowTime, kind, uuid, node: node || responseNode };
}

/** A peer's batch its fan-out refuses: the peer is dropped from the answer with this reason. */
export class MalformedAnswer extends Error {
  readonly code = 'PEER_MALFORMED';
}

/**
 * A GetFlowBatchesResponse as its responses' bytes (views into the message), for a peer call's
 * deserializer; a batch that is not one, or holds more than `max` responses, as an error value
 * (a deserializer that throws would only say "failed to parse").
 */
export function splitBatch(b: Buffer, max = MAX_BATCH_RESPONSES): Buffer[] | MalformedAnswer {
  const top = fields(b, 0, b.length);
  if (!top) return new MalformedAnswer('malformed GetFlowBatchesResponse');
  const out: Buffer[] = [];
  for (const f of top) {
    if (f.field !== BATCH_RESPONSES || f.wireType !== 2) continue;
    if (out.length >= max) return new MalformedAnswer(`a batch of more than ${max} responses`);
    out.push(b.subarray(f.payload, f.end));
  }
  return out;
}
