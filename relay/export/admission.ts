// What an export message costs before it is decoded. A FlowBatch of a million empty flows
// is 2 MB on the wire and gigabytes as objects, so the relay reads the message's top-level
// fields first (counting flows, measuring names) and admits only what fits: within the
// flow and name limits, and within the ingest budget, the estimated memory of every batch
// received and not yet stored, over all streams. A message refused here never becomes
// objects; the stream handler turns the refusal into a status. An admitted message is
// decoded in two steps: its header at once, its flows only when the stream handles it
// (decodeFlows), so batches waiting in paused streams stay wire bytes. A batch of columns
// (FlowBatch.columns) is counted by its column count and, until the ingest reads columns
// itself, turned into flows by decodeFlows.
import { status } from '@grpc/grpc-js';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { flowsOf } from '../../columns/rebuild';
import { viewColumns } from '../../columns/view';
import { FlowBatch } from '../../proto/gen/export/v1/export';
import { Flow } from '../../proto/gen/flow/flow';
import type { BreachKind, RelayLimits } from '../limits';

/** Decoded memory of a flow beyond its wire bytes (a ts-proto Flow with defaults is ~700 B). */
const FLOW_OVERHEAD = 768;
/** Decoded bytes per wire byte, an upper bound measured on label- and string-heavy flows. */
const WIRE_FACTOR = 8;

export function batchCost(wireBytes: number, flows: number): number {
  return wireBytes * WIRE_FACTOR + flows * FLOW_OVERHEAD;
}

/** How far past its limit the budget goes before messages are refused instead of paused. */
export const HARD_FACTOR = 4;

/** A message that was not decoded, and why. */
export interface Refusal {
  code: status;
  kind: BreachKind;
  message: string;
}

interface Admission {
  cost: number;
  refusal?: Refusal;
  /** The flows' wire bytes, until decodeFlows() turns them into the batch's flows. */
  flows?: Uint8Array[];
  /** Flows a batch may hold (the limit its columns are checked against). */
  maxFlows?: number;
}

/** Admission of each decoded message, keyed by the object the deserializer returned. */
const admissions = new WeakMap<object, Admission>();

/** The refusal of a message the bounded deserializer did not decode, if it was refused. */
export function refusalOf(b: FlowBatch): Refusal | undefined {
  return admissions.get(b)?.refusal;
}

/** Gives back the budget a decoded message holds; once per message, later calls do nothing. */
export function releaseBatch(budget: IngestBudget | undefined, b: FlowBatch): void {
  const a = admissions.get(b);
  if (!a || a.cost === 0) return;
  budget?.release(a.cost);
  a.cost = 0;
}

/**
 * Memory held by export batches between decoding and storing. Past `limit` streams pause
 * (HTTP/2 flow control pushes back on the collectors). A paused stream still has up to
 * three messages decoded (grpc-js reads one ahead, Node's stream buffers one, one is being
 * handled), so many streams can go past the limit; a message that would take it past
 * HARD_FACTOR times the limit is refused with RESOURCE_EXHAUSTED.
 */
export class IngestBudget {
  private used = 0;
  /** Batches being handled right now, over all streams. */
  private handling = 0;
  private waiters: Array<() => void> = [];
  /** Told when the budget fills: holders of batches that cannot be stored yet give them up. */
  private readonly pressure = new Set<() => void>();

  constructor(readonly limit: number) {}

  get inflight(): number {
    return this.used;
  }

  get full(): boolean {
    return this.used >= this.limit;
  }

  /** Takes `cost` unless that passes the hard cap; one batch is always admitted when nothing is held. */
  take(cost: number): boolean {
    if (this.used > 0 && this.used + cost > HARD_FACTOR * this.limit) return false;
    this.used += cost;
    if (this.full && this.pressure.size > 0) {
      const listeners = [...this.pressure];
      queueMicrotask(() => listeners.forEach((l) => l()));
    }
    return true;
  }

  /** Calls `fn` whenever the budget fills, until the returned function is called. */
  onFull(fn: () => void): () => void {
    this.pressure.add(fn);
    return () => this.pressure.delete(fn);
  }

  release(cost: number): void {
    if (cost === 0) return;
    this.used = Math.max(0, this.used - cost);
    this.wake();
  }

  /** Around the handling of one batch: while none is handled, paused streams must read on. */
  begin(): void {
    this.handling++;
  }

  end(): void {
    this.handling--;
    this.wake();
  }

  /**
   * Runs `fn` once a stream may read again (now, if it may): when the budget is below its
   * limit, or when no batch is being handled anywhere, since then what fills the budget is
   * batches decoded ahead in paused streams, which only reading lets through.
   */
  whenFree(fn: () => void): void {
    if (this.open) fn();
    else this.waiters.push(fn);
  }

