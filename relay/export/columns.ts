// Every batch as columns: what collectors send already, and the flows of a client that
// sends flow.Flow messages turned into columns on arrival, so that the rest of the relay
// has one form to judge and store.
import type { ColumnBatch } from '../../columns/batch';
import { encodeColumns } from '../../columns/encode';
import { viewColumns } from '../../columns/view';
import type { FlowBatch } from '../../proto/gen/export/v1/export';

export interface IncomingColumns {
  columns: ColumnBatch;
  /** Flows sent as messages that have no column form (refused before screening). */
  refused: number;
  /** Why the first of them was refused; '' when none was. */
  reason: string;
}

/** The batch's flows as checked columns. Throws ColumnsError on malformed columns. */
export function incomingColumns(b: FlowBatch, maxFlows: number): IncomingColumns {
  if (b.columns) return { columns: viewColumns(b.columns, { maxFlows }), refused: 0, reason: '' };
  const encoded = encodeColumns(b.flows);
  return { columns: viewColumns(encoded.columns, { maxFlows }), refused: encoded.refused.length, reason: encoded.refused[0]?.reason ?? '' };
}
