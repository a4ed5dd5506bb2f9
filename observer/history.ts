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
}

export interface FlowHistory {
  query(q: FlowQuery): AsyncIterable<Flow>;
  count(): Promise<bigint>;
}
