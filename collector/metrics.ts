// An agent's own Prometheus metrics, on a registry of its own: the datapath's counters per
// counter slot (verdicts, drop reasons, ring reserve failures), the flow table and the
// export backlog. Every figure is read at scrape time from where it is kept, so nothing is
// counted twice. Label values come from fixed sets (counter names, units).
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { datapathCounters, mirrored, type DatapathTotals } from '../metrics/counters';
import type { ExporterCounters } from './exporter';
import type { FlowTableStats } from './flowtable';
import type { CatalogueStoreStats } from '../mesh/store';
import type { KeySyncStats } from '../mesh/key_sync';
import type { Level1ServerStats } from '../mesh/level1_server';
import { SPAO_INFO } from '../metrics/spao_info';
import type { SpaoReport } from '../bpf/spao_keys';
import type { IdentityViewStats } from '../kube/identity_view';

export interface AgentMetricSources {
  /** Packets and wire bytes per datapath counter, by counter name (bpf/abi.ts COUNTERS). */
  datapath: () => DatapathTotals;
  table: () => FlowTableStats;
  /** Absent when the agent exports to no relay. */
  exporter?: () => ExporterCounters;
  /** Absent when the agent is given no mesh (--mesh). */
  catalogues?: () => CatalogueStoreStats;
  /** Absent when the mesh file names no master secret. */
  keys?: () => KeySyncStats;
  /** Absent unless this node answers the peers' Level 1 key requests. */
  level1?: () => Level1ServerStats;
  /** Whether the edge authenticates with the SPAO (the loader's report); absent: not shown. */
  spao?: SpaoReport;
  /** With --kubernetes: the CillionIdentity objects the agent reads its identities from. */
  identities?: () => IdentityViewStats;
  /** Include Node.js process metrics; default true. */
  processMetrics?: boolean;
}

function gauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/** One reading of every source, taken once per scrape so that all figures come from it. */
interface Reading {
  datapath: DatapathTotals;
  table: FlowTableStats;
  exporter: ExporterCounters | undefined;
  catalogues: CatalogueStoreStats | undefined;
  keys: KeySyncStats | undefined;
  level1: Level1ServerStats | undefined;
  identities: IdentityViewStats | undefined;
}

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly read: () => Reading;
  private now: Reading | undefined;

  constructor(src: AgentMetricSources) {
    const r = this.registry;
    this.read = () => ({
      datapath: src.datapath(),
      table: src.table(),
      exporter: src.exporter?.(),
      catalogues: src.catalogues?.(),
      keys: src.keys?.(),
      level1: src.level1?.(),
      identities: src.identities?.(),
    });
    // Each metric reads the scrape's reading (taken in text()); outside a scrape, a fresh one.
    const reading = (): Reading => this.now ?? this.read();
    datapathCounters(r, () => reading().datapath);
    if (src.spao) {
      // An info metric: the labels are the fact, the value is always 1.
      new Gauge({
        name: SPAO_INFO,
        help: 'Whether this edge seals and verifies the SPAO (state on/off), the kernel cbc(aes) it runs, and why it is off (--spao off, or what the kernel refused).',
        labelNames: ['state', 'driver', 'reason'],
        registers: [r],
      }).set({ state: src.spao.state, driver: src.spao.driver ?? '', reason: src.spao.reason ?? '' }, 1);
    }
    const table = (k: keyof FlowTableStats) => (): Array<[Record<never, string>, number]> => [[{}, reading().table[k]]];
    mirrored(r, 'cillion_ring_records_total', 'Records the collector read from the ring buffer.', [], table('records'));
    mirrored(r, 'cillion_decode_errors_total', 'Ring records the collector could not decode (lost records).', [], table('decodeErrors'));
    mirrored(r, 'cillion_flow_table_evictions_total', 'Flows reported early to make room in the flow table (not a loss).', [], table('evictions'));
    mirrored(r, 'cillion_flow_reports_total', 'Flow reports handed to the exporter and the local Observer.', [], table('emitted'));
    mirrored(r, 'cillion_flow_reports_deferred_total', 'Reports that found the export backlog full; their counts went into the flow\'s next report (not a loss).', [], table('deferred'));
    mirrored(r, 'cillion_flow_reports_carried_total', 'Final reports held while the export backlog was full (not a loss unless shed).', [], table('carried'));
    mirrored(r, 'cillion_flow_reports_lost_total', 'Held final reports shed because the carry was full: lost.', [], table('lostReports'));
    mirrored(r, 'cillion_flow_packets_lost_total', 'Packets of the shed reports: lost from the stored meters.', [], table('lostPackets'));
    mirrored(r, 'cillion_flow_bytes_lost_total', 'Bytes (pod bytes, wire bytes without a pod packet) of the shed reports.', [], table('lostBytes'));
    gauge(r, 'cillion_flow_table_entries', 'Flows in the flow table now.', () => reading().table.entries);
    gauge(r, 'cillion_flow_table_capacity', 'Flows the flow table holds at most (--flow-max); at it, a new flow makes the least recently seen report early.', () => reading().table.capacity);
    gauge(r, 'cillion_flow_reports_carried', 'Final reports held now.', () => reading().table.carriedNow);
    if (src.exporter) {
      const ex = (): ExporterCounters => reading().exporter as ExporterCounters;
      const own = (k: 'exportDrops' | 'exportDropPackets' | 'exportDropBytes' | 'flowsExported' | 'packetsExported') => (): Array<[Record<never, string>, number]> => [[{}, Number(ex()[k])]];
      mirrored(r, 'cillion_export_drops_total', 'Flow reports the exporter refused (shutting down or backlog full): lost.', [], own('exportDrops'));
      mirrored(r, 'cillion_export_drop_packets_total', 'Packets of the refused reports.', [], own('exportDropPackets'));
      mirrored(r, 'cillion_export_drop_bytes_total', 'Bytes of the refused reports.', [], own('exportDropBytes'));
      mirrored(r, 'cillion_flows_exported_total', 'Flows placed in numbered batches for the relay.', [], own('flowsExported'));
      mirrored(r, 'cillion_packets_exported_total', 'Packets of the flows placed in numbered batches.', [], own('packetsExported'));
      gauge(r, 'cillion_export_backlog_flows', 'Flows waiting for a batch or its acknowledgement.', () => ex().backlogFlows);
      gauge(r, 'cillion_export_backlog_batches', 'Batches waiting for their acknowledgement.', () => ex().backlogBatches);
      gauge(r, 'cillion_export_connected', '1 while the relay stream is up.', () => (ex().connected ? 1 : 0));
      gauge(r, 'cillion_export_reconnects', 'Relay streams opened after the first.', () => ex().reconnects);
      mirrored(r, 'cillion_export_failovers_total', 'Moves to the next relay of the --relay list after the current one was unreachable for --relay-failover.', [], () => [[{}, ex().failovers]]);
      mirrored(r, 'cillion_export_retractions_total', 'Duplicate batch ranges retracted at a relay the collector failed over from.', [], () => [[{}, ex().retractions]]);
      mirrored(r, 'cillion_export_handovers_dropped_total', 'Retractions given up (too many owed): their duplicates stay for the readers to deduplicate.', [], () => [[{}, ex().handoversDropped]]);
      gauge(r, 'cillion_export_handovers_pending', 'Retractions owed to relays failed over from.', () => ex().handoversPending);
      // An info metric: the label is the fact (which relay of the list is exported to now).
      new Gauge({
        name: 'cillion_export_relay_info',
        help: 'The relay exported to now (address, and name once it answered); value 1.',
        labelNames: ['target', 'relay'],
        registers: [r],
        collect() {
          this.reset();
          this.set({ target: ex().target, relay: ex().relayName }, 1);
        },
      });
    }
    if (src.catalogues) {
      const cat = (): CatalogueStoreStats => reading().catalogues as CatalogueStoreStats;
      mirrored(r, 'cillion_identity_catalogues_accepted_total', 'Remote identity catalogues verified and taken into use.', [], () => [[{}, cat().accepted]]);
      mirrored(r, 'cillion_identity_catalogues_refused_total', 'Remote identity catalogues refused (or not fetched), by reason; the last good one stays in use.', ['reason'], () =>
        Object.entries(cat().refused).map(([reason, n]) => [{ reason }, n]),
      );
      mirrored(r, 'cillion_identity_catalogue_addresses_dropped_total', 'Pod addresses in accepted remote catalogues dropped for lying outside their cluster\'s pod prefixes (mesh file).', [], () => [[{}, cat().addressesDropped]]);
      new Gauge({
        name: 'cillion_identity_catalogue_identities',
        help: 'Identities in the catalogue held for each peer cluster (peers come from the mesh file, a bounded set).',
        labelNames: ['cluster'],
        registers: [r],
        collect() {
          this.reset();
          for (const c of cat().clusters) this.set({ cluster: c.clusterName }, c.identities);
        },
      });
    }
    if (src.keys) {
      const keys = (): KeySyncStats => reading().keys as KeySyncStats;
      mirrored(r, 'cillion_mesh_key_table_writes_total', 'Datapath key table entries written by the key sync: installed new, or replaced because they changed.', ['op'], () => [
        [{ op: 'install' }, keys().installed],
        [{ op: 'replace' }, keys().replaced],
        [{ op: 'remove' }, keys().removed],
      ]);
      mirrored(r, 'cillion_mesh_key_table_errors_total', 'Datapath key table calls that failed; each is retried next round.', [], () => [[{}, keys().tableErrors]]);
      mirrored(r, 'cillion_mesh_level1_keys_fetched_total', 'Level 1 keys fetched from peer clusters and taken.', [], () => [[{}, keys().fetched]]);
      mirrored(r, 'cillion_mesh_level1_fetch_refused_total', 'Level 1 key fetches that failed or whose answer was refused, by reason; nothing of them is installed.', ['reason'], () =>
        Object.entries(keys().fetchRefused).map(([reason, n]) => [{ reason }, n]),
      );
      new Gauge({
        name: 'cillion_mesh_key_table_entries',
        help: 'Keys in the datapath key table, by direction (tx: seal to a peer; rx: verify from a peer).',
        labelNames: ['dir'],
        registers: [r],
        collect() {
          const e = keys().entries;
          this.set({ dir: 'tx' }, e.tx);
          this.set({ dir: 'rx' }, e.rx);
        },
      });
      gauge(r, 'cillion_mesh_peers_without_rx_key', 'Peer clusters without a key for the current epoch: their packets cannot be verified.', () => keys().peersWithoutRxKey);
    }
    if (src.level1) {
      const l1 = (): Level1ServerStats => reading().level1 as Level1ServerStats;
      mirrored(r, 'cillion_mesh_level1_requests_served_total', 'Level 1 key requests of peer clusters answered.', [], () => [[{}, l1().served]]);
      mirrored(r, 'cillion_mesh_level1_requests_refused_total', 'Level 1 key requests refused, by reason (signature, freshness, replay, epoch, size, slowness, load).', ['reason'], () =>
        Object.entries(l1().refused).map(([reason, n]) => [{ reason }, n]),
      );
    }
    if (src.identities) {
      const ids = (): IdentityViewStats => reading().identities as IdentityViewStats;
      gauge(r, 'cillion_identities', 'Identities of this cluster the agent holds (from CillionIdentity objects).', () => ids().identities);
      mirrored(r, 'cillion_identity_objects_skipped_total', 'CillionIdentity objects of this cluster skipped as malformed, by reason (name, cluster-id, labels, envelope, duplicate-labels).', ['reason'], () =>
        Object.entries(ids().skipped).map(([reason, n]) => [{ reason }, n]),
      );
    }
    if (src.processMetrics ?? true) collectDefaultMetrics({ register: r });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async text(): Promise<string> {
    this.now = this.read();
    try {
      return await this.registry.metrics();
    } finally {
      this.now = undefined;
    }
  }
}
