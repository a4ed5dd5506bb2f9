// What an export message costs before it is decoded. A FlowBatch of a million empty flows
// is 2 MB on the wire and gigabytes as objects, so the relay reads the message's top-level
// fields first (counting flows, measuring names) and admits only what fits: within the
// flow and name limits, and within the ingest budget, the estimated memory of every batch
// received and not yet stored, over all streams. A message refused here never becomes
// objects; the stream handler turns the refusal into a status. An admitted message is
// decoded in two steps: its header at once, its flows only when the stream handles it
// (decodeFlows), so batches waiting in paused streams stay wire bytes.
import { status } from '@grpc/grpc-js';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { FlowBatch, FlowColumns } from '../../proto/gen/export/v1/export';
import { Flow } from '../../proto/gen/flow/flow';
import type { BreachKind, RelayLimits } from '../limits';

/** Decoded memory of a flow beyond its wire bytes (a ts-proto Flow with defaults is ~700 B). */
const FLOW_OVERHEAD = 768;
/** Decoded bytes per wire byte, an upper bound measured on label- and string-heavy flows. */
const WIRE_FACTOR = 8;

export function batchCost(wireBytes: number, flows: number): number {
  return wireBytes * WIRE_FACTOR + flows * FLOW_OVERHEAD;
}

/** Decoded memory of a column batch: its columns (kept as wire bytes, some copied once) and its tables as objects. */
const COLUMN_WIRE_FACTOR = 2;
const STRING_OVERHEAD = 64;
const ENDPOINT_OVERHEAD = 1024;
const PATH_OVERHEAD = 2048;

export function columnsCost(wireBytes: number, t: TableSizes): number {
  return wireBytes * COLUMN_WIRE_FACTOR + t.strings * STRING_OVERHEAD + t.endpoints * ENDPOINT_OVERHEAD + t.paths * PATH_OVERHEAD;
}

/** A FlowColumns message's flow count and table sizes, read without decoding it. */
export interface TableSizes {
  count: number;
  strings: number;
  endpoints: number;
  paths: number;
}

/**
 * How large a column batch's tables may be for its flows: a flow names at most 7 strings,
 * 2 endpoints and 1 path, plus a few shared ones; beyond that a table is padding that
 * would cost memory as objects and store nothing.
 */
function tablesFit(t: TableSizes): string | undefined {
  const allow = (perFlow: number) => perFlow * t.count + 16;
  if (t.strings > allow(8)) return `column batch of ${t.count} flows with ${t.strings} strings; at most ${allow(8)}`;
  if (t.endpoints > allow(2)) return `column batch of ${t.count} flows with ${t.endpoints} endpoints; at most ${allow(2)}`;
  if (t.paths > allow(1)) return `column batch of ${t.count} flows with ${t.paths} paths; at most ${allow(1)}`;
  return undefined;
}

/** How far past its limit the budget goes before messages are refused instead of paused. */
export const HARD_FACTOR = 4;

/** A message that was not decoded, and why. */
export interface AdmissionRefusal {
  code: status;
  kind: BreachKind;
  message: string;
}

interface Admission {
  cost: number;
  refusal?: AdmissionRefusal;
  /** The flows' wire bytes, until decodeFlows() turns them into the batch's flows. */
  flows?: Uint8Array[];
  /** The FlowColumns' wire bytes, until decodeFlows() turns them into the batch's columns. */
  columns?: Uint8Array;
}

/** Admission of each decoded message, keyed by the object the deserializer returned. */
const admissions = new WeakMap<object, Admission>();

/** The refusal of a message the bounded deserializer did not decode, if it was refused. */
export function refusalOf(b: FlowBatch): AdmissionRefusal | undefined {
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
  /** The FlowColumns message's wire bytes, if the batch has one (the last, as protobuf merges). */
  columns?: Uint8Array;
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
  let columns: Uint8Array | undefined;
  while (r.pos < r.len) {
    const start = r.pos;
    const [field, wire] = r.tag();
    if (field === 5 && wire === WireType.LengthDelimited) {
      flows.push(r.bytes());
      continue;
    }
    if (field === 8 && wire === WireType.LengthDelimited) {
      columns = r.bytes();
      continue;
    }
    if ((field === 1 || field === 2 || field === 3) && wire === WireType.LengthDelimited) {
      longestName = Math.max(longestName, r.bytes().length);
    } else {
      r.skip(wire, field);
    }
    header.push(bytes.subarray(start, r.pos));
  }
  return { flows, columns, longestName, header };
}

/** FlowColumns' count and table sizes from its top-level fields. Throws on malformed protobuf. */
function tableSizes(bytes: Uint8Array): TableSizes {
  const r = new BinaryReader(bytes);
  const t: TableSizes = { count: 0, strings: 0, endpoints: 0, paths: 0 };
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1 && wire === WireType.Varint) t.count = r.uint32();
    else if (field === 2 && wire === WireType.LengthDelimited) (t.strings++, r.skip(wire, field));
    else if (field === 3 && wire === WireType.LengthDelimited) (t.endpoints++, r.skip(wire, field));
    else if (field === 4 && wire === WireType.LengthDelimited) (t.paths++, r.skip(wire, field));
    else r.skip(wire, field);
  }
  return t;
}

/** Decodes the flows of an admitted batch in place, once; a batch from elsewhere is left as it is. Throws on malformed flows. */
export function decodeFlows(b: FlowBatch): void {
  const a = admissions.get(b);
  if (!a) return;
  const raw = a.flows;
  const columns = a.columns;
  a.flows = undefined;
  a.columns = undefined;
  if (raw) b.flows = raw.map((f) => Flow.decode(f));
  if (columns) b.columns = FlowColumns.decode(columns);
}

function refuse(r: AdmissionRefusal): FlowBatch {
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
    if (shape.flows.length > 0 && shape.columns) {
      return refuse({ code: status.INVALID_ARGUMENT, kind: 'malformed', message: 'batch carries both flows and columns; send one or the other' });
    }
    let tables: TableSizes | undefined;
    try {
      tables = shape.columns ? tableSizes(shape.columns) : undefined;
    } catch (e) {
      return refuse({ code: status.INVALID_ARGUMENT, kind: 'malformed', message: `malformed FlowColumns: ${(e as Error).message}` });
    }
    const flowCount = tables ? tables.count : shape.flows.length;
    if (flowCount > limits.maxBatchFlows) {
      return refuse({ code: status.RESOURCE_EXHAUSTED, kind: 'batch_flows', message: `batch of ${flowCount} flows; at most ${limits.maxBatchFlows} per batch` });
    }
    const padded = tables && tablesFit(tables);
    if (padded) return refuse({ code: status.INVALID_ARGUMENT, kind: 'malformed', message: padded });
    if (shape.longestName > limits.maxNodeNameLength) {
      return refuse({
        code: status.INVALID_ARGUMENT,
        kind: 'node_name',
        message: `node, cluster or session name of ${shape.longestName} bytes; at most ${limits.maxNodeNameLength}`,
      });
    }
    const cost = tables ? columnsCost(bytes.length, tables) : batchCost(bytes.length, shape.flows.length);
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
    admissions.set(b, { cost, flows: shape.flows, columns: shape.columns });
    return b;
  };
}
