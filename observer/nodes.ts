// The nodes behind a relay, as their collectors' export streams show them: a node is
// connected while one of its streams is open and unavailable after the last one closes.
// Each batch carries its session's cumulative counters; the book keeps the latest per
// session and folds sessions it forgets into a base, so a node's totals never go back.
import { LRUCache } from 'lru-cache';
import { ExportCounters, type FlowTableGauge } from '../proto/gen/export/v1/export';
import { NodeState } from '../proto/gen/relay/relay';

export interface TlsInfo {
  enabled: boolean;
  /** The name the peer's certificate was issued to; empty without client certificates. */
  serverName: string;
}

export interface NodeInfo {
  name: string;
  clusterName: string;
  /** The collector's address as the relay sees it. */
  address: string;
  version: string;
  tls: TlsInfo;
  state: NodeState;
  /** When the node's current connection began (ms since the epoch); 0 when unavailable. */
  connectedSince: number;
  /** When the last batch or heartbeat came (ms since the epoch). */
  lastSeen: number;
  /** Flows of this node the relay stored. */
  storedFlows: bigint;
  /** Sums over the node's sessions. */
  counters: ExportCounters;
}

export interface CounterReport {
  nodeName: string;
  clusterName: string;
  sessionId: string;
  counters: ExportCounters;
  /** The collector's flow table when it sent the batch (a gauge: the latest one counts). */
  flowTable?: FlowTableGauge;
}

/** Flow tables summed over nodes: flows being metered, and the most they meter at once. */
export interface FlowTableTotals {
  entries: bigint;
  capacity: bigint;
  nodes: number;
}

export interface NodeBookOptions {
  /** Nodes remembered; the longest-unavailable one is forgotten beyond it. Default 5000. */
  maxNodes?: number;
  /** Sessions per node whose counters are kept apart; default 8. */
  sessionsPerNode?: number;
  /** Called when a node becomes connected or unavailable. */
  onState?: (name: string, state: NodeState) => void;
  now?: () => number;
}

/** A collector stream, identified once its first batch names the node. */
export interface StreamHandle {
  identify(nodeName: string, clusterName: string, version?: string): void;
  close(): void;
}

/** Every counter of ExportCounters (all uint64), from the generated message itself. */
const COUNTER_KEYS = Object.keys(ExportCounters.create()) as (keyof ExportCounters)[];

export function zeroCounters(): ExportCounters {
  return ExportCounters.create();
}

/**
 * A collector's flow table figure, bounded: far above any table that fits in memory, and
 * low enough that the sum over every node (and every relay of a set) stays a uint64.
 */
const MAX_GAUGE = 1n << 40n;
const gauge = (v: bigint): bigint => (v > MAX_GAUGE ? MAX_GAUGE : v);

function addInto(into: ExportCounters, c: ExportCounters): void {
  for (const k of COUNTER_KEYS) into[k] += c[k];
}

interface NodeEntry {
  info: Omit<NodeInfo, 'counters' | 'state'>;
  streams: number;
  /** The flow table its collector reported last; absent from a collector that does not say. */
  flowTable?: FlowTableGauge;
  base: ExportCounters;
  sessions: LRUCache<string, ExportCounters>;
}

export class NodeBook {
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly maxNodes: number;
  private readonly sessionsPerNode: number;
  private readonly now: () => number;

  constructor(private readonly opts: NodeBookOptions = {}) {
    this.maxNodes = opts.maxNodes ?? 5000;
    this.sessionsPerNode = opts.sessionsPerNode ?? 8;
    this.now = opts.now ?? Date.now;
  }

