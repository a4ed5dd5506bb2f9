// The relay's half of proto/export/v1/export.proto: batches of each session are handed to
// the sink strictly in sequence and acknowledged only once the sink has them durably. A
// stream reads its next batch once the sink has taken the previous one, not once it is
// stored, so batches of every stream wait for the store together (group commit).
// Duplicates (at or below the stored position) are dropped and acknowledged again; a
// batch that skips ahead is held back on its stream until the gap fills, and a stream that
// keeps skipping is refused. Batches of one session are handled one at a time even when
// an old and a new stream of the same collector overlap. A session belongs to the node that
// opened it: sessions are keyed by (node, session id), the node being the one the stream's
// certificate names (nodeOf), so another client naming the same id gets a session of its own.
//
// Failover (proto: Handover, Retraction): a heartbeat with a Handover from another relay
// whose acknowledged sequence is above this relay's position makes this relay take the
// session over there (sink.takeover, a row in its store); a Retraction deletes the
// session's batches in its range from this relay's store. Both act on the stream's node's
// sessions only, in the session's queue, so never between a batch and its position. A
// retraction naming another relay (stale: another relay answers at that address now) or
// reaching a shared store is acknowledged and deletes nothing; one that would delete is
// bounded per node and minute (RESOURCE_EXHAUSTED beyond), since each costs the store
// mutations.
//
// Memory is bounded: a stream reads its next message only once the previous one is taken
// and the ingest budget (admission.ts) has room; a batch holds its budget until it is
// stored. Otherwise the stream is paused, and HTTP/2 flow control makes the collector wait
// and buffer on its side.
import { status, type ServerDuplexStream, type StatusObject } from '@grpc/grpc-js';
import { LRUCache } from 'lru-cache';
import type { ExportAck, ExportCounters, FlowBatch, FlowExportServer, FlowTableGauge } from '../../proto/gen/export/v1/export';
import { DEFAULT_LIMITS, type BreachKind } from '../limits';
import { RateBuckets } from './rate';
import { decodeFlows, refusalOf, releaseBatch, type IngestBudget } from './admission';
import { incomingColumns, type IncomingColumns } from './columns';

/** Flows of a batch the sink refused one by one (the rest is stored). */
export interface Rejections {
  rejected: number;
  reason: string;
}

/** A batch the sink took; `stored` settles once it is durable or refused. */
export interface Accepted {
  stored: Promise<Rejections | void>;
}

export interface BatchSink {
  /** Highest sequence of the node's session stored so far; 0n when none. */
  position(nodeName: string, sessionId: string): Promise<bigint>;
  /**
   * Takes the batch's acceptable flows (its columns) with its (node, session, sequence), to
   * store all or none; resolves once taken, when the session's next batch may be offered.
   * Batches of a session are stored in the order taken: when one's `stored` rejects, no
   * batch of its session taken after it is stored either.
   */
  accept(batch: FlowBatch, columns: IncomingColumns): Promise<Accepted>;
  /** Takes the node's session over at `after` from relay `previous`, durably: its position is `after` from then on. */
  takeover(nodeName: string, sessionId: string, after: bigint, previous: string): Promise<void>;
  /**
   * Deletes the node's session's batches in (after, through], durably; never those above a
   * takeover of the session after `after` (this relay took the session over since: what
   * it stored from then on is its own, acknowledged by it).
   */
  retract(nodeName: string, sessionId: string, after: bigint, through: bigint): Promise<void>;
}

/**
 * The highest sequence a Handover or Retraction may name. A session numbers one batch at a
 * time; 2^48 batches is a thousand a second for almost nine thousand years, so a larger
 * one is a lie (or a bug), and refusing it keeps every position and K + 1 far from the
 * 64-bit edge. Whatever a collector claims below it moves only its own node's session.
 */
export const MAX_HANDOVER_SEQUENCE = 2n ** 48n;
/** A relay name's length at most in a Handover (a DNS name's). */
export const MAX_RELAY_NAME = 253;

/** A handover or retraction done, for metrics and the log. */
export type FailoverEvent =
  | { kind: 'takeover'; node: string; sessionId: string; after: bigint; previous: string; position: bigint }
  | { kind: 'retraction'; node: string; sessionId: string; after: bigint; through: bigint; position: bigint }
  | { kind: 'retraction_ignored'; node: string; sessionId: string; after: bigint; through: bigint; reason: RetractionIgnored; named: string };

