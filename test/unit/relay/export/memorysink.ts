// An in-memory BatchSink for the export tests, strict about the contract: it refuses a
// batch out of sequence and counts what it stored, so a duplicate or a gap fails loudly.
import { flowsOf } from '../../../../columns/rebuild';
import type { FlowBatch } from '../../../../proto/gen/export/v1/export';
import type { IncomingColumns } from '../../../../relay/export/columns';
import type { Accepted, BatchSink } from '../../../../relay/export/ingest';


export class MemorySink implements BatchSink {
  /** Stored batches, each with its flows as the columns gave them back. */
  readonly batches = new Map<string, FlowBatch[]>();
  /** Set to make the next accept() calls fail (the store is down). */
  failing = false;
  /** Delay before accept() resolves, to hold batches in flight. */
  delayMs = 0;
  /** While set, storing waits for it: holds batches in flight for as long as a test needs, however slow the machine. */
  gate: Promise<void> | null = null;
  accepts = 0;
  /** Batches offered out of sequence: must stay 0. */
  violations = 0;

  /** Sessions are keyed by id alone unless `byNode`: the tests of one node's sessions read them by id. */
  constructor(private readonly byNode = false) {}

  key(nodeName: string, sessionId: string): string {
    return this.byNode ? `${nodeName}/${sessionId}` : sessionId;
  }

  /** Per session: the position it was taken over at (stored batches follow it). */
  readonly base = new Map<string, bigint>();
  /** Takeovers recorded, in order. */
  readonly takeovers: { key: string; after: bigint; previous: string }[] = [];
  /** Retractions done, in order. */
  readonly retractions: { key: string; after: bigint; through: bigint }[] = [];

  async position(nodeName: string, sessionId: string): Promise<bigint> {
    const key = this.key(nodeName, sessionId);
    return (this.base.get(key) ?? 0n) + BigInt(this.batches.get(key)?.length ?? 0);
  }

  async takeover(nodeName: string, sessionId: string, after: bigint, previous: string): Promise<void> {
    const key = this.key(nodeName, sessionId);
    await this.tail;
    if ((await this.position(nodeName, sessionId)) >= after) throw new Error(`takeover of ${key} at ${after}, at or below its position`);
    this.takeovers.push({ key, after, previous });
    // The batches below stay; the next one stored is after + 1.
    const kept = this.batches.get(key) ?? [];
    this.base.set(key, after - BigInt(kept.length));
  }

  async retract(nodeName: string, sessionId: string, after: bigint, through: bigint): Promise<void> {
    const key = this.key(nodeName, sessionId);
    await this.tail;
    // As the store: never above a later takeover of the session (what followed it is its own).
    const above = this.takeovers.filter((t) => t.key === key && t.after > after).map((t) => t.after);
    const upTo = above.reduce((m, t) => (t < m ? t : m), through);
    this.retractions.push({ key, after, through: upTo });
    const base = this.base.get(key) ?? 0n;
    const list = this.batches.get(key) ?? [];
    const kept = list.filter((b) => b.sequence <= after || b.sequence > upTo);
    this.batches.set(key, kept);
    // The takeover stays, so the position does too.
    if (above.length > 0) this.base.set(key, base + BigInt(list.length - kept.length));
    else if (base > after) this.base.set(key, after - BigInt(kept.length));
  }

  /** Stores batches one after another, in the order taken, as the relay's store does. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Sessions whose last batch failed: the batches taken behind it fail too. */
  private readonly broken = new Set<string>();

  async accept(b: FlowBatch, incoming: IncomingColumns): Promise<Accepted> {
    this.accepts++;
    const key = this.key(b.nodeName, b.sessionId);
    // Taken in sequence: a fresh take of a session starts over from its stored position.
    const next = async (): Promise<bigint> => (await this.position(b.nodeName, b.sessionId)) + 1n;
    if (b.sequence === (await next())) this.broken.delete(key);
    const stored = this.tail.then(async () => {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.gate) await this.gate;
      if (this.broken.has(key)) throw new Error('an earlier batch of the session was not stored');
      if (this.failing) {
        this.broken.add(key);
        throw new Error('store unavailable');
      }
      const list = this.batches.get(key) ?? [];
      if (b.sequence !== (await next())) {
        this.violations++;
        throw new Error(`sink got batch ${b.sequence} of ${key} at position ${(await next()) - 1n}`);
      }
      list.push({ ...b, flows: flowsOf(incoming.columns) });
      this.batches.set(key, list);
    });
    this.tail = stored.catch(() => undefined);
    return { stored };
  }

  /** Every stored flow's uuid, in store order. */
  uuids(): string[] {
    return [...this.batches.values()].flatMap((l) => l.flatMap((b) => b.flows.map((f) => f.uuid)));
  }

}
