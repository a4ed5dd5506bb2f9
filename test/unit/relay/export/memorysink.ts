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
  accepts = 0;
  /** Batches offered out of sequence: must stay 0. */
  violations = 0;

  /** Sessions are keyed by id alone unless `byNode`: the tests of one node's sessions read them by id. */
  constructor(private readonly byNode = false) {}

  key(nodeName: string, sessionId: string): string {
    return this.byNode ? `${nodeName}/${sessionId}` : sessionId;
  }

  async position(nodeName: string, sessionId: string): Promise<bigint> {
    return BigInt(this.batches.get(this.key(nodeName, sessionId))?.length ?? 0);
  }

  /** Stores batches one after another, in the order taken, as the relay's store does. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Sessions whose last batch failed: the batches taken behind it fail too. */
  private readonly broken = new Set<string>();

  async accept(b: FlowBatch, incoming: IncomingColumns): Promise<Accepted> {
    this.accepts++;
    const key = this.key(b.nodeName, b.sessionId);
    // Taken in sequence: a fresh take of a session starts over from its stored position.
    if (b.sequence === BigInt((this.batches.get(key)?.length ?? 0) + 1)) this.broken.delete(key);
    const stored = this.tail.then(async () => {
      if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.broken.has(key)) throw new Error('an earlier batch of the session was not stored');
      if (this.failing) {
        this.broken.add(key);
        throw new Error('store unavailable');
      }
      const list = this.batches.get(key) ?? [];
      if (b.sequence !== BigInt(list.length + 1)) {
        this.violations++;
        throw new Error(`sink got batch ${b.sequence} of ${key} at position ${list.length}`);
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