/** Why a retraction was acknowledged without deleting anything. */
export type RetractionIgnored = 'misdirected' | 'shared_store';

export interface CollectorReport {
  nodeName: string;
  clusterName: string;
  sessionId: string;
  /** The batch's sequence; 0 for a heartbeat. */
  sequence: bigint;
  counters: ExportCounters;
  /** The collector's flow table at sending time. */
  flowTable?: FlowTableGauge;
  /** Unix milliseconds on the collector's clock when it sent the batch. */
  sentAtMs?: number;
}

/** The node a stream's batch belongs to, or why the stream may not send it. */
export type BatchOwner = { node: string } | { refused: string; code?: status };

export interface IngestOptions {
  /** Decides each batch's node from the stream (its certificate); default: the batch's own node_name. */
  nodeOf?: (call: ServerDuplexStream<FlowBatch, ExportAck>, claimed: string, cluster: string) => BatchOwner;
  /** Batches a stream may send ahead of the next expected one before it is refused; default 16. */
  maxHeldBatches?: number;
  /** Sessions whose position is kept in memory; older ones are read from the sink again. Default 10000. */
  maxSessions?: number;
  /** Every batch's counters (heartbeats included), for metrics and `cillion status`. */
  onCounters?: (r: CollectorReport) => void;
  /** Refused streams and sink failures, for the log. */
  onError?: (err: Error, peer: string) => void;
  /** Messages refused by admission (too many flows, ingest full...), for metrics and the log. */
  onBreach?: (kind: BreachKind, message: string, peer: string) => void;
  /** Shared by every stream: paused while it is full, released as batches are stored. */
  budget?: IngestBudget;
  /** Flows one batch may hold; default 32768. */
  maxBatchFlows?: number;
  /** This relay's name, in every acknowledgement; a Handover naming it is no failover. */
  relayName?: string;
  /**
   * The store is shared with the other relays: a collector's previous relay stored into it
   * too, so nothing it stored is a duplicate to retract (acks never ask for it).
   */
  sharedStore?: boolean;
  /** Takeovers and retractions done. */
  onFailover?: (e: FailoverEvent) => void;
  /** Retractions that delete something, per node and minute; default 6. */
  maxRetractionsPerMinute?: number;
}

/** Each batch's columns, from when its stream checked them until it is stored. */
const columnsOf = new WeakMap<FlowBatch, IncomingColumns>();

class StreamError extends Error {
  constructor(
    readonly code: status,
    message: string,
    /** Already reported (as a limit breach), so not again as an error. */
    readonly reported = false,
  ) {
    super(message);
  }
}

/** One session's position and the queue that keeps its batches in order. */
class Session {
  /** Highest sequence stored or taken by the sink on its way to be. */
  private position: bigint | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  /** Settles once every batch taken so far is stored (the sink stores them in order). */
  private last: Promise<unknown> = Promise.resolve();

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
    if (this.position === undefined) {
      // Read when nothing of the session is on its way (a failure fails what was taken behind it).
      this.position = await this.sink.position(this.node, this.id);
      this.last = Promise.resolve();
    }
    return this.position;
  }

  /** Takes the session over at `after`: durable before the position says so. */
  async takeover(after: bigint, previous: string): Promise<void> {
    await this.last.catch(() => undefined);
    await this.sink.takeover(this.node, this.id, after, previous);
    this.position = after;
  }

  /** Deletes the session's batches in (after, through] once every batch taken is stored. */
  async retract(after: bigint, through: bigint): Promise<void> {
    await this.last.catch(() => undefined);
    this.position = undefined;
    await this.sink.retract(this.node, this.id, after, through);
  }

  /** Resolves once every batch taken so far is stored; rejects if one of them was not. */
  stored(): Promise<unknown> {
    return this.last;
  }

  /** Hands the batch to the sink; resolves once taken, with a promise of it being stored. */
  async take(b: FlowBatch): Promise<{ stored: Promise<Rejections> }> {
    const failed = (e: unknown): StreamError => {
      // Whether the batch made it is unknown until the sink is asked again. The sink says
      // what went wrong in its own log; the collector only learns to send again.
      this.position = undefined;
      return new StreamError(status.UNAVAILABLE, `storing batch ${b.sequence} of session ${this.id} failed: ${(e as Error).message}`);
    };
    let accepted: Accepted;
    try {
      accepted = await this.sink.accept(b, columnsOf.get(b) as IncomingColumns);
    } catch (e) {
      throw failed(e);
    }
    this.position = b.sequence;
    const stored = accepted.stored.then(
      (r) => r ?? { rejected: 0, reason: '' },
      (e: unknown) => {
        throw failed(e);
      },
    );
    this.last = stored;
    // Whoever waits on it hears of a failure; this copy must not count as unhandled.
    stored.catch(() => undefined);
    return { stored };
  }
}

