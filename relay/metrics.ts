// The relay's Prometheus metrics, on a registry of its own. Label values come only from
// bounded sets: verdict enums, and node and fence names, which configuration bounds but a
// misbehaving collector could inflate, so each is capped and the rest counted as "other".
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  GeofenceVerdict,
  geofenceVerdictToJSON,
  Srv6HmacStatus,
  srv6HmacStatusToJSON,
  Verdict,
  verdictToJSON,
  WanPathType,
  wanPathTypeToJSON,
} from '../proto/gen/flow/flow';
import type { ExportCounters } from '../proto/gen/export/v1/export';
import type { RetractionIgnored } from './export/ingest';
import type { BreachKind } from './limits';

export interface RelayMetricsOptions {
  /** Distinct node label values; default 1000. */
  maxNodes?: number;
  /** Distinct fence label values; default 200. */
  maxFences?: number;
  /** Live GetFlows followers, read at each scrape. */
  followers?: () => number;
  /** Ingest budget in use, read at each scrape. */
  ingestInflight?: () => number;
  /** Include Node.js process metrics; default true. */
  processMetrics?: boolean;
}

export const OTHER_LABEL = 'other';
/** Longer label values (a client's name beyond any DNS name) count as "other". */
const MAX_LABEL_VALUE = 253;

/** ExportCounters that count loss (or what only looks like it), with their units. */
const LOSS_COUNTERS: ReadonlyArray<[string, string, keyof ExportCounters]> = [
  ['ring_reserve_failures', 'packets', 'ringReserveFailures'],
  ['ring_reserve_failure_bytes', 'bytes', 'ringReserveFailureBytes'],
  ['flow_table_evictions', 'flows', 'flowTableEvictions'],
  ['reports_deferred', 'reports', 'reportsDeferred'],
  ['reports_carried', 'reports', 'reportsCarried'],
  ['reports_lost', 'reports', 'reportsLost'],
  ['packets_lost', 'packets', 'packetsLost'],
  ['bytes_lost', 'bytes', 'bytesLost'],
  ['export_drops', 'reports', 'exportDrops'],
  ['export_drop_packets', 'packets', 'exportDropPackets'],
  ['export_drop_bytes', 'bytes', 'exportDropBytes'],
];

/** Keeps label values to the first `max` distinct ones seen. */
class LabelCap {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  value(v: string): string {
    if (v.length > MAX_LABEL_VALUE) return OTHER_LABEL;
    if (this.seen.has(v)) return v;
    if (this.seen.size >= this.max) return OTHER_LABEL;
    this.seen.add(v);
    return v;
  }
}

const VERDICT_NAMES = new Map<number, string>(
  Object.values(Verdict)
    .filter((v): v is Verdict => typeof v === 'number')
    .map((v) => [v, verdictToJSON(v)]),
);

const PATH_TYPE_NAMES = new Map<number, string>(
  Object.values(WanPathType)
    .filter((v): v is WanPathType => typeof v === 'number')
    .map((v) => [v, wanPathTypeToJSON(v)]),
);

const HMAC_STATUS_NAMES = new Map<number, string>(
  Object.values(Srv6HmacStatus)
    .filter((v): v is Srv6HmacStatus => typeof v === 'number')
    .map((v) => [v, srv6HmacStatusToJSON(v)]),
);

const FENCE_VERDICT_NAMES = new Map<number, string>(
  Object.values(GeofenceVerdict)
    .filter((v): v is GeofenceVerdict => typeof v === 'number')
    .map((v) => [v, geofenceVerdictToJSON(v)]),
);

export class RelayMetrics {
  readonly registry = new Registry();
  private readonly nodes: LabelCap;
  private readonly fences: LabelCap;
  private readonly flowsProcessed: Counter<'verdict'>;
  private readonly geofenceVerdicts: Counter<'fence' | 'verdict'>;
  private readonly pathTypes: Counter<'path_type'>;
  private readonly srv6Hmac: Counter<'status'>;
  private readonly ringRecords: Counter<'node'>;
  private readonly ringReserveFailures: Counter<'node'>;
  private readonly exportDrops: Counter<'node'>;
  private readonly decodeErrors: Counter<'node'>;
  private readonly collectorLoss: Counter<'node' | 'counter' | 'unit'>;
  private readonly insertLag: Histogram;
  private readonly storeRows: Counter;
  private readonly storeErrors: Counter;
  private readonly groups: Counter;
  private readonly groupsFull: Counter;
  private readonly groupBatches: Histogram;
  private readonly breaches: Counter<'kind'>;
  private readonly flowsRejected: Counter<'reason'>;
  private readonly engineErrors: Counter<'op'>;
  private readonly refusals: Counter<'service' | 'reason'>;
  private readonly attestPeersMissing: Counter<'reason'>;
  private readonly mismatches: Counter<'node'>;
  private readonly failovers: Counter<'kind'>;
  private readonly retracted: Counter;
  private readonly retractionsIgnored: Counter<'reason'>;
  private readonly peerEvents: Counter<'peer' | 'state'>;
  /** The counter's values by node label, for ServerStatus; as bounded as the labels. */
  private readonly mismatchCounts = new Map<string, bigint>();

