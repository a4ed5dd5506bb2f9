// What the fan-out needs of a response still in its wire form: its time and its flow's uuid,
// read from the bytes, so flows pass through a fan-out without being decoded and encoded
// again. A peer's batches are split into their responses the same way.
import { fields, varint, type Field } from '../../observer/wire_names';

const RESPONSE_FLOW = 1;
const RESPONSE_TIME = 1001;
const FLOW_TIME = 1;
const FLOW_UUID = 34;
const BATCH_RESPONSES = 1;

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
  /** The flow's uuid; empty for an event. */
  uuid: string;
}

/** Time and uuid of an encoded GetFlowsResponse; undefined when the bytes are not one. */
export function wireFacts(b: Buffer): WireFacts | undefined {
  const top = fields(b, 0, b.length);
  if (!top) return undefined;
  let timeNs: bigint | undefined;
  let flowTime: bigint | undefined;
  let uuid = '';
  for (const f of top) {
    if (f.wireType !== 2) continue;
    if (f.field === RESPONSE_TIME) timeNs = timestamp(b, f);
    else if (f.field === RESPONSE_FLOW) {
      const inner = fields(b, f.payload, f.end);
      if (!inner) return undefined;
      for (const g of inner) {
        if (g.wireType !== 2) continue;
        if (g.field === FLOW_UUID) uuid = b.toString('utf8', g.payload, g.end);
        else if (g.field === FLOW_TIME) flowTime = timestamp(b, g);
      }
    }
  }
  return { timeNs: timeNs ?? flowTime, uuid };
}

/** A GetFlowBatchesResponse as its responses' bytes (views into the message), for a peer call's deserializer. */
export function splitBatch(b: Buffer): Buffer[] {
  const top = fields(b, 0, b.length);
  if (!top) throw new Error('malformed GetFlowBatchesResponse');
  return top.filter((f) => f.field === BATCH_RESPONSES && f.wireType === 2).map((f) => b.subarray(f.payload, f.end));
}