/** A session's key: length-prefixed, so no choice of node name and id collides with another pair. */
export const sessionKey = (node: string, id: string): string => `${node.length}:${node}/${id}`;

/** Why a heartbeat's Handover or Retraction is refused, if it is. */
function failoverRefusal(b: FlowBatch): string | undefined {
  const { handover: h, retraction: r } = b;
  if (!h && !r) return undefined;
  if (b.sequence !== 0n) return `batch ${b.sequence} carries a handover or retraction: only a heartbeat (sequence 0) may`;
  if (h && r) return 'a heartbeat carries a handover and a retraction: one per message';
  if (h && h.ackedSequence > MAX_HANDOVER_SEQUENCE) return `handover at sequence ${h.ackedSequence}: beyond ${MAX_HANDOVER_SEQUENCE}, no session gets there`;
  if (h && (h.relayName === '' || h.relayName.length > MAX_RELAY_NAME)) return `handover names a relay of ${h.relayName.length} characters: 1 to ${MAX_RELAY_NAME}`;
  if (r && r.relayName.length > MAX_RELAY_NAME) return `retraction names a relay of ${r.relayName.length} characters: at most ${MAX_RELAY_NAME}`;
  if (r && (r.throughSequence > MAX_HANDOVER_SEQUENCE || r.throughSequence <= r.afterSequence)) {
    return `retraction of (${r.afterSequence}, ${r.throughSequence}]: an empty range or beyond ${MAX_HANDOVER_SEQUENCE}`;
  }
  return undefined;
}

