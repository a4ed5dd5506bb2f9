// What the Observer asks of a flow store: flows by time range and filters, and how many
// there are. The relay's ClickHouse store answers it; without one the hub's ring does.
import type { Flow, FlowFilter } from '../proto/gen/flow/flow';

export interface FlowQuery {
  since?: Date;
  /** Inclusive, to the end of its millisecond. */
  until?: Date;
  allow: FlowFilter[];
  deny: FlowFilter[];
  limit?: number;
  /** desc with limit N gives the last N, newest first. */
  order: 'asc' | 'desc';
  /** Aborted when the caller no longer wants the answer; the store stops the engine's work. */
  signal?: AbortSignal;
}

/** A store query stopped by one of the store's own limits (time or rows); servers answer RESOURCE_EXHAUSTED. */
export class HistoryLimitError extends Error {
  readonly code = 'HISTORY_LIMIT';

  constructor(
    readonly kind: 'query_time' | 'query_rows',
    message: string,
  ) {
    super(message);
    this.name = 'HistoryLimitError';
  }
}

/** Stored flows already encoded for the wire: GetFlows sends them as they are. */
export interface EncodedFlows {
  /** Each one whole observer.GetFlowsResponse holding one flow, in the query's order. */
  messages: Buffer[];
  /** The uuid of messages[i]'s flow, as text. */
  uuid(i: number): string;
  /** The time of messages[i]'s flow, in nanoseconds since 1970. */
  timeNs(i: number): bigint;
}

export interface FlowHistory {
  query(q: FlowQuery): AsyncIterable<Flow>;
  /**
   * The flows `query` gives, as GetFlowsResponse wire bytes, when the store decides every
   * filter itself; undefined when it does not (the caller then reads `query`). Each message
   * decodes to what GetFlows makes of the Flow `query` gives for it.
   */
  encoded?(q: FlowQuery): AsyncIterable<EncodedFlows> | undefined;
  count(): Promise<bigint>;
}
