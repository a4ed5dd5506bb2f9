// The collector's half of proto/export/v1/export.proto: flows are numbered into batches
// only once there is room to keep them until the relay acknowledges them, every stream
// starts with a heartbeat to learn what the relay already stored, and everything above
// that is sent again in order. Flows that find the backlog full are dropped before
// numbering and counted, so the sequence never has a gap. Flows are sent as columns
// (columns/encode.ts), encoded as they are pushed; batches are cut by count and by encoded
// size, so each fits the relay's message limit. The flush timer cuts a partial batch only
// while the relay keeps up: the relay stores a stream's batches one after another, so while
// `aheadBatches` wait for their acknowledgement on a live stream, the partial batch keeps
// filling and goes with the next acknowledgement, as one larger batch instead of several
// small ones (a burst of reports costs the relay fewer inserts, and no flow waits longer
// than it would have in the relay's queue).
//
// Failover: the exporter knows several relays (replicas, in failover order) and exports to
// one. Once the current one has been unreachable for `failoverMs`, it moves on to the next
// (round the list), keeping its session: its first heartbeat there hands over the last
// acknowledged sequence and the relay that acknowledged it, and the unacknowledged batches
// are sent again. When that relay answers that what the previous one stored above the
// handover is a duplicate of its own (it keeps its own store), the exporter keeps a
// handover and, once the previous relay answers again, retracts those batches there; a
// stream to a relay it owes retractions always carries them first, so a retraction never
// deletes what that relay stores afterwards. Handovers live in memory only: a collector
// restarted before retracting leaves those duplicates to the readers' dedupe by flow uuid.
import { randomUUID } from 'node:crypto';
import { credentials as grpcCredentials, type ChannelCredentials, type ChannelOptions, type ClientDuplexStream } from '@grpc/grpc-js';
import { ColumnEncoder } from '../columns/encode';
import { ExportCounters, FlowExportClient, type ExportAck, type FlowBatch, type FlowColumns, type FlowTableGauge, type Retraction } from '../proto/gen/export/v1/export';
import type { Flow } from '../proto/gen/flow/flow';

/** The relay's default message limit is 4 MiB; a quarter of it leaves room for any header. */
export const DEFAULT_MAX_BATCH_BYTES = 1024 * 1024;
/** A batch's fields besides its flows: names, session, sequence, counters, clock. */
const BATCH_HEADER_BYTES = 1024;

export interface ExportBackoff {
  initialMs: number;
  maxMs: number;
  multiplier: number;
  /** Each delay is scaled by a random factor in [1 - jitter, 1 + jitter]. */
  jitter: number;
}

export const DEFAULT_BACKOFF: ExportBackoff = { initialMs: 250, maxMs: 30_000, multiplier: 2, jitter: 0.2 };

/** What the exporter counts itself; the rest of ExportCounters comes from the pipeline. */
type ExporterOwn = 'exportDrops' | 'exportDropPackets' | 'exportDropBytes' | 'flowsExported' | 'packetsExported';

/** The datapath's and the flow table's side of the counters. */
export type PipelineCounters = Omit<ExportCounters, ExporterOwn>;

export function zeroPipelineCounters(): PipelineCounters {
  return ExportCounters.create();
}

/** Batches a relay stored that another, which took the session over, stores too. */
export interface Handover {
  sessionId: string;
  /** The relay's name (from its acknowledgements) and its place in the target list. */
  relayName: string;
  target: number;
  /** The range (after, through] to retract there. */
  after: bigint;
  through: bigint;
}

