import assert from 'node:assert/strict';
import { AgentMetrics } from '../../../collector/metrics';
import { serveMetrics } from '../../../metrics/endpoint';
import type { ExporterCounters } from '../../../collector/exporter';
import type { FlowTableStats } from '../../../collector/flowtable';
import { zeroCounters } from '../../../observer/nodes';
import { RemoteCatalogues } from '../../../mesh/store';
import { zeroKeyCounts } from '../../../mesh/key_error';
import { describeSpao, fetchSpao, parseSpaoInfo } from '../../../metrics/spao_info';
import { MetricsFetchError } from '../../../metrics/scrape';
import { BILLING, FRANKFURT, frankfurtContent, signedBytes, VIDEO, zurichPeers } from '../mesh/helpers';

describe('collector/metrics: the agent\'s own /metrics', () => {
  it('counts remote identity catalogues taken and refused, by reason, and the identities held per peer', async () => {
    const store = new RemoteCatalogues(zurichPeers());
    const outside = frankfurtContent({ identities: [{ id: BILLING, labels: [], addresses: ['10.165.0.7', '10.164.0.5'] }, { id: VIDEO, labels: [], addresses: ['10.164.0.6'] }] });
    assert.equal(store.accept(signedBytes(outside, FRANKFURT.privateKey)).ok, true);
    assert.equal(store.accept(signedBytes(frankfurtContent({ generation: 11n }), null)).ok, false);
    assert.equal(store.accept(signedBytes(frankfurtContent({ generation: 9n }), FRANKFURT.privateKey)).ok, false);
    const stats: FlowTableStats = { entries: 0, capacity: 1024, records: 0, decodeErrors: 0, evictions: 0, emitted: 0, deferred: 0, carried: 0, carriedNow: 0, lostReports: 0, lostPackets: 0, lostBytes: 0 };
    const m = new AgentMetrics({ datapath: () => ({}), table: () => stats, catalogues: () => store.stats(), processMetrics: false });
    const lines = (await m.text()).split('\n');
    for (const want of [
      'cillion_identity_catalogues_accepted_total 1',
      'cillion_identity_catalogues_refused_total{reason="UNSIGNED"} 1',
      'cillion_identity_catalogues_refused_total{reason="STALE"} 1',
      'cillion_identity_catalogues_refused_total{reason="BAD_SIGNATURE"} 0',
      'cillion_identity_catalogue_identities{cluster="frankfurt"} 2',
      'cillion_identity_catalogue_addresses_dropped_total 2',
    ]) assert.ok(lines.includes(want), `metrics lack "${want}"`);
  });

  it('counts the key sync\'s table writes, errors, fetches and refusals, and the Level 1 requests served and refused', async () => {
    const stats: FlowTableStats = { entries: 0, capacity: 1024, records: 0, decodeErrors: 0, evictions: 0, emitted: 0, deferred: 0, carried: 0, carriedNow: 0, lostReports: 0, lostPackets: 0, lostBytes: 0 };
    const refused = { ...zeroKeyCounts(), BAD_SIGNATURE: 2 };
    const m = new AgentMetrics({
      datapath: () => ({}),
      table: () => stats,
      keys: () => ({ rounds: 4, installed: 6, replaced: 1, removed: 3, tableErrors: 2, fetched: 2, fetchRefused: refused, entries: { tx: 2, rx: 1 }, peersWithoutRxKey: 1 }),
      level1: () => ({ served: 5, refused: { ...zeroKeyCounts(), REPLAYED: 1 } }),
      processMetrics: false,
    });
    const lines = (await m.text()).split('\n');
    for (const want of [
      'cillion_mesh_key_table_writes_total{op="install"} 6',
      'cillion_mesh_key_table_writes_total{op="remove"} 3',
      'cillion_mesh_key_table_errors_total 2',
      'cillion_mesh_level1_keys_fetched_total 2',
      'cillion_mesh_level1_fetch_refused_total{reason="BAD_SIGNATURE"} 2',
      'cillion_mesh_key_table_entries{dir="rx"} 1',
      'cillion_mesh_peers_without_rx_key 1',
      'cillion_mesh_level1_requests_served_total 5',
      'cillion_mesh_level1_requests_refused_total{reason="REPLAYED"} 1',
    ]) assert.ok(lines.includes(want), `metrics lack "${want}"`);
  });

  it('says whether the edge authenticates, and cillion status --agent reads it back over HTTP', async () => {
    const stats: FlowTableStats = { entries: 0, capacity: 1024, records: 0, decodeErrors: 0, evictions: 0, emitted: 0, deferred: 0, carried: 0, carriedNow: 0, lostReports: 0, lostPackets: 0, lostBytes: 0 };
    const keys = (peersWithoutRxKey: number) => () => ({ rounds: 1, installed: 2, replaced: 0, removed: 0, tableErrors: 0, fetched: 1, fetchRefused: zeroKeyCounts(), entries: { tx: 1, rx: 1 }, peersWithoutRxKey });
    const on = new AgentMetrics({ datapath: () => ({}), table: () => stats, spao: { state: 'on', driver: 'cbc(ecb(aes-fixed-time))' }, keys: keys(0), processMetrics: false });
    const waiting = new AgentMetrics({ datapath: () => ({}), table: () => stats, spao: { state: 'on', driver: 'cbc(aes-aesni)' }, keys: keys(1), processMetrics: false });
    const off = new AgentMetrics({ datapath: () => ({}), table: () => stats, spao: { state: 'off', reason: 'turned off (--spao off)' }, processMetrics: false });
    assert.deepEqual(parseSpaoInfo(await on.text()), { state: 'on', driver: 'cbc(ecb(aes-fixed-time))', peersWithoutRxKey: 0 });
    assert.equal(describeSpao(parseSpaoInfo(await on.text())!), "SPAO on (cbc(ecb(aes-fixed-time))), every peer's current key held");
    assert.equal(describeSpao(parseSpaoInfo(await waiting.text())!), 'SPAO on (cbc(aes-aesni)), 1 peer(s) without a current key: their packets are dropped');
    assert.equal(describeSpao(parseSpaoInfo(await off.text())!), 'SPAO off: turned off (--spao off); identities from other clusters are not authenticated');
    const served = await serveMetrics('127.0.0.1:0', off);
    const router = await serveMetrics('127.0.0.1:0', { contentType: 'text/plain', text: async () => 'cillion_hop_mac_info{method="kfunc"} 1\n' });
    try {
      assert.deepEqual(await fetchSpao(served.address, 2000), { state: 'off', reason: 'turned off (--spao off)' });
      await assert.rejects(fetchSpao(router.address, 2000), (e: Error) => e instanceof MetricsFetchError && /no cillion_spao_info/.test(e.message));
    } finally {
      await served.close();
      await router.close();
    }
  });

  it('counts the CillionIdentity objects skipped, by reason, and the identities held', async () => {
    const stats: FlowTableStats = { entries: 0, capacity: 1024, records: 0, decodeErrors: 0, evictions: 0, emitted: 0, deferred: 0, carried: 0, carriedNow: 0, lostReports: 0, lostPackets: 0, lostBytes: 0 };
    const m = new AgentMetrics({
      datapath: () => ({}),
      table: () => stats,
      identities: () => ({ identities: 7, otherClusters: 3, skipped: { name: 2, 'cluster-id': 0, labels: 1, envelope: 0, 'duplicate-labels': 1 } }),
      processMetrics: false,
    });
    const lines = (await m.text()).split('\n');
    for (const want of [
      'cillion_identities 7',
      'cillion_identity_objects_skipped_total{reason="name"} 2',
      'cillion_identity_objects_skipped_total{reason="labels"} 1',
      'cillion_identity_objects_skipped_total{reason="duplicate-labels"} 1',
    ]) assert.ok(lines.includes(want), `metrics lack "${want}"`);
  });

  it('serves datapath counters, the flow table and the export backlog as they are at scrape time', async () => {
    const stats: FlowTableStats = { entries: 12, capacity: 1024, records: 900, decodeErrors: 1, evictions: 40, emitted: 300, deferred: 5, carried: 9, carriedNow: 2, lostReports: 3, lostPackets: 17, lostBytes: 1700 };
    const exporter: ExporterCounters = {
      ...zeroCounters(), exportDrops: 4n, exportDropPackets: 8n, exportDropBytes: 800n, flowsExported: 290n, packetsExported: 880n,
      backlogFlows: 33, backlogBatches: 2, sessionId: 's', sequence: 7n, ackedSequence: 5n, connected: true, reconnects: 1, sessionResets: 0, flowsRejected: 0n, oversizeDrops: 0n, unencodableDrops: 0n,
      target: '10.0.0.2:4245', relayName: 'relay-b', failovers: 2, handoversPending: 1, retractions: 1, handoversDropped: 0,
    };
    const datapath = { ENCAP: { packets: 910n, bytes: 91000n }, REDIRECT_FAILED: { packets: 2n, bytes: 300n }, RING_RESERVE_FAIL: { packets: 6n, bytes: 600n } };
    const m = new AgentMetrics({ datapath: () => datapath, table: () => stats, exporter: () => exporter, processMetrics: false });
    const endpoint = await serveMetrics('127.0.0.1:0', m);
    try {
      const scrape = async () => (await (await fetch(`http://${endpoint.address}/metrics`)).text()).split('\n');
      let lines = await scrape();
      for (const want of [
        'cillion_datapath_packets_total{counter="ENCAP"} 910',
        'cillion_datapath_packets_total{counter="REDIRECT_FAILED"} 2',
        'cillion_datapath_packets_total{counter="RING_RESERVE_FAIL"} 6',
        'cillion_datapath_wire_bytes_total{counter="RING_RESERVE_FAIL"} 600',
        'cillion_flow_table_entries 12',
        'cillion_flow_table_capacity 1024',
        'cillion_flow_table_evictions_total 40',
        'cillion_flow_reports_deferred_total 5',
        'cillion_flow_reports_carried 2',
        'cillion_flow_reports_lost_total 3',
        'cillion_flow_packets_lost_total 17',
        'cillion_export_drops_total 4',
        'cillion_export_drop_packets_total 8',
        'cillion_export_backlog_flows 33',
        'cillion_packets_exported_total 880',
        'cillion_export_failovers_total 2',
        'cillion_export_handovers_pending 1',
        'cillion_export_relay_info{target="10.0.0.2:4245",relay="relay-b"} 1',
      ]) assert.ok(lines.includes(want), `metrics lack "${want}"`);
      stats.lostPackets = 20;
      datapath.ENCAP.packets = 1000n;
      lines = await scrape();
      assert.ok(lines.includes('cillion_flow_packets_lost_total 20'), 'read again at the next scrape, not added up');
      assert.ok(lines.includes('cillion_datapath_packets_total{counter="ENCAP"} 1000'));
      assert.equal((await fetch(`http://${endpoint.address}/nothing`)).status, 404);
    } finally {
      await endpoint.close();
    }
  });

  it('refuses an address that is not host:port', async () => {
    await assert.rejects(serveMetrics('nonsense', new AgentMetrics({ datapath: () => ({}), table: () => ({}) as FlowTableStats, processMetrics: false })), /not host:port/);
  });
});
