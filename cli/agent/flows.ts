// The agent's flows: the ring drained into the collector's flow table, each reported flow
// judged against the geofences, exported to the relay (when there is one) and published to
// the node's own hub; then the node's /metrics and Observer socket over them.
import type { ChannelCredentials } from '@grpc/grpc-js';
import { version } from '../../package.json';
import { realtimeOffsetNs } from '../../bpf/clock';
import type { EdgeDatapath } from '../../bpf/datapath';
import { RingReader } from '../../bpf/native';
import { Collector, flowTableGauge, pipelineCounters } from '../../collector/collector';
import type { WorkloadEndpoints } from '../../collector/enrich';
import { Exporter } from '../../collector/exporter';
import { serveLocalObserver, type LocalObserver } from '../../collector/local_observer';
import { AgentMetrics } from '../../collector/metrics';
import { FlowJudge } from '../../geofence/judge';
import { catalogueAuthority } from '../../paths/srv6_authority';
import type { SidCatalogue } from '../../srv6/catalogue';
import type { Lifecycle } from '../../lifecycle/lifecycle';
import type { RemoteCatalogues } from '../../mesh/store';
import { serveMetrics } from '../../metrics/endpoint';
import { FlowHub } from '../../observer/hub';
import { zeroCounters } from '../../observer/nodes';
import type { IdentityViewStats } from '../../kube/identity_view';
import type { ResourceSource } from '../../resources/source';
import type { ControlPlaneCatalog } from '../../paths/catalog';
import type { Flow } from '../../proto/gen/flow/flow';
import type { AgentMesh } from './mesh';

const RING_BATCH_BYTES = 1 << 20;

export interface CollectionOptions {
  node: string;
  clusterName: string;
  relays: string[];
  relayFailover: number;
  credentials: ChannelCredentials;
  flowMax: number;
  flowIdle: number;
  flowActive: number;
  exportBuffer: number;
  /** Interface names by ifindex, for flows. */
  devices: ReadonlyMap<number, string>;
  /** CillionNetworkPolicy names by the id this node's programmer gave them, for naming policy drops. */
  policyName: (id: number) => string | undefined;
}

export interface CollectionDeps {
  source: ResourceSource;
  dp: EdgeDatapath;
  endpoints: WorkloadEndpoints;
  catalog: ControlPlaneCatalog;
  remote: RemoteCatalogues | undefined;
  /** The cluster's SID catalogue (ClusterAS spec.srv6), so the node judges SRv6 flows as the relay does. */
  srv6Catalogue?: SidCatalogue;
  log: (line: string) => void;
}

export interface Collection {
  collector: Collector;
  exporter: Exporter | null;
  hub: FlowHub;
}

export function startCollection(o: CollectionOptions, d: CollectionDeps, life: Lifecycle): Collection {
  const { dp, log } = d;
  // The node's own view of the control plane: its judge checks hop fields as the relay does,
  // with the verifier (and its cache) the collector's enrichment already filled.
  const judge = new FlowJudge(d.source, { verifier: d.catalog.verifier, srv6: d.srv6Catalogue && catalogueAuthority(d.srv6Catalogue, `SID catalogue of ${o.clusterName}`), log });
  life.defer('geofence judge', () => judge.close());
  const hub = new FlowHub();
  let exporter: Exporter | null = null;
  const collector = new Collector({
    // Reports wait for room in the export backlog instead of being dropped there.
    table: { maxEntries: o.flowMax, idleTimeoutMs: o.flowIdle * 1000, activeTimeoutMs: o.flowActive * 1000, room: () => exporter?.room() ?? Infinity },
    context: { nodeName: o.node, clusterName: o.clusterName, realtimeOffsetNs: realtimeOffsetNs(), interfaceName: (i) => o.devices.get(i), policyName: o.policyName },
    endpoints: d.endpoints,
    paths: d.catalog,
    remote: d.remote,
    deliver: (flows: Flow[]) => {
      for (const f of flows) {
        judge.judge(f);
        exporter?.push(f);
      }
      hub.publish(flows);
    },
    onDecodeError: (e) => log(`ring record: ${e.message}`),
  });
  exporter = relayExporter(o, () => pipelineCounters(collector.stats(), dp.counterTotals()), () => flowTableGauge(collector.stats()), log);
  if (!exporter) log('no --relay: flows stay on this node (cillion observe --node)');
  const reader = new RingReader(dp.events, { bufferBytes: RING_BATCH_BYTES, onBatch: collector.ingest });
  reader.start();
  collector.start();
  const lossLog = logShedReports(collector, log);
  const ex = exporter;
  life.defer('flow collection', async () => {
    clearInterval(lossLog);
    reader.stop();
    reader.drain();
    collector.stop();
    await ex?.close();
  });
  return { collector, exporter, hub };
}

