// Every limit a client hits is counted by kind in /metrics and logged, at most one line per
// kind every `intervalMs` (with how many were not logged), so a flood of bad requests
// cannot flood the log as well.
import type { BreachKind } from './limits';
import type { RelayMetrics } from './metrics';

export class Breaches {
  private readonly lastLogged = new Map<BreachKind, number>();
  private readonly suppressed = new Map<BreachKind, number>();

  constructor(
    private readonly metrics: RelayMetrics,
    private readonly log: (line: string) => void,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  record(kind: BreachKind, message: string, peer: string): void {
    this.metrics.breach(kind);
    const t = this.now();
    const last = this.lastLogged.get(kind);
    if (last !== undefined && t - last < this.intervalMs) {
      this.suppressed.set(kind, (this.suppressed.get(kind) ?? 0) + 1);
      return;
    }
    const more = this.suppressed.get(kind) ?? 0;
    this.suppressed.delete(kind);
    this.lastLogged.set(kind, t);
    // The message may quote client input; limits keep it short, this keeps the log line so.
    const text = message.length > 300 ? `${message.slice(0, 300)}...` : message;
    this.log(`limit ${kind} from ${peer}: ${text}${more > 0 ? ` (${more} more since the last line)` : ''}`);
  }
}