  /** A stream opened from `address`; the node is known once identify() names it. */
  streamOpened(address: string, tls: TlsInfo): StreamHandle {
    let entry: NodeEntry | undefined;
    let open = true;
    return {
      identify: (nodeName, clusterName, version) => {
        if (!open || entry) return;
        entry = this.entry(nodeName, clusterName);
        entry.info.address = address;
        entry.info.tls = tls;
        if (version) entry.info.version = version;
        if (entry.streams++ === 0) {
          entry.info.connectedSince = this.now();
          this.opts.onState?.(nodeName, NodeState.NODE_CONNECTED);
        }
      },
      close: () => {
        if (!open) return;
        open = false;
        if (!entry || --entry.streams > 0) return;
        entry.info.connectedSince = 0;
        this.opts.onState?.(entry.info.name, NodeState.NODE_UNAVAILABLE);
      },
    };
  }

  /** Records a batch's cumulative counters; returns how much each grew since the session's last report. */
  report(r: CounterReport): ExportCounters {
    const e = this.entry(r.nodeName, r.clusterName);
    e.info.lastSeen = this.now();
    const prev = e.sessions.get(r.sessionId);
    const delta = zeroCounters();
    const latest = zeroCounters();
    for (const k of COUNTER_KEYS) {
      const before = prev?.[k] ?? 0n;
      const now = r.counters[k];
      // Counters are cumulative; one arriving lower (a reordered batch) changes nothing.
      latest[k] = now > before ? now : before;
      delta[k] = now > before ? now - before : 0n;
    }
    e.sessions.set(r.sessionId, latest);
    if (r.flowTable) e.flowTable = { entries: gauge(r.flowTable.entries), capacity: gauge(r.flowTable.capacity) };
    return delta;
  }

  stored(nodeName: string, flows: number): void {
    const e = this.nodes.get(nodeName);
    if (e) e.info.storedFlows += BigInt(flows);
  }

  list(): NodeInfo[] {
    return [...this.nodes.values()].map((e) => this.view(e)).sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): NodeInfo | undefined {
    const e = this.nodes.get(name);
    return e && this.view(e);
  }

  /** Counters summed over every node. */
  totals(): ExportCounters {
    const t = zeroCounters();
    for (const e of this.nodes.values()) addInto(t, this.countersOf(e));
    return t;
  }

  /** The flow tables of the connected nodes that reported one; an unavailable node meters nothing here. */
  flowTables(): FlowTableTotals {
    const t: FlowTableTotals = { entries: 0n, capacity: 0n, nodes: 0 };
    for (const e of this.nodes.values()) {
      if (e.streams === 0 || !e.flowTable) continue;
      t.entries += e.flowTable.entries;
      t.capacity += e.flowTable.capacity;
      t.nodes++;
    }
    return t;
  }

  private view(e: NodeEntry): NodeInfo {
    return { ...e.info, tls: { ...e.info.tls }, state: e.streams > 0 ? NodeState.NODE_CONNECTED : NodeState.NODE_UNAVAILABLE, counters: this.countersOf(e) };
  }

  private countersOf(e: NodeEntry): ExportCounters {
    const c = { ...e.base };
    for (const s of e.sessions.values()) addInto(c, s);
    return c;
  }

  private entry(name: string, clusterName: string): NodeEntry {
    let e = this.nodes.get(name);
    if (!e) {
      this.evict();
      const base = zeroCounters();
      e = {
        info: { name, clusterName, address: '', version: '', tls: { enabled: false, serverName: '' }, connectedSince: 0, lastSeen: 0, storedFlows: 0n },
        streams: 0,
        base,
        sessions: new LRUCache<string, ExportCounters>({ max: this.sessionsPerNode, dispose: (c, _id, reason) => reason === 'evict' && addInto(base, c) }),
      };
      this.nodes.set(name, e);
    }
    if (clusterName) e.info.clusterName = clusterName;
    return e;
  }

  private evict(): void {
    if (this.nodes.size < this.maxNodes) return;
    let victim: NodeEntry | undefined;
    for (const e of this.nodes.values()) {
      if (e.streams === 0 && (!victim || e.info.lastSeen < victim.info.lastSeen)) victim = e;
    }
    if (victim) this.nodes.delete(victim.info.name);
  }
}