function relayExporter(
  o: CollectionOptions,
  ringCounters: () => ReturnType<typeof pipelineCounters>,
  flowTable: () => ReturnType<typeof flowTableGauge>,
  log: (line: string) => void,
): Exporter | null {
  if (o.relays.length === 0) return null;
  let exportingTo = '';
  return new Exporter({
    target: o.relays,
    failoverMs: o.relayFailover,
    credentials: o.credentials,
    nodeName: o.node,
    clusterName: o.clusterName,
    maxBacklogFlows: o.exportBuffer,
    // Half the relay's default --max-batch-flows; as columns a flow is well under 100
    // bytes, so batches of a busy node are cut here, or at 1 MiB encoded.
    batchFlows: 16_384,
    flushMs: 200,
    ringCounters,
    flowTable,
    onError: (e) => log(`export: ${e.message}`),
    onConnected: (target, name) => {
      const now = `${target}${name ? ` (relay ${name})` : ''}`;
      if (now !== exportingTo) log(`export: exporting to ${now}`);
      exportingTo = now;
    },
  });
}

/** Shed reports are counted in metrics and status; the log says so once per stretch. */
function logShedReports(collector: Collector, log: (line: string) => void): NodeJS.Timeout {
  let shed = { reports: 0, packets: 0 };
  const lossLog = setInterval(() => {
    const st = collector.stats();
    if (st.lostReports > shed.reports) {
      log(`flow table: ${st.lostReports - shed.reports} reports (${st.lostPackets - shed.packets} packets) shed while the export backlog stayed full`);
    }
    shed = { reports: st.lostReports, packets: st.lostPackets };
  }, 10_000);
  lossLog.unref();
  return lossLog;
}

export async function startAgentMetrics(
  listen: string,
  c: Collection,
  d: { dp: EdgeDatapath; remote: RemoteCatalogues | undefined; mesh: AgentMesh; identities: (() => IdentityViewStats) | undefined; log: (line: string) => void },
  life: Lifecycle,
): Promise<void> {
  const { exporter: ex, collector } = c;
  const { keySync, level1 } = d.mesh;
  const catalogues = d.remote;
  const endpoint = await serveMetrics(listen, new AgentMetrics({
    datapath: () => d.dp.counterTotals(),
    table: () => collector.stats(),
    exporter: ex ? () => ex.counters() : undefined,
    catalogues: catalogues && (() => catalogues.stats()),
    keys: keySync && (() => keySync.stats()),
    level1: level1 && (() => level1.stats()),
    spao: d.dp.spao,
    identities: d.identities,
  }));
  life.defer('metrics endpoint', () => endpoint.close());
  d.log(`metrics on http://${endpoint.address}/metrics`);
}

export async function startObserverSocket(socket: string, c: Collection, dp: EdgeDatapath, log: (line: string) => void, life: Lifecycle): Promise<LocalObserver> {
  const { exporter: ex, collector } = c;
  const observer = await serveLocalObserver({
    socket: socket.replace(/^unix:\/\//, ''),
    hub: c.hub,
    version,
    log,
    counters: () => (ex ? ex.counters() : { ...zeroCounters(), ...pipelineCounters(collector.stats(), dp.counterTotals()) }),
    flowTable: () => flowTableGauge(collector.stats()),
  });
  life.defer('Observer socket', () => observer.close());
  return observer;
}
