// Every batch's collector counters (heartbeats included) on their way into the store's
// node_counters table, for dashboards: gathered for a moment and written in one insert, so a
// busy relay does not add one small insert per batch. The counters are cumulative, so a lost
// write loses nothing the next report does not carry again; a failed one is only counted.
import type { NodeCounterRow } from '../store/store';
import type { CollectorReport } from './ingest';
import { zeroCounters } from '../../observer/nodes';

export interface CounterSink {
  insertCounters(rows: NodeCounterRow[]): Promise<void>;
}

export interface CounterLogOptions {
  /** How long reports gather before they are written; default 1000 ms. */
  flushMs?: number;
  /** Rows held at most; reports beyond it wait for the next write. Default 10000. */
  maxRows?: number;
  onError?: (err: Error) => void;
}

export class CounterLog {
  private rows: NodeCounterRow[] = [];
  private readonly timer: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private readonly maxRows: number;

  constructor(
    private readonly sink: CounterSink,
    private readonly opts: CounterLogOptions = {},
  ) {
    this.maxRows = opts.maxRows ?? 10_000;
    this.timer = setInterval(() => void this.flush(), opts.flushMs ?? 1000);
    this.timer.unref();
  }

  add(r: CollectorReport): void {
    if (this.rows.length >= this.maxRows) void this.flush();
    const now = Date.now();
    const c = r.counters;
    this.rows.push({
      receivedAt: now,
      nodeName: r.nodeName,
      cluster: r.clusterName,
      sessionId: r.sessionId,
      sequence: r.sequence,
      counters: { ...zeroCounters(), ...c },
      sentAt: r.sentAtMs ?? now,
    });
  }

  /** Writes what has gathered; resolves once that and every earlier write has finished. */
  flush(): Promise<void> {
    const rows = this.rows;
    this.rows = [];
    this.writing = this.writing.then(async () => {
      if (rows.length === 0) return;
      try {
        await this.sink.insertCounters(rows);
      } catch (e) {
        this.opts.onError?.(e as Error);
      }
    });
    return this.writing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
