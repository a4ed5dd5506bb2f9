// The per-minute rollup (flows_1m), filled once a minute from what arrived in the minute
// before last, instead of by a materialized view on every insert. Each minute is one
// INSERT ... SELECT with its own deduplication token: a minute rolled up twice (a retry, a
// restarted relay looking back, two relays on one server) is stored once.
import type { ClickHouseClient } from '@clickhouse/client';
import { settingsClause } from './chdb';
import { rollupRedoStatements, rollupStatement } from './schema';

/** A batch's insert lands within this long of its received_at (the rollup waits for it). */
const GRACE_S = 60;
/** How far back a started relay rolls up minutes an earlier run may have left. */
const LOOKBACK_S = 600;
const MINUTE = 60;

export class Rollup {
  /** Start of the first minute not rolled up yet (Unix seconds). */
  private next: number;
  private timer?: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: ClickHouseClient,
    private readonly db: string,
    private readonly onError: (e: Error) => void,
    now = Date.now(),
  ) {
    this.next = floorMinute(now / 1000 - LOOKBACK_S);
  }

  start(everyMs = MINUTE * 1000): void {
    this.timer = setInterval(() => {
      this.rollUp().catch((e: Error) => this.onError(e));
    }, everyMs);
    this.timer.unref();
  }

  /** Rolls up every whole minute that arrived before `until` (default: a grace period ago). */
  rollUp(until = Date.now() - GRACE_S * 1000): Promise<void> {
    const run = this.running.then(() => this.upTo(floorMinute(until / 1000)));
    this.running = run.catch(() => undefined);
    return run;
  }

  private async upTo(end: number): Promise<void> {
    for (; this.next < end; this.next += MINUTE) {
      const settings = settingsClause({
        insert_deduplication_token: `rollup:${this.next}`,
        insert_select_deduplicate: 1,
        insert_distributed_sync: 1,
        // One block, so that a retry is recognised whole.
        max_threads: 1,
        max_block_size: 100_000_000,
        min_insert_block_size_rows: 0,
        min_insert_block_size_bytes: 0,
      });
      await this.client.command({ query: rollupStatement(this.db, this.next, this.next + MINUTE, settings) });
    }
  }

  /**
   * Runs `fn` between rollups (so no rollup reads flows it changes), then rolls up the
   * node's minutes it names again if they were rolled up already: how deleted flows leave
   * flows_1m. `fn` resolves with the flow times it deleted (Unix seconds), if any.
   */
  change(node: string, fn: () => Promise<{ fromS: number; toS: number; firstReceivedS: number } | undefined>): Promise<void> {
    const run = this.running.then(async () => {
      const span = await fn();
      if (!span || span.firstReceivedS >= this.next) return;
      for (const query of rollupRedoStatements(this.db, floorMinute(span.fromS), floorMinute(span.toS), this.next)) {
        await this.client.command({ query, query_params: { node } });
      }
    });
    this.running = run.catch(() => undefined);
    return run;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}

function floorMinute(s: number): number {
  return Math.floor(s / MINUTE) * MINUTE;
}
