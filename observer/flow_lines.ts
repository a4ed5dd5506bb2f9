// Flows as `cillion observe` (and `hubble observe`) write them with `-o json` or `-o jsonpb`,
// one JSON object a line, read back for the file-backed observer. A line is Hubble's
// {"flow", "node_name", "time"}, the protobuf JSON of a GetFlowsResponse, or a bare flow.Flow.
import { createInterface } from 'node:readline';
import { Flow } from '../proto/gen/flow/flow';
import { GetFlowsResponse } from '../proto/gen/observer/observer';

export class FlowLineError extends Error {}

export type FlowLine =
  | { kind: 'flow'; flow: Flow }
  /** A response that holds no flow (lost events, node status, Hubble's agent or debug events). */
  | { kind: 'event'; type: string }
  | { kind: 'blank' };

export interface LineError {
  line: number;
  message: string;
}

export interface FlowLines {
  flows: Flow[];
  /** Lines holding a response without a flow. */
  events: number;
  errors: LineError[];
}

// Response types that hold no flow, under both JSON spellings; Hubble's agent and debug events
// are listed so their lines are not mistaken for bare flows.
const EVENT_KEYS: Record<string, string> = {
  nodeStatus: 'node status', node_status: 'node status',
  lostEvents: 'lost events', lost_events: 'lost events',
  agentEvent: 'agent event', agent_event: 'agent event',
  debugEvent: 'debug event', debug_event: 'debug event',
};

// Every flow Hubble or Cillion emits has these; a bare object with neither is not a flow.
const FLOW_KEYS = ['time', 'uuid'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function decode(obj: Record<string, unknown>): FlowLine {
  if ('flow' in obj && obj.flow !== null) {
    if (!isObject(obj.flow)) throw new FlowLineError('"flow" is not an object');
    const r = GetFlowsResponse.fromJSON(obj);
    if (r.responseTypes?.$case !== 'flow') throw new FlowLineError('"flow" holds no flow');
    const flow = r.responseTypes.value;
    // Hubble puts the node on the response too; a flow that lacks its own takes that one.
    if (flow.nodeName === '' && r.nodeName !== '') flow.nodeName = r.nodeName;
    return { kind: 'flow', flow };
  }
  const event = Object.keys(obj).find((k) => k in EVENT_KEYS && obj[k] !== null);
  if (event !== undefined) return { kind: 'event', type: EVENT_KEYS[event] };
  if (!FLOW_KEYS.some((k) => k in obj)) throw new FlowLineError('neither a GetFlowsResponse nor a flow (no "flow", "time" or "uuid")');
  return { kind: 'flow', flow: Flow.fromJSON(obj) };
}

/** One line; throws FlowLineError saying what is wrong with it. */
export function parseFlowLine(text: string): FlowLine {
  if (text.trim() === '') return { kind: 'blank' };
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    throw new FlowLineError(`not JSON: ${(e as Error).message}`);
  }
  if (!isObject(obj)) throw new FlowLineError('not a JSON object');
  try {
    return decode(obj);
  } catch (e) {
    // ts-proto's fromJSON throws plain errors on values it cannot convert (a bad timestamp).
    if (e instanceof FlowLineError) throw e;
    throw new FlowLineError(`bad field value: ${(e as Error).message}`);
  }
}

/** Every line of `input`; a bad line is recorded by number (from 1) and reading goes on. */
export async function readFlowLines(input: NodeJS.ReadableStream): Promise<FlowLines> {
  const out: FlowLines = { flows: [], events: 0, errors: [] };
  let n = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    n++;
    try {
      const line = parseFlowLine(text);
      if (line.kind === 'flow') out.flows.push(line.flow);
      else if (line.kind === 'event') out.events++;
    } catch (e) {
      if (!(e instanceof FlowLineError)) throw e;
      out.errors.push({ line: n, message: e.message });
    }
  }
  return out;
}
