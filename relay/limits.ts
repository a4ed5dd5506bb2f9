// Every bound the relay puts on what a client may send or ask, with the defaults a
// production relay runs with. docs/operations.md "Limits" lists each with its flag,
// status code and metric; `cillion relay` exposes every one as a flag.

export interface RelayLimits {
  /** Largest gRPC message accepted (grpc.max_receive_message_length). */
  maxMessageBytes: number;
  /** Flows in one FlowBatch; a larger batch is refused whole. */
  maxBatchFlows: number;
  /** Length of a node, cluster or session name. */
  maxNodeNameLength: number;
  /** Hops in one flow's SCION path. */
  maxHops: number;
  /** Labels on one endpoint. */
  maxLabels: number;
  /** Length of one label. */
  maxLabelLength: number;
  /** Length of any other string field of a flow (uuid, pod, namespace, addresses...). */
  maxStringLength: number;
  /** Filters in each of a GetFlows request's allow and deny lists. */
  maxFilters: number;
  /** Values over all fields of all filters of one GetFlows request. */
  maxFilterValues: number;
  /** Estimated memory of export batches received and not yet stored, over all streams; streams pause beyond it. */
  ingestBudgetBytes: number;
  /** Store inserts at once (each a group of batches); each costs the engine memory while it parses and writes. */
  maxConcurrentInserts: number;
  /** Flows one store insert may take from the batches waiting for it (group commit); the rest wait for the next insert. */
  maxGroupFlows: number;
  /** Uuids of recently stored flows remembered, so a uuid sent again is stored once. */
  uuidWindow: number;
  /** Wall time of one store query (ClickHouse max_execution_time), and of a GetFlows history read. */
  queryTimeoutMs: number;
  /** Rows one store query may read (ClickHouse max_rows_to_read). */
  maxRowsToRead: number;
  /** Flows queued for one live (follow) viewer; beyond it the viewer loses flows and gets a LostEvent. */
  maxFollowQueue: number;
  /** Encoded bytes of the flows queued for one live viewer; beyond it, as beyond maxFollowQueue. */
  maxFollowQueueBytes: number;
  /** GetFlows calls served at once (history reads and followers together). */
  maxFlowStreams: number;
  /** How long a flow stream waits for a client that reads nothing before it ends the call and frees its slot. */
  streamStallMs: number;
  /** Retractions that delete something, per node and minute (a token bucket holding as many); each costs the store mutations. */
  maxRetractionsPerMinute: number;
  /** Age of the stored batches a retraction may delete; older ones stay (a node cannot erase its history). */
  maxRetractAgeMs: number;
}

export const DEFAULT_LIMITS: RelayLimits = {
  maxMessageBytes: 4 * 1024 * 1024,
  maxBatchFlows: 32768,
  maxNodeNameLength: 253,
  maxHops: 64,
  maxLabels: 128,
  maxLabelLength: 1024,
  maxStringLength: 1024,
  maxFilters: 256,
  maxFilterValues: 1024,
  ingestBudgetBytes: 64 * 1024 * 1024,
  maxConcurrentInserts: 1,
  // About 10 MiB of Native block: parts large enough that the engine's cost per part and merges stop dominating.
  maxGroupFlows: 65_536,
  uuidWindow: 200_000,
  queryTimeoutMs: 30_000,
  maxRowsToRead: 500_000_000,
  // A busy node reports tens of thousands of flows within a few seconds: a viewer that keeps up takes the burst.
  maxFollowQueue: 65_536,
  // A queued flow is its encoded response (0.5-2 KB), so the bytes bound what a stuck viewer holds.
  maxFollowQueueBytes: 64 * 1024 * 1024,
  // With every queue full, 2 GiB at most.
  maxFlowStreams: 32,
  // A reader stalls when its terminal is paused or its pipe is full; half a minute is not a hiccup.
  streamStallMs: 30_000,
  // A genuine retraction follows a failover, one per session and relay; a node alternating
  // batches and retractions costs the store a few mutations a minute at most.
  maxRetractionsPerMinute: 6,
  // A genuine retraction follows its failover within minutes (the relay answers again).
  maxRetractAgeMs: 3_600_000,
};

/** The defaults with the given overrides; throws RangeError on a value that is no positive whole number. */
export function relayLimits(over: Partial<RelayLimits> = {}): RelayLimits {
  const out = { ...DEFAULT_LIMITS };
  for (const [k, v] of Object.entries(over) as [keyof RelayLimits, number | undefined][]) {
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`limit ${k} must be a positive whole number, not ${v}`);
    out[k] = v;
  }
  return out;
}

/** What kind of bound a client hit; the `kind` label of cillion_limit_breaches_total. */
export type BreachKind =
  | 'message_size'
  | 'malformed'
  | 'batch_flows'
  | 'node_name'
  | 'ingest_full'
  | 'flow_invalid'
  | 'duplicate_uuid'
  | 'filters'
  | 'time_range'
  | 'query_time'
  | 'query_rows'
  | 'flow_streams'
  | 'stalled'
  | 'handover'
  | 'retraction_rate'
  | 'retraction_age'
  | 'ui_body'
  | 'ui_connections'
  | 'ui_downloads';
