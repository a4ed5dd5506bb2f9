// The relay's half of proto/export/v1/export.proto: batches of each session are handed to
// the sink strictly in sequence and acknowledged only once the sink has them durably.
// Duplicates (at or below the stored position) are dropped and acknowledged again; a
// batch that skips ahead is held back on its stream until the gap fills, and a stream that
// keeps skipping is refused. Batches of one session are handled one at a time even when
// an old and a new stream of the same collector overlap. A session belongs to the node that
// opened it: sessions are keyed by (node, session id), the node being the one the stream's
// certificate names (nodeOf), so another client naming the same id gets a session of its own.
import { status, type ServerDuplexStream, type StatusObject } from '@grpc/grpc-js';
import { LRUCache } from 'lru-cache';
import type { ExportAck, ExportCounters, FlowBatch, FlowExportServer } from '../../proto/gen/export/v1/export';

export interface BatchSink {
  /** Highest sequence of the node's session stored so far; 0n when none. */
  position(nodeName: string, sessionId: string): Promise<bigint>;
  /** Stores the batch's flows with its (node, session, sequence), all or none; resolves once durable. */
  accept(batch: FlowBatch): Promise<void>;
}

export interface CollectorReport {
  nodeName: string;
  clusterName: string;
  sessionId: string;
  /** The batch's sequence; 0 for a heartbeat. */
  sequence: bigint;
  counters: ExportCounters;
  /** Unix milliseconds on the collector's clock when it sent the batch. */
  sentAtMs?: number;
}

/** The node a stream's batch belongs to, or why the stream may not send it. */
export type BatchOwner = { node: string } | { refused: string };

export interface IngestOptions {
  /** Decides each batch's node from the stream (its certificate); default: the batch's own node_name. */
  nodeOf?: (call: ServerDuplexStream<FlowBatch, ExportAck>, claimed: string) => BatchOwner;
  /** Batches a stream may send ahead of the next expected one before it is refused; default 16. */
  maxHeldBatches?: number;
  /** Sessions whose position is kept in memory; older ones are read from the sink again. Default 10000. */
  maxSessions?: number;
  /** Every batch's counters (heartbeats included), for metrics and `cillion status`. */
  onCounters?: (r: CollectorReport) => void;
  /** Refused streams and sink failures, for the log. */
  onError?: (err: Error, peer: string) => void;
}

class StreamError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

/** One session's position and the queue that keeps its batches in order. */
class Session {
  private position: bigint | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly node: string,
    readonly id: string,
    private readonly sink: BatchSink,
  ) {}

  /** Runs `fn` after every earlier call for this session has finished. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  async current(): Promise<bigint> {
    if (this.position === undefined) this.position = await this.sink.position(this.node, this.id);
    return this.position;
  }

  async store(b: FlowBatch): Promise<void> {
    try {
      await this.sink.accept(b);
    } catch (e) {
      // Whether the batch made it is unknown until the sink is asked again.
      this.position = undefined;
      throw new StreamError(status.UNAVAILABLE, `storing batch ${b.sequence} of session ${this.id}: ${(e as Error).message}`);
    }
    this.position = b.sequence;
  }
}

export function exportService(sink: BatchSink, opts: IngestOptions = {}): FlowExportServer {
  const maxHeld = opts.maxHeldBatches ?? 16;
  const sessions = new LRUCache<string, Session>({ max: opts.maxSessions ?? 10_000 });
  const sessionOf = (node: string, id: string): Session => {
    // Length-prefixed: no choice of node name and id can collide with another pair.
    const key = `${node.length}:${node}/${id}`;
    let s = sessions.get(key);
    if (!s) {
      s = new Session(node, id, sink);
      sessions.set(key, s);
    }
    return s;
  };

  return {
    export(call: ServerDuplexStream<FlowBatch, ExportAck>): void {
      const peer = call.getPeer();
      const held = new Map<bigint, FlowBatch>();
      let heldSession = '';
      let queue: Promise<void> = Promise.resolve();
      let done = false;

      const fail = (e: unknown): void => {
        if (done) return;
        done = true;
        const err = e instanceof StreamError ? e : new StreamError(status.INTERNAL, (e as Error).message);
        opts.onError?.(err, peer);
        const st: Partial<StatusObject> = { code: err.code, details: err.message };
        call.emit('error', st);
      };

      const handle = async (b: FlowBatch): Promise<void> => {
        if (done) return;
        if (b.sessionId === '') throw new StreamError(status.INVALID_ARGUMENT, 'batch without session_id');
        if (b.sequence === 0n && b.flows.length > 0) throw new StreamError(status.INVALID_ARGUMENT, 'heartbeat (sequence 0) carrying flows');
        const owner = opts.nodeOf ? opts.nodeOf(call, b.nodeName) : { node: b.nodeName };
        if ('refused' in owner) throw new StreamError(status.PERMISSION_DENIED, owner.refused);
        b.nodeName = owner.node;
        // Every flow is the stream's node's: a batch cannot file flows under another node.
        for (const f of b.flows) f.nodeName = owner.node;
        if (b.counters) {
          const sentAtMs = b.sentAt ? Number(b.sentAt.seconds) * 1000 + Math.floor(b.sentAt.nanos / 1e6) : undefined;
          opts.onCounters?.({ nodeName: b.nodeName, clusterName: b.clusterName, sessionId: b.sessionId, sequence: b.sequence, counters: b.counters, sentAtMs });
        }
        const heldKey = `${b.nodeName.length}:${b.nodeName}/${b.sessionId}`;
        if (heldKey !== heldSession) {
          held.clear();
          heldSession = heldKey;
        }
        const s = sessionOf(b.nodeName, b.sessionId);
        const pos = await s.serial(async () => {
          let at = await s.current();
          if (b.sequence > at + 1n) {
            held.set(b.sequence, b);
            if (held.size > maxHeld) {
              throw new StreamError(status.FAILED_PRECONDITION, `session ${b.sessionId} is at ${at}; ${held.size} batches up to ${b.sequence} wait for the missing ones`);
            }
            return null;
          }
          if (b.sequence === at + 1n) {
            await s.store(b);
            at = b.sequence;
            for (let next = held.get(at + 1n); next; next = held.get(at + 1n)) {
              held.delete(at + 1n);
              await s.store(next);
              at = next.sequence;
            }
            for (const k of held.keys()) if (k <= at) held.delete(k);
          }
          return at;
        });
        if (pos !== null && !done) call.write({ sessionId: b.sessionId, ackedSequence: pos });
      };

      call.on('data', (b: FlowBatch) => {
        queue = queue.then(() => handle(b)).catch(fail);
      });
      call.on('end', () => {
        void queue.then(() => {
          if (done) return;
          done = true;
          call.end();
        });
      });
      call.on('error', () => {
        done = true;
      });
      call.on('cancelled', () => {
        done = true;
      });
    },
  };
}