export function exportService(sink: BatchSink, opts: IngestOptions = {}): FlowExportServer {
  const relayName = opts.relayName ?? '';
  const maxHeld = opts.maxHeldBatches ?? 16;
  const sessions = new LRUCache<string, Session>({ max: opts.maxSessions ?? 10_000 });
  const retractions = new RateBuckets(opts.maxRetractionsPerMinute ?? DEFAULT_LIMITS.maxRetractionsPerMinute);
  const sessionOf = (node: string, id: string): Session => {
    const key = sessionKey(node, id);
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
      let done = false;
      const waiting: FlowBatch[] = [];
      let busy = false;
      let ending = false;
      const budget = opts.budget;
      setReadAhead(call, 1);

      const fail = (e: unknown): void => {
        if (done) return;
        done = true;
        // A store failure (position lookup) is the store's, so UNAVAILABLE: try again later.
        const engine = (e as { code?: unknown }).code === 'ENGINE_ERROR';
        const err = e instanceof StreamError ? e : new StreamError(engine ? status.UNAVAILABLE : status.INTERNAL, (e as Error).message);
        if (!err.reported) opts.onError?.(e instanceof Error ? e : err, peer);
        releaseAll();
        const st: Partial<StatusObject> = { code: err.code, details: err.message };
        call.emit('error', st);
      };

      // Batches held for a missing one keep their budget; when the budget fills they must
      // not keep every stream paused, so a stream holding some is refused then.
      let unwatch: (() => void) | undefined;
      const watchHeld = (): void => {
        if (!budget || unwatch || held.size === 0) return;
        unwatch = budget.onFull(() => fail(new StreamError(status.RESOURCE_EXHAUSTED, `relay ingest is full; ${held.size} out-of-order batches of this stream given up`)));
      };
      const unwatchHeld = (): void => {
        unwatch?.();
        unwatch = undefined;
      };
      const dropHeld = (): void => {
        unwatchHeld();
        for (const b of held.values()) releaseBatch(budget, b);
        held.clear();
      };
      const releaseAll = (): void => {
        dropHeld();
        for (const b of waiting.splice(0)) releaseBatch(budget, b);
      };

      /** Takes the batch; resolves with its acknowledgement, settled once stored (or failed), if it was taken. */
      const handle = async (b: FlowBatch): Promise<Promise<void> | undefined> => {
        if (done) return undefined;
        const refusal = refusalOf(b);
        if (refusal) {
          opts.onBreach?.(refusal.kind, refusal.message, peer);
          throw new StreamError(refusal.code, refusal.message, true);
        }
        let cols: IncomingColumns;
        try {
          decodeFlows(b);
          cols = incomingColumns(b, opts.maxBatchFlows ?? DEFAULT_LIMITS.maxBatchFlows);
        } catch (e) {
          throw new StreamError(status.INVALID_ARGUMENT, `malformed flow in batch ${b.sequence}: ${(e as Error).message}`);
        }
        // The columns are what is stored; flow messages are not needed any more.
        b.flows = [];
        columnsOf.set(b, cols);
        if (b.sessionId === '') throw new StreamError(status.INVALID_ARGUMENT, 'batch without session_id');
        if (b.sequence === 0n && cols.columns.count + cols.refused > 0) throw new StreamError(status.INVALID_ARGUMENT, 'heartbeat (sequence 0) carrying flows');
        const badFailover = failoverRefusal(b);
        if (badFailover) {
          opts.onBreach?.('handover', badFailover, peer);
          throw new StreamError(status.INVALID_ARGUMENT, badFailover, true);
        }
        const owner = opts.nodeOf ? opts.nodeOf(call, b.nodeName, b.clusterName) : { node: b.nodeName };
        if ('refused' in owner) throw new StreamError(owner.code ?? status.PERMISSION_DENIED, owner.refused);
        // "/" separates a cluster from its node in every name a relay serves: a node cannot carry one.
        if (owner.node.includes('/')) throw new StreamError(status.INVALID_ARGUMENT, `node name "${owner.node}" contains "/"; a node name is letters, digits, '.' and '-'`);
        // Every flow is the stream's node's: a batch cannot file flows under another node.
        b.nodeName = owner.node;
        if (b.counters) {
          const sentAtMs = b.sentAt ? Number(b.sentAt.seconds) * 1000 + Math.floor(b.sentAt.nanos / 1e6) : undefined;
          opts.onCounters?.({ nodeName: b.nodeName, clusterName: b.clusterName, sessionId: b.sessionId, sequence: b.sequence, counters: b.counters, flowTable: b.flowTable, sentAtMs });
        }
        const heldKey = sessionKey(b.nodeName, b.sessionId);
        if (heldKey !== heldSession) {
          dropHeld();
          heldSession = heldKey;
        }
        const s = sessionOf(b.nodeName, b.sessionId);
        const stored: Promise<unknown>[] = [];
        let retractPrevious = false;
        const take = async (x: FlowBatch): Promise<void> => {
          let p: Promise<Rejections>;
          try {
            p = (await s.take(x)).stored;
          } catch (e) {
            releaseBatch(budget, x);
            throw e;
          }
          stored.push(p);
          p.then(
            () => releaseBatch(budget, x),
            () => releaseBatch(budget, x),
          );
        };
        const pos = await s.serial(async () => {
          const r = b.retraction;
          if (r) {
            // A shared store holds each batch once (the previous relay's are this relay's);
            // a retraction for another relay is stale (this one may have acknowledged them).
            const ignored: RetractionIgnored | undefined = opts.sharedStore ? 'shared_store' : r.relayName !== relayName ? 'misdirected' : undefined;
            if (ignored) {
              opts.onFailover?.({ kind: 'retraction_ignored', node: b.nodeName, sessionId: b.sessionId, after: r.afterSequence, through: r.throughSequence, reason: ignored, named: r.relayName });
              return s.current();
            }
            // Nothing above `after` here, nothing to delete (a retraction sent again costs a read).
            if ((await s.current()) > r.afterSequence) {
              if (!retractions.take(b.nodeName)) {
                const message = `node ${b.nodeName} sent more than ${opts.maxRetractionsPerMinute ?? DEFAULT_LIMITS.maxRetractionsPerMinute} retractions a minute; retract (${r.afterSequence}, ${r.throughSequence}] of session ${b.sessionId} later`;
                opts.onBreach?.('retraction_rate', message, peer);
                throw new StreamError(status.RESOURCE_EXHAUSTED, message, true);
              }
              await s.retract(r.afterSequence, r.throughSequence);
            }
            const position = await s.current();
            opts.onFailover?.({ kind: 'retraction', node: b.nodeName, sessionId: b.sessionId, after: r.afterSequence, through: r.throughSequence, position });
            return position;
          }
          const h = b.handover;
          if (h && h.relayName !== relayName) {
            const before = await s.current();
            if (before < h.ackedSequence) {
              await s.takeover(h.ackedSequence, h.relayName);
              opts.onFailover?.({ kind: 'takeover', node: b.nodeName, sessionId: b.sessionId, after: h.ackedSequence, previous: h.relayName, position: before });
            }
            // Above the handover, what the previous relay stored is stored here too (or will be).
            retractPrevious = !opts.sharedStore && before <= h.ackedSequence;
          }
          let at = await s.current();
          if (b.sequence > at + 1n) {
            held.set(b.sequence, b);
            watchHeld();
            if (held.size > maxHeld || budget?.full) {
              throw new StreamError(
                held.size > maxHeld ? status.FAILED_PRECONDITION : status.RESOURCE_EXHAUSTED,
                `session ${b.sessionId} is at ${at}; ${held.size} batches up to ${b.sequence} wait for the missing ones`,
              );
            }
            return null;
          }
          if (b.sequence <= at) {
            releaseBatch(budget, b);
            // Acknowledged again, once what the session's position counts is stored.
            stored.push(s.stored().then(() => undefined));
          }
          if (b.sequence === at + 1n) {
            await take(b);
            at = b.sequence;
            for (let next = held.get(at + 1n); next; next = held.get(at + 1n)) {
              held.delete(at + 1n);
              await take(next);
              at = next.sequence;
            }
            for (const [k, h] of held) {
              if (k > at) continue;
              held.delete(k);
              releaseBatch(budget, h);
            }
            if (held.size === 0) unwatchHeld();
          }
          return at;
        });
        if (pos === null) return undefined;
        return Promise.all(stored).then(
          (results) => {
            let rejected = 0;
            let reason = '';
            for (const r of results as (Rejections | undefined)[]) {
              if (!r || r.rejected === undefined) continue;
              rejected += r.rejected;
              if (reason === '') reason = r.reason;
            }
            if (!done) {
              call.write({
                sessionId: b.sessionId, ackedSequence: pos, rejectedFlows: BigInt(rejected), rejectedReason: reason, relayName, retractPrevious,
                retracted: b.retraction,
              });
            }
          },
          (e: unknown) => fail(e),
        );
      };

      // One message at a time: the next is read once this one is taken and the budget has
      // room. A batch counts as handled for the budget until it is stored.
      let unacked = 0;
      const next = (): void => {
        if (busy || done) return;
        const b = waiting.shift();
        if (!b) {
          if (ending) {
            if (unacked > 0) return;
            done = true;
            call.end();
            return;
          }
          if (budget) budget.whenFree(() => !done && call.resume());
          else call.resume();
          return;
        }
        busy = true;
        budget?.begin();
        handle(b).then(
          (acked) => {
            busy = false;
            if (!acked) budget?.end();
            else {
              unacked++;
              void acked.then(() => {
                unacked--;
                budget?.end();
                next();
              });
            }
            next();
          },
          (e: unknown) => {
            busy = false;
            budget?.end();
            fail(e);
          },
        );
      };

      call.on('data', (b: FlowBatch) => {
        if (done) {
          releaseBatch(budget, b);
          return;
        }
        waiting.push(b);
        call.pause();
        next();
      });
      call.on('end', () => {
        ending = true;
        next();
      });
      const gone = (): void => {
        done = true;
        releaseAll();
      };
      call.on('error', gone);
      call.on('cancelled', gone);
    },
  };
}

/**
 * How many decoded messages the stream buffers ahead of the handler. grpc-js builds its
 * server streams with Node's default of 16 objects, 16 maximum-size batches per paused
 * stream; one is enough, since the handler takes one at a time. Readable has no public
 * setter for it, so this sets the field Node reads (where the field is missing, the
 * budget's hard cap still bounds what is buffered).
 */
function setReadAhead(call: ServerDuplexStream<FlowBatch, ExportAck>, n: number): void {
  const state = (call as unknown as { _readableState?: { highWaterMark?: number } })._readableState;
  if (state && typeof state.highWaterMark === 'number') state.highWaterMark = n;
}
