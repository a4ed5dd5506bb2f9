import assert from 'node:assert/strict';
import { GeofenceVerdict, Verdict } from '../../../proto/gen/flow/flow';
import { RelayMetrics } from '../../../relay/metrics';
import { zeroCounters } from '../../../observer/nodes';

function lines(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe('relay/metrics', () => {
  it('exposes the relay counters in the Prometheus text format', async () => {
    const m = new RelayMetrics({ processMetrics: false, followers: () => 2 });
    m.flow(Verdict.FORWARDED);
    m.flow(Verdict.FORWARDED);
    m.flow(Verdict.DROPPED);
    m.geofence('eu-only', GeofenceVerdict.GEOFENCE_VIOLATION);
    m.collector('node-a', { ...zeroCounters(), ringRecords: 100n, ringReserveFailures: 2n, exportDrops: 1n, decodeErrors: 3n });
    m.stored(3, 0.2);
    m.stored(2, undefined);
    m.storeError();
    const text = await m.text();
    assert.match(m.contentType, /^text\/plain/);
    assert.deepEqual(lines(text, 'cillion_flows_processed_total'), ['cillion_flows_processed_total{verdict="FORWARDED"} 2', 'cillion_flows_processed_total{verdict="DROPPED"} 1']);
    assert.deepEqual(lines(text, 'cillion_geofence_verdicts_total'), ['cillion_geofence_verdicts_total{fence="eu-only",verdict="GEOFENCE_VIOLATION"} 1']);
    assert.deepEqual(lines(text, 'cillion_ring_records_total'), ['cillion_ring_records_total{node="node-a"} 100']);
    assert.deepEqual(lines(text, 'cillion_ring_reserve_failures_total'), ['cillion_ring_reserve_failures_total{node="node-a"} 2']);
    assert.deepEqual(lines(text, 'cillion_export_drops_total'), ['cillion_export_drops_total{node="node-a"} 1']);
    assert.deepEqual(lines(text, 'cillion_decode_errors_total'), ['cillion_decode_errors_total{node="node-a"} 3']);
    assert.deepEqual(lines(text, 'cillion_store_rows_total'), ['cillion_store_rows_total 5']);
    assert.deepEqual(lines(text, 'cillion_store_errors_total'), ['cillion_store_errors_total 1']);
    assert.deepEqual(lines(text, 'cillion_store_insert_lag_seconds_count'), ['cillion_store_insert_lag_seconds_count 1']);
    assert.ok(text.includes('cillion_store_insert_lag_seconds_bucket{le="0.25"} 1'));
    assert.ok(text.includes('cillion_store_insert_lag_seconds_bucket{le="0.1"} 0'));
    assert.deepEqual(lines(text, 'cillion_observer_followers'), ['cillion_observer_followers 2']);
    assert.ok(!text.includes('process_cpu'), 'process metrics off');
  });

  it('caps node and fence label values, folding the rest into "other"', async () => {
    const m = new RelayMetrics({ processMetrics: false, maxNodes: 2, maxFences: 1 });
    for (const n of ['a', 'b', 'c', 'd', 'a']) m.collector(n, { ...zeroCounters(), ringRecords: 1n });
    m.geofence('f1', GeofenceVerdict.GEOFENCE_COMPLIANT);
    m.geofence('f2', GeofenceVerdict.GEOFENCE_COMPLIANT);
    const text = await m.text();
    assert.deepEqual(lines(text, 'cillion_ring_records_total').sort(), [
      'cillion_ring_records_total{node="a"} 2',
      'cillion_ring_records_total{node="b"} 1',
      'cillion_ring_records_total{node="other"} 2',
    ]);
    assert.deepEqual(lines(text, 'cillion_geofence_verdicts_total').sort(), [
      'cillion_geofence_verdicts_total{fence="f1",verdict="GEOFENCE_COMPLIANT"} 1',
      'cillion_geofence_verdicts_total{fence="other",verdict="GEOFENCE_COMPLIANT"} 1',
    ]);
  });
});
