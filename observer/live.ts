// Flows on their way to live viewers, a batch at a time. A relay receives tens of
// thousands of flows a second as columns; a flow becomes a flow.Flow object only when a
// follower (or a reader of the recent ring) needs it, so flows nobody watches cost one
// reference in the ring, not an object.
import type { Flow } from '../proto/gen/flow/flow';
import { timestampNs } from './time';

export interface LiveBatch {
  readonly count: number;
  /** Capture time of flow i in milliseconds since the epoch, for ordering; NaN when unknown. */
  timeMs(i: number): number;
  /** Flow i as the Observer API serves it: a new object each call, the caller's to keep. */
  flow(i: number): Flow;
  /** The index of the flow with this uuid (text form), or -1 when the batch holds none. */
  indexOfUuid(uuid: string): number;
}

/** Flows already built, as a LiveBatch (a node's own Observer, files, tests). */
export function flowList(flows: readonly Flow[]): LiveBatch {
  let uuids: Map<string, number> | undefined;
  return {
    count: flows.length,
    timeMs: (i) => {
      const ns = timestampNs(flows[i].time);
      return ns === undefined ? NaN : Number(ns / 1_000_000n);
    },
    flow: (i) => flows[i],
    indexOfUuid: (uuid) => (uuids ??= new Map(flows.map((f, i) => [f.uuid, i]))).get(uuid) ?? -1,
  };
}