  constructor(opts: RelayMetricsOptions = {}) {
    this.nodes = new LabelCap(opts.maxNodes ?? 1000);
    this.fences = new LabelCap(opts.maxFences ?? 200);
    const registers = [this.registry];
    this.flowsProcessed = new Counter({
      name: 'cillion_flows_processed_total',
      help: 'Flows received from collectors and stored, by datapath verdict.',
      labelNames: ['verdict'],
      registers,
    });
    this.geofenceVerdicts = new Counter({
      name: 'cillion_geofence_verdicts_total',
      help: 'Geofence verdicts given to flows, by deciding fence and verdict.',
      labelNames: ['fence', 'verdict'],
      registers,
    });
    this.pathTypes = new Counter({
      name: 'cillion_flows_by_path_type_total',
      help: "Flows stored, by the WAN path type the relay found in their evidence (SCION path, SRv6 SRH, neither).",
      labelNames: ['path_type'],
      registers,
    });
    this.srv6Hmac = new Counter({
      name: 'cillion_srv6_hmac_total',
      help: "Stored SRv6 flows by what the relay found of their SRH's HMAC TLV (RFC 8754 section 2.1.2), checked with the SID catalogue's key.",
      labelNames: ['status'],
      registers,
    });
    this.ringRecords = new Counter({ name: 'cillion_ring_records_total', help: 'Records the collectors read from the datapath ring buffers.', labelNames: ['node'], registers });
    this.ringReserveFailures = new Counter({
      name: 'cillion_ring_reserve_failures_total',
      help: 'Records the datapath could not emit because its ring buffer was full.',
      labelNames: ['node'],
      registers,
    });
    this.exportDrops = new Counter({ name: 'cillion_export_drops_total', help: 'Flows collectors dropped because their export backlog was full.', labelNames: ['node'], registers });
    this.decodeErrors = new Counter({ name: 'cillion_decode_errors_total', help: 'Ring records the collectors could not decode.', labelNames: ['node'], registers });
    this.collectorLoss = new Counter({
      name: 'cillion_collector_loss_total',
      help: 'The collectors\' loss counters (ExportCounters) in their own units; see docs/operations.md "Loss accounting" for which are data loss.',
      labelNames: ['node', 'counter', 'unit'],
      registers,
    });
    this.insertLag = new Histogram({
      name: 'cillion_store_insert_lag_seconds',
      help: 'Time from the capture of the newest flow of a batch to the batch being stored.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.storeRows = new Counter({ name: 'cillion_store_rows_total', help: 'Flow rows written to the store.', registers });
    // Peers are bounded by the relay's configuration (relay/peers/peer_set.ts MAX_PEERS).
    this.peerEvents = new Counter({
      name: 'cillion_peer_events_total',
      help: 'Peers (relay/<name>) left out of a fan-out answer (unavailable) or answering again (connected).',
      labelNames: ['peer', 'state'],
      registers,
    });
    this.storeErrors = new Counter({ name: 'cillion_store_errors_total', help: 'Batches the store failed to take (the collector sends them again).', registers });
    this.groups = new Counter({ name: 'cillion_store_groups_total', help: 'Store inserts, each a group of the batches that waited for it (group commit).', registers });
    this.groupsFull = new Counter({
      name: 'cillion_store_groups_full_total',
      help: 'Store inserts that reached the group limit (--max-group-flows) and left batches waiting for the next insert.',
      registers,
    });
    this.groupBatches = new Histogram({
      name: 'cillion_store_group_batches',
      help: 'Batches per store insert (group commit).',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers,
    });
    this.breaches = new Counter({
      name: 'cillion_limit_breaches_total',
      help: 'Requests and messages refused for exceeding a limit, by kind (docs/operations.md, Limits).',
      labelNames: ['kind'],
      registers,
    });
    this.flowsRejected = new Counter({
      name: 'cillion_flows_rejected_total',
      help: 'Flows refused one by one at ingest and not stored (the rest of their batch was): invalid or duplicate.',
      labelNames: ['reason'],
      registers,
    });
    this.failovers = new Counter({
      name: 'cillion_export_failovers_total',
      help: 'Collector sessions taken over from another relay (takeover) and batch ranges deleted because another relay stored them (retraction).',
      labelNames: ['kind'],
      registers,
    });
    this.retracted = new Counter({ name: 'cillion_flows_retracted_total', help: 'Stored flows deleted by retractions: another relay stored them too.', registers });
    this.retractionsIgnored = new Counter({
      name: 'cillion_export_retractions_ignored_total',
      help: 'Retractions acknowledged without deleting anything: meant for another relay (misdirected) or reaching a shared store (shared_store).',
      labelNames: ['reason'],
      registers,
    });
    this.engineErrors = new Counter({ name: 'cillion_engine_errors_total', help: 'Store engine failures, by operation (details in the log under an error id).', labelNames: ['op'], registers });
    const inflight = opts.ingestInflight;
    new Gauge({
      name: 'cillion_ingest_inflight_bytes',
      help: 'Estimated memory of export batches received and not yet stored (bounded by the ingest budget).',
      registers,
      collect() {
        this.set(inflight ? inflight() : 0);
      },
    });
    this.refusals = new Counter({
      name: 'cillion_auth_refused_total',
      help: 'Calls refused with PERMISSION_DENIED for what the client certificate grants, by service and reason (no_role, node_mismatch).',
      labelNames: ['service', 'reason'],
      registers,
    });
    this.attestPeersMissing = new Counter({
      name: 'cillion_attest_peers_missing_total',
      help: 'Peers whose evidence an attestation export could not gather, by reason (unreachable, stalled, failed, invalid, limit).',
      labelNames: ['reason'],
      registers,
    });
    this.mismatches = new Counter({
      name: 'cillion_path_fingerprint_mismatches_total',
      help: "Flows whose path fingerprint as the collector sent it differed from the one the relay computed from the flow's hop fields.",
      labelNames: ['node'],
      registers,
    });
    const followers = opts.followers;
    new Gauge({
      name: 'cillion_observer_followers',
      help: 'GetFlows streams following live flows.',
      registers,
      collect() {
        this.set(followers ? followers() : 0);
      },
    });
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  flow(verdict: Verdict, n = 1): void {
    this.flowsProcessed.inc({ verdict: VERDICT_NAMES.get(verdict) ?? OTHER_LABEL }, n);
  }

  geofence(fence: string, verdict: GeofenceVerdict, n = 1): void {
    this.geofenceVerdicts.inc({ fence: this.fences.value(fence), verdict: FENCE_VERDICT_NAMES.get(verdict) ?? OTHER_LABEL }, n);
  }

  /** `n` stored flows of this WAN path type. */
  pathType(type: WanPathType, n = 1): void {
    this.pathTypes.inc({ path_type: PATH_TYPE_NAMES.get(type) ?? OTHER_LABEL }, n);
  }

  /** `n` stored SRv6 flows whose HMAC TLV came out so. */
  srv6HmacStatus(status: Srv6HmacStatus, n = 1): void {
    this.srv6Hmac.inc({ status: HMAC_STATUS_NAMES.get(status) ?? OTHER_LABEL }, n);
  }

  /** Growth of a node's cumulative export counters. */
  collector(node: string, delta: ExportCounters): void {
    const labels = { node: this.nodes.value(node) };
    this.ringRecords.inc(labels, Number(delta.ringRecords));
    this.ringReserveFailures.inc(labels, Number(delta.ringReserveFailures));
    this.exportDrops.inc(labels, Number(delta.exportDrops));
    this.decodeErrors.inc(labels, Number(delta.decodeErrors));
    for (const [counter, unit, key] of LOSS_COUNTERS) this.collectorLoss.inc({ ...labels, counter, unit }, Number(delta[key]));
  }

  /** One store insert of `batches` batches; `full` when it stopped at the group limit. */
  group(batches: number, full: boolean): void {
    this.groups.inc();
    this.groupBatches.observe(batches);
    if (full) this.groupsFull.inc();
  }

  stored(rows: number, lagSeconds: number | undefined): void {
    this.storeRows.inc(rows);
    if (lagSeconds !== undefined) this.insertLag.observe(Math.max(0, lagSeconds));
  }

  /** `n` stored flows of `node` named a fingerprint their hop fields do not give. */
  fingerprintMismatches(node: string, n: number): void {
    const label = this.nodes.value(node);
    this.mismatches.inc({ node: label }, n);
    this.mismatchCounts.set(label, (this.mismatchCounts.get(label) ?? 0n) + BigInt(n));
  }

  mismatchesByNode(): { nodeName: string; count: bigint }[] {
    return [...this.mismatchCounts].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([nodeName, count]) => ({ nodeName, count }));
  }

  failover(kind: 'takeover' | 'retraction'): void {
    this.failovers.inc({ kind });
  }

  retractionIgnored(reason: RetractionIgnored): void {
    this.retractionsIgnored.inc({ reason });
  }

  retractedFlows(n: number): void {
    if (n > 0) this.retracted.inc(n);
  }

  storeError(): void {
    this.storeErrors.inc();
  }

  breach(kind: BreachKind): void {
    this.breaches.inc({ kind });
  }

  rejected(reason: 'invalid' | 'duplicate', n: number): void {
    if (n > 0) this.flowsRejected.inc({ reason }, n);
  }

  engineError(op: string): void {
    this.engineErrors.inc({ op });
  }

  /** A call refused for its certificate; service and reason come from fixed sets. */
  refused(service: string, reason: string): void {
    this.refusals.inc({ service, reason });
  }

  /** A peer an attestation export could not gather from; reason from a fixed set. */
  attestPeerMissing(reason: string): void {
    this.attestPeersMissing.inc({ reason });
  }

  /** A peer left out of an answer, or back. */
  peer(peer: string, state: 'unavailable' | 'connected'): void {
    this.peerEvents.inc({ peer, state });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