  private get open(): boolean {
    return !this.full || this.handling === 0;
  }

  private wake(): void {
    if (!this.open || this.waiters.length === 0) return;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}

interface Shape {
  /** Each flow's wire bytes (views into the message). */
  flows: Uint8Array[];
  /** FlowColumns.count of the batch's columns (0 without). */
  columnFlows: number;
  longestName: number;
  /** Every field but the flows, as wire bytes. */
  header: Uint8Array[];
}

/** FlowBatch's top-level fields, read without decoding flows. Throws on malformed protobuf. */
function shapeOf(bytes: Uint8Array): Shape {
  const r = new BinaryReader(bytes);
  const flows: Uint8Array[] = [];
  const header: Uint8Array[] = [];
  let longestName = 0;
  let columnFlows = 0;
  while (r.pos < r.len) {
    const start = r.pos;
    const [field, wire] = r.tag();
    if (field === 5 && wire === WireType.LengthDelimited) {
      flows.push(r.bytes());
      continue;
    }
    if (field === 8 && wire === WireType.LengthDelimited) {
      columnFlows = Math.max(columnFlows, columnCount(r.bytes()));
    } else if ((field === 1 || field === 2 || field === 3) && wire === WireType.LengthDelimited) {
      longestName = Math.max(longestName, r.bytes().length);
    } else {
      r.skip(wire, field);
    }
    header.push(bytes.subarray(start, r.pos));
  }
  return { flows, columnFlows, longestName, header };
}

/** FlowColumns.count, read without decoding the columns (the last one wins, as in a decode). */
function columnCount(bytes: Uint8Array): number {
  const r = new BinaryReader(bytes);
  let count = 0;
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WireType.Varint) count = r.uint32();
    else r.skip(wire, field);
  }
  return count;
}

/**
 * Decodes the flows of an admitted batch in place, once, and turns a batch's columns into
 * its flows. Throws on malformed flows, or columns that do not fit together (MALFORMED_COLUMNS).
 */
export function decodeFlows(b: FlowBatch): void {
  const a = admissions.get(b);
  const raw = a?.flows;
  if (a && raw) {
    a.flows = undefined;
    b.flows = raw.map((f) => Flow.decode(f));
  }
  rebuildFlows(b, a?.maxFlows ?? b.columns?.count ?? 0);
}

/** Turns the batch's columns into its flows (throws MalformedColumnsError on columns that do not fit together). */
function rebuildFlows(b: FlowBatch, maxFlows: number): void {
  if (!b.columns || b.flows.length > 0) return;
  b.flows = flowsOf(viewColumns(b.columns, { maxFlows }));
}

function refuse(r: Refusal): FlowBatch {
  const b = FlowBatch.fromPartial({});
  admissions.set(b, { cost: 0, refusal: r });
  return b;
}

/** The request deserializer of FlowExport.Export under these limits and this budget. */
export function boundedBatchDecoder(limits: RelayLimits, budget: IngestBudget): (bytes: Buffer) => FlowBatch {
  return (bytes) => {
    let shape: Shape;
    try {
      shape = shapeOf(bytes);
    } catch (e) {
      return refuse({ code: status.INVALID_ARGUMENT, kind: 'malformed', message: `malformed FlowBatch: ${(e as Error).message}` });
    }
    if (shape.flows.length > 0 && shape.columnFlows > 0) {
      return refuse({ code: status.INVALID_ARGUMENT, kind: 'malformed', message: 'batch carries both flows and columns; send one or the other' });
    }
    const flowCount = shape.flows.length + shape.columnFlows;
    if (flowCount > limits.maxBatchFlows) {
      return refuse({ code: status.RESOURCE_EXHAUSTED, kind: 'batch_flows', message: `batch of ${flowCount} flows; at most ${limits.maxBatchFlows} per batch` });
    }
    if (shape.longestName > limits.maxNodeNameLength) {
      return refuse({
        code: status.INVALID_ARGUMENT,
        kind: 'node_name',
        message: `node, cluster or session name of ${shape.longestName} bytes; at most ${limits.maxNodeNameLength}`,
      });
    }
    const cost = batchCost(bytes.length, flowCount);
    if (!budget.take(cost)) {
      return refuse({ code: status.RESOURCE_EXHAUSTED, kind: 'ingest_full', message: `relay ingest is full (${budget.inflight} bytes in flight); send again later` });
    }
    let b: FlowBatch;
    try {
      b = FlowBatch.decode(Buffer.concat(shape.header));
    } catch (e) {
      budget.release(cost);
      return refuse({ code: status.INVALID_ARGUMENT, kind: 'malformed', message: `malformed FlowBatch: ${(e as Error).message}` });
    }
    admissions.set(b, { cost, flows: shape.flows, maxFlows: limits.maxBatchFlows });
    return b;
  };
}
