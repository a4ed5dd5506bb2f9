// One node's collector pipeline: ring batches -> flow table -> enrichment -> flow.Flow,
// handed in groups to whoever consumes flows (the exporter, the local Observer's hub).
// Pass `ingest` as a RingReader's onBatch; the table is expired on a timer.
import type { FlowTableGauge } from '../proto/gen/export/v1/export';
import type { Flow } from '../proto/gen/flow/flow';
import type { RecordError } from '../bpf/records';
import { enrich, type EndpointDirectory, type PathCatalog, type RemoteDirectory } from './enrich';
import { toFlow, type NodeContext } from './flow';
import { FlowTable, type FlowTableOptions, type FlowTableStats, type MeteredFlow } from './flowtable';
import type { PipelineCounters } from './exporter';

/** The export counters the datapath (packets and wire bytes per counter name) and the flow table keep. */
export function pipelineCounters(t: FlowTableStats, datapath: Record<string, { packets: bigint; bytes: bigint }>): PipelineCounters {
  const reserve = datapath.RING_RESERVE_FAIL;
  return {
    ringRecords: BigInt(t.records),
    ringReserveFailures: reserve?.packets ?? 0n,
    ringReserveFailureBytes: reserve?.bytes ?? 0n,
    decodeErrors: BigInt(t.decodeErrors),
    flowTableEvictions: BigInt(t.evictions),
    reportsDeferred: BigInt(t.deferred),
    reportsCarried: BigInt(t.carried),
    reportsLost: BigInt(t.lostReports),
    packetsLost: BigInt(t.lostPackets),
    bytesLost: BigInt(t.lostBytes),
  };
}

/** The flow table's size and configured capacity, as the export stream and `cillion status` carry them. */
export function flowTableGauge(t: FlowTableStats): FlowTableGauge {
  return { entries: BigInt(t.entries), capacity: BigInt(t.capacity) };
}

const DEFAULT_EXPIRE_EVERY_MS = 200;

export interface CollectorOptions {
  table: FlowTableOptions;
  context: NodeContext;
  endpoints: EndpointDirectory;
  paths: PathCatalog;
  /** Other clusters' endpoints, from their identity catalogues; without it remote ends stay unnamed. */
  remote?: RemoteDirectory;
  /** Receives the flows of each ingested batch and each expiry round, in order. */
  deliver: (flows: Flow[]) => void;
  /**
   * How often idle and active timeouts are checked; default 200 ms. A flow is reported when
   * the check after its due time runs and is due again a timeout after that, so the checks
   * also set how reports bunch up: once a second, every busy flow that came due within
   * that second goes in one clump (tens of thousands of reports at once on a busy node,
   * each clump then queued at the relay's store and live viewers); a fifth of that spreads
   * them five times thinner. A check costs only the flows it reports (the table keeps them
   * in due order).
   */
  expireEveryMs?: number;
  /** CLOCK_BOOTTIME now in ns; default the wall clock minus context.realtimeOffsetNs. */
  bootNowNs?: () => number;
  onDecodeError?: (err: RecordError) => void;
}

export class Collector {
  private readonly table: FlowTable;
  private out: MeteredFlow[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: CollectorOptions) {
    this.table = new FlowTable(opts.table, (f) => this.out.push(f));
  }

  /** Meters one RingReader batch (the signature of RingReaderOptions.onBatch). */
  readonly ingest = (buf: Buffer, _records: number, bytes: number): void => {
    this.table.ingestBatch(buf, bytes, this.opts.onDecodeError);
    this.deliver();
  };

  /** Runs the timeouts now. */
  expire(): void {
    this.table.expire(this.bootNow());
    this.deliver();
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.expire(), this.opts.expireEveryMs ?? DEFAULT_EXPIRE_EVERY_MS);
    this.timer.unref();
  }

  /** Stops the timer and reports every flow still in the table. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.table.flush();
    this.deliver();
  }

  stats(): FlowTableStats {
    return this.table.stats();
  }

  private bootNow(): number {
    if (this.opts.bootNowNs) return this.opts.bootNowNs();
    return Number(BigInt(Date.now()) * 1_000_000n - this.opts.context.realtimeOffsetNs);
  }

  private deliver(): void {
    if (this.out.length === 0) return;
    const metered = this.out;
    this.out = [];
    this.opts.deliver(metered.map((m) => toFlow(m, enrich(m, this.opts.endpoints, this.opts.paths, this.opts.remote), this.opts.context)));
  }
}