export interface ExporterOptions {
  /** Relay address, host:port (or any grpc-js target), or several in failover order. */
  target: string | readonly string[];
  /** How long the current relay may be unreachable before the next target is tried; default 5000 ms. */
  failoverMs?: number;
  /** Handovers kept until retracted; beyond it the oldest is given up (its duplicates left to readers). Default 64. */
  maxHandovers?: number;
  /** Default: insecure (loopback). */
  credentials?: ChannelCredentials;
  channelOptions?: ChannelOptions;
  nodeName: string;
  clusterName: string;
  /** Flows kept at most, unsent and unacknowledged together; beyond it flows are dropped and counted. */
  maxBacklogFlows: number;
  /** Flows per batch; at most the relay's maxBatchFlows (4096 by default). */
  batchFlows: number;
  /** Encoded bytes per batch at most (flows and header); default 1 MiB, below the relay's 4 MiB message limit. */
  maxBatchBytes?: number;
  /** A partial batch is sent after this long, unless `aheadBatches` wait for their acknowledgement. */
  flushMs: number;
  /** Unacknowledged batches from which a partial batch waits for an acknowledgement instead of the flush timer; default 2. */
  aheadBatches?: number;
  backoff?: Partial<ExportBackoff>;
  /** Heartbeats carry the counters to the relay while no flows do and prove it alive; default 10 s. */
  heartbeatMs?: number;
  /** The datapath's and flow table's counters, read whenever a batch or heartbeat goes out. */
  ringCounters?: () => PipelineCounters;
  /** The flow table's size and capacity, sent with every batch and heartbeat for the relay's `cillion status`. */
  flowTable?: () => FlowTableGauge;
  /** Stream failures and protocol surprises, for the log. */
  onError?: (err: Error) => void;
  /** A stream is up, to this target and relay (its name), for the log. */
  onConnected?: (target: string, relayName: string) => void;
}

export interface ExporterCounters extends ExportCounters {
  /** Flows waiting for a batch or for its acknowledgement. */
  backlogFlows: number;
  /** Numbered batches not yet acknowledged. */
  backlogBatches: number;
  sessionId: string;
  /** Highest sequence numbered so far. */
  sequence: bigint;
  ackedSequence: bigint;
  connected: boolean;
  /** Streams (re)opened after the first. */
  reconnects: number;
  /** Sessions restarted because the relay's position fell below an acknowledged sequence. */
  sessionResets: number;
  /** Flows the relay acknowledged but refused one by one (out of bounds, duplicate): never stored. */
  flowsRejected: bigint;
  /** Flows dropped because one alone encodes larger than maxBatchBytes. */
  oversizeDrops: bigint;
  /** Flows dropped because the columns cannot hold one of their fields (a uuid that is no UUID, no time...). */
  unencodableDrops: bigint;
  /** The relay exported to now (address), and its name once it has answered. */
  target: string;
  relayName: string;
  /** Moves to the next relay of the list. */
  failovers: number;
  /** Handovers whose retraction is still owed. */
  handoversPending: number;
  /** Retractions the previous relays acknowledged. */
  retractions: number;
  /** Handovers given up unretracted (the list was full). */
  handoversDropped: number;
}

export class Exporter {
  private readonly targets: readonly string[];
  /** One client per target, made when first used. */
  private readonly clients: (FlowExportClient | undefined)[];
  /** Each target's relay name, from its acknowledgements. */
  private readonly names: string[];
  /** Index of the target exported to. */
  private at = 0;
  private readonly failoverMs: number;
  private readonly maxHandovers: number;
  /** Since when the current relay has not acknowledged anything; null while it does. */
  private lostSince: number | null = null;
  private failoverTimer: NodeJS.Timeout | null = null;
  private readonly retractTimer: NodeJS.Timeout;
  /** The relay that acknowledged `acked` (name and target index); '' before any. */
  private ackedBy = '';
  private ackedAt = 0;
  private handovers: Handover[] = [];
  /** Targets with a retraction stream open, and the stream. */
  private readonly retracting = new Map<number, ClientDuplexStream<FlowBatch, ExportAck>>();
  private failovers = 0;
  private retractions = 0;
  private handoversDropped = 0;
  private readonly backoff: ExportBackoff;
  private readonly heartbeatMs: number;
  private sessionId = randomUUID();
  /** The next batch, encoded as flows are pushed. */
  private readonly pending: ColumnEncoder;
  private pendingPackets = 0n;
  private readonly maxFlowBytes: number;
  private flowsRejected = 0n;
  private oversizeDrops = 0n;
  private unencodableDrops = 0n;
  private unacked: FlowBatch[] = [];
  private backlog = 0;
  private sequence = 0n;
  private acked = 0n;
  private sentUpTo = 0n;
  private stream: ClientDuplexStream<FlowBatch, ExportAck> | null = null;
  private ready = false;
  private blocked = false;
  private attempts = 0;
  private lastAckAt = 0;
  private reconnects = 0;
  private sessionResets = 0;
  private exportDrops = 0n;
  private exportDropPackets = 0n;
  private exportDropBytes = 0n;
  private flowsExported = 0n;
  private packetsExported = 0n;
  private closing = false;
  private flushTimer: NodeJS.Timeout | null = null;
  /** The flush came due while the relay was behind: the partial batch goes with the next acknowledgement. */
  private flushHeld = false;
  private readonly aheadBatches: number;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly heartbeatTimer: NodeJS.Timeout;
  private drained: Array<() => void> = [];

  constructor(private readonly opts: ExporterOptions) {
    if (!(opts.maxBacklogFlows >= 1 && opts.batchFlows >= 1 && opts.flushMs > 0)) throw new RangeError('maxBacklogFlows, batchFlows and flushMs must be positive');
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.heartbeatMs = opts.heartbeatMs ?? 10_000;
    this.aheadBatches = opts.aheadBatches ?? 2;
    if (!(this.aheadBatches >= 1)) throw new RangeError('aheadBatches must be at least 1');
    const names = 3 * (opts.nodeName.length + opts.clusterName.length);
    this.maxFlowBytes = (opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES) - BATCH_HEADER_BYTES - names;
    if (!(this.maxFlowBytes > 0)) throw new RangeError('maxBatchBytes leaves no room for flows');
    this.pending = new ColumnEncoder(opts.batchFlows);
    this.targets = typeof opts.target === 'string' ? [opts.target] : [...opts.target];
    if (this.targets.length === 0) throw new RangeError('no relay target');
    this.clients = this.targets.map(() => undefined);
    this.names = this.targets.map(() => '');
    this.failoverMs = opts.failoverMs ?? 5000;
    this.maxHandovers = opts.maxHandovers ?? 64;
    if (!(this.failoverMs > 0 && this.maxHandovers >= 1)) throw new RangeError('failoverMs and maxHandovers must be positive');
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.heartbeatMs);
    this.heartbeatTimer.unref();
    this.retractTimer = setInterval(() => this.retractElsewhere(), this.failoverMs);
    this.retractTimer.unref();
    this.connect();
  }

  private client(i: number): FlowExportClient {
    let c = this.clients[i];
    if (!c) {
      // The channel's own reconnect backoff (1 s up to 120 s by default) would otherwise sit
      // between our retries and a relay that is back.
      c = new FlowExportClient(this.targets[i], this.opts.credentials ?? grpcCredentials.createInsecure(), {
        'grpc.initial_reconnect_backoff_ms': this.backoff.initialMs,
        'grpc.max_reconnect_backoff_ms': this.backoff.maxMs,
        ...this.opts.channelOptions,
      });
      this.clients[i] = c;
    }
    return c;
  }

  /** Flows push() takes now without dropping; a producer that waits for room loses nothing. */
  room(): number {
    return this.closing ? 0 : this.opts.maxBacklogFlows - this.backlog;
  }

  /** Queues one flow; drops and counts it (with its packets and bytes) when the backlog is full or the exporter is closing. */
  push(flow: Flow): void {
    if (this.closing || this.backlog >= this.opts.maxBacklogFlows) {
      this.drop(flow);
      return;
    }
    let r = this.pending.add(flow, this.maxFlowBytes);
    if (r === 'full') {
      this.seal();
      r = this.pending.add(flow, this.maxFlowBytes);
    }
    if (r !== 'added') {
      if (r !== 'full' && r.code === 'UNENCODABLE') {
        this.unencodableDrops++;
        this.opts.onError?.(new Error(`flow ${flow.uuid} not exported: ${r.reason}`));
      } else {
        this.oversizeDrops++;
      }
      this.drop(flow);
      return;
    }
    this.pendingPackets += flow.meter?.packets ?? 0n;
    this.backlog++;
    if (this.pending.count >= this.opts.batchFlows) this.seal();
    else if (this.flushTimer === null && !this.flushHeld) this.flushTimer = setTimeout(() => this.flushDue(), this.opts.flushMs);
  }

  private drop(flow: Flow): void {
    this.exportDrops++;
    this.exportDropPackets += flow.meter?.packets ?? 0n;
    this.exportDropBytes += flow.meter?.bytes ?? 0n;
  }

  counters(): ExporterCounters {
    const pipeline = this.opts.ringCounters?.() ?? zeroPipelineCounters();
    return {
      ...pipeline,
      exportDrops: this.exportDrops,
      exportDropPackets: this.exportDropPackets,
      exportDropBytes: this.exportDropBytes,
      flowsExported: this.flowsExported,
      packetsExported: this.packetsExported,
      backlogFlows: this.backlog,
      backlogBatches: this.unacked.length,
      sessionId: this.sessionId,
      sequence: this.sequence,
      ackedSequence: this.acked,
      connected: this.ready,
      reconnects: this.reconnects,
      sessionResets: this.sessionResets,
      flowsRejected: this.flowsRejected,
      oversizeDrops: this.oversizeDrops,
      unencodableDrops: this.unencodableDrops,
      target: this.targets[this.at],
      relayName: this.names[this.at],
      failovers: this.failovers,
      handoversPending: this.handovers.length,
      retractions: this.retractions,
      handoversDropped: this.handoversDropped,
    };
  }

  /** Handovers whose retraction is owed, oldest first. */
  pendingHandovers(): readonly Handover[] {
    return this.handovers;
  }

  /**
   * Sends what is queued and waits up to `timeoutMs` for the relay to acknowledge it, then
   * closes the connection. Flows still unacknowledged then are lost with the process.
   */
  async close(timeoutMs = 5000): Promise<void> {
    this.seal();
    this.closing = true;
    if (this.unacked.length > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.drained.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    clearInterval(this.heartbeatTimer);
    clearInterval(this.retractTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.failoverTimer) clearTimeout(this.failoverTimer);
    const s = this.stream;
    this.stream = null;
    this.ready = false;
    if (s) {
      s.end();
      s.cancel();
    }
    for (const c of this.clients) c?.close();
  }

  private flushDue(): void {
    this.flushTimer = null;
    // Only a relay that is connected and behind is waited for; an absent one gets the batch as before.
    if (this.ready && this.unacked.length >= this.aheadBatches && !this.closing) this.flushHeld = true;
    else this.seal();
  }

  private seal(): void {
    this.flushHeld = false;
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.pending.count === 0) return;
    const columns = this.pending.finish();
    this.sequence++;
    this.flowsExported += BigInt(columns.count);
    this.packetsExported += this.pendingPackets;
    this.pendingPackets = 0n;
    this.unacked.push(this.batch(this.sequence, columns));
    this.pump();
  }

  /** A numbered batch of these columns, or a heartbeat (sequence 0, no columns). */
  private batch(sequence: bigint, columns: FlowColumns | undefined): FlowBatch {
    return {
      nodeName: this.opts.nodeName, clusterName: this.opts.clusterName, sessionId: this.sessionId, sequence, flows: [], counters: undefined, sentAt: undefined, columns,
      handover: undefined, retraction: undefined, flowTable: undefined,
    };
  }

  /** A stream's first heartbeat: says which relay acknowledged what, for a relay that is another. */
  private hello(): FlowBatch {
    const b = this.stamp(this.batch(0n, undefined));
    if (this.ackedBy !== '') b.handover = { ackedSequence: this.acked, relayName: this.ackedBy };
    return b;
  }

  private retraction(h: Handover): FlowBatch {
    return { ...this.batch(0n, undefined), sessionId: h.sessionId, retraction: { afterSequence: h.after, throughSequence: h.through, relayName: h.relayName } };
  }

  /** The handovers the target's relay is owed a retraction for. */
  private owedBy(i: number): Handover[] {
    return this.handovers.filter((h) => h.target === i || (this.names[i] !== '' && h.relayName === this.names[i]));
  }

  /** Keeps a handover to retract, merged with one of the same session, relay and start. */
  private addHandover(h: Handover): void {
    const same = this.handovers.find((x) => x.sessionId === h.sessionId && x.relayName === h.relayName && x.after === h.after);
    if (same) {
      if (h.through > same.through) same.through = h.through;
      return;
    }
    this.handovers.push(h);
    if (this.handovers.length > this.maxHandovers) {
      const gone = this.handovers.shift()!;
      this.handoversDropped++;
      this.opts.onError?.(new Error(`giving up the retraction of session ${gone.sessionId} (${gone.after}, ${gone.through}] at relay ${gone.relayName}: more than ${this.maxHandovers} owed; readers deduplicate them`));
    }
  }

  /** A retraction acknowledged: its handover is done. */
  private retracted(sessionId: string, r: Retraction): void {
    const before = this.handovers.length;
    this.handovers = this.handovers.filter((h) => !(h.sessionId === sessionId && h.after === r.afterSequence && h.through === r.throughSequence));
    this.retractions += before - this.handovers.length;
  }

  /**
   * Sends the retractions owed by relays other than the current one, each on a stream of its
   * own; a relay that does not answer is tried again next time.
   */
  private retractElsewhere(): void {
    for (let i = 0; i < this.targets.length; i++) {
      if (i === this.at || this.retracting.has(i)) continue;
      const owed = this.owedBy(i);
      if (owed.length === 0) continue;
      const s = this.client(i).export({ deadline: Date.now() + Math.max(this.failoverMs, 5000) });
      this.retracting.set(i, s);
      let left = owed.length;
      const finish = (): void => {
        if (this.retracting.get(i) !== s) return;
        this.retracting.delete(i);
        s.cancel();
      };
      s.on('data', (ack: ExportAck) => {
        if (ack.relayName !== '') this.names[i] = ack.relayName;
        if (!ack.retracted) return;
        this.retracted(ack.sessionId, ack.retracted);
        if (--left === 0) finish();
      });
      s.on('error', finish);
      s.on('end', finish);
      for (const h of owed) s.write(this.retraction(h));
      s.end();
    }
  }

  /** Fills in what is current at sending time: the counters and the clock. */
  private stamp(b: FlowBatch): FlowBatch {
    const c = this.counters();
    const now = Date.now();
    b.counters = {
      ringRecords: c.ringRecords, ringReserveFailures: c.ringReserveFailures, exportDrops: c.exportDrops, decodeErrors: c.decodeErrors,
      flowsExported: c.flowsExported, ringReserveFailureBytes: c.ringReserveFailureBytes, flowTableEvictions: c.flowTableEvictions,
      reportsDeferred: c.reportsDeferred, reportsCarried: c.reportsCarried, reportsLost: c.reportsLost, packetsLost: c.packetsLost,
      bytesLost: c.bytesLost, exportDropPackets: c.exportDropPackets, exportDropBytes: c.exportDropBytes, packetsExported: c.packetsExported,
    };
    b.sentAt = { seconds: BigInt(Math.floor(now / 1000)), nanos: (now % 1000) * 1_000_000 };
    b.flowTable = this.opts.flowTable?.();
    return b;
  }

  private connect(): void {
    this.reconnectTimer = null;
    if (this.closing && this.unacked.length === 0) return;
    // A retraction still on its way to this relay on a side stream is sent on this stream
    // instead, in order before anything this relay stores now (the relay clips a late one
    // below its takeover).
    const side = this.retracting.get(this.at);
    if (side) {
      this.retracting.delete(this.at);
      side.cancel();
    }
    const s = this.client(this.at).export();
    this.stream = s;
    this.ready = false;
    this.blocked = false;
    this.lastAckAt = Date.now();
    s.on('data', (ack: ExportAck) => this.onAck(s, ack));
    s.on('error', (err: Error) => this.onBroken(s, err));
    s.on('end', () => this.onBroken(s, null));
    // Retractions owed to this relay first: the relay handles a stream's messages in order,
    // so they are done before it stores anything new of ours.
    for (const h of this.owedBy(this.at)) s.write(this.retraction(h));
    s.write(this.hello());
    if (this.failoverTimer) clearTimeout(this.failoverTimer);
    this.failoverTimer = null;
    if (this.targets.length > 1 && this.lostSince !== null) {
      // A relay that neither answers nor refuses (a connect that hangs) is left in time too.
      const left = this.lostSince + this.failoverMs - Date.now();
      this.failoverTimer = setTimeout(() => {
        this.failoverTimer = null;
        if (s === this.stream && !this.ready) this.onBroken(s, new Error(`no answer from ${this.targets[this.at]} within ${this.failoverMs} ms`));
      }, Math.max(left, this.backoff.initialMs));
      this.failoverTimer.unref();
    }
  }

  /** Also the liveness check: a relay that answered nothing for three heartbeats gets a new stream. */
  private heartbeat(): void {
    const s = this.stream;
    if (!s) return;
    if (Date.now() - this.lastAckAt > 3 * this.heartbeatMs) {
      this.onBroken(s, new Error(`no acknowledgement from ${this.opts.target} for ${Date.now() - this.lastAckAt} ms`));
      return;
    }
    if (this.ready && !this.blocked) s.write(this.stamp(this.batch(0n, undefined)));
  }

  private onAck(s: ClientDuplexStream<FlowBatch, ExportAck>, ack: ExportAck): void {
    if (s !== this.stream) return;
    if (ack.relayName !== '') this.names[this.at] = ack.relayName;
    if (ack.retracted) {
      this.retracted(ack.sessionId, ack.retracted);
      return;
    }
    if (ack.sessionId !== this.sessionId) return;
    const n = ack.ackedSequence;
    if (n > this.sequence) {
      this.opts.onError?.(new Error(`relay acknowledged sequence ${n} of session ${this.sessionId}, only ${this.sequence} were numbered`));
      return;
    }
    if (n < this.acked) {
      // The relay lost batches it had acknowledged: they cannot be sent again, and the gap
      // would stall the session for good, so renumber what is left in a fresh session.
      this.opts.onError?.(new Error(`relay position ${n} is below acknowledged ${this.acked}; starting a new session`));
      this.resetSession();
      s.cancel();
      return;
    }
    // Only a relay reached at another address: one address answering under a new name is
    // taken for the same relay renamed (a restart), whose store must not lose what it holds.
    if (!this.ready && ack.retractPrevious && this.ackedBy !== '' && this.ackedBy !== ack.relayName && this.ackedAt !== this.at) {
      // Whatever was sent to the previous relay was numbered by now.
      this.addHandover({ sessionId: this.sessionId, relayName: this.ackedBy, target: this.ackedAt, after: this.acked, through: this.sequence });
    }
    if (ack.relayName !== '') {
      this.ackedBy = ack.relayName;
      this.ackedAt = this.at;
    }
    this.attempts = 0;
    this.lostSince = null;
    this.lastAckAt = Date.now();
    if (ack.rejectedFlows > 0n && n > this.acked) {
      this.flowsRejected += ack.rejectedFlows;
      this.opts.onError?.(new Error(`relay refused ${ack.rejectedFlows} flows of batches up to ${n}: ${ack.rejectedReason}`));
    }
    this.acked = n;
    let done = 0;
    while (done < this.unacked.length && this.unacked[done].sequence <= n) this.backlog -= this.unacked[done++].columns?.count ?? 0;
    if (done > 0) this.unacked.splice(0, done);
    if (!this.ready) {
      this.ready = true;
      this.sentUpTo = n;
      this.opts.onConnected?.(this.targets[this.at], ack.relayName);
    }
    if (this.flushHeld && this.unacked.length < this.aheadBatches) this.seal();
    if (this.unacked.length === 0) {
      const waiters = this.drained;
      this.drained = [];
      for (const w of waiters) w();
    }
    this.pump();
  }

  private resetSession(): void {
    this.sessionResets++;
    this.sessionId = randomUUID();
    this.acked = 0n;
    this.sentUpTo = 0n;
    this.sequence = 0n;
    this.unacked = this.unacked.map((b) => this.batch(++this.sequence, b.columns));
  }

  /** Writes the batches the relay has not seen on this stream, in order, as far as the stream takes them. */
  private pump(): void {
    const s = this.stream;
    if (!s || !this.ready || this.blocked) return;
    for (const b of this.unacked) {
      if (b.sequence <= this.sentUpTo) continue;
      this.sentUpTo = b.sequence;
      if (!s.write(this.stamp(b))) {
        this.blocked = true;
        s.once('drain', () => {
          if (s !== this.stream) return;
          this.blocked = false;
          this.pump();
        });
        return;
      }
    }
  }

  private onBroken(s: ClientDuplexStream<FlowBatch, ExportAck>, err: Error | null): void {
    if (s !== this.stream) return;
    this.stream = null;
    this.ready = false;
    s.cancel();
    if (err) this.opts.onError?.(err);
    if (this.closing && this.unacked.length === 0) return;
    const now = Date.now();
    this.lostSince ??= now;
    if (this.targets.length > 1 && now - this.lostSince >= this.failoverMs) {
      const from = this.targets[this.at];
      this.at = (this.at + 1) % this.targets.length;
      this.failovers++;
      this.attempts = 0;
      this.lostSince = now;
      this.opts.onError?.(new Error(`relay ${from} unreachable for ${this.failoverMs} ms: failing over to ${this.targets[this.at]}`));
    }
    const b = this.backoff;
    const base = Math.min(b.maxMs, b.initialMs * b.multiplier ** this.attempts);
    let delay = base * (1 - b.jitter + 2 * b.jitter * Math.random());
    // Never waiting past the moment to fail over.
    if (this.targets.length > 1) delay = Math.min(delay, Math.max(0, this.lostSince + this.failoverMs - now));
    this.attempts++;
    this.reconnects++;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }
}
