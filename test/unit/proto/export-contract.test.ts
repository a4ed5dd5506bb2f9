import assert from 'node:assert/strict';
import { FlowExportService } from '../../../proto/gen/export/v1/export';
import { compile, fieldRows, methodRows } from './descriptor';
import type { Compiled } from './descriptor';

describe('proto: collector -> relay export contract', () => {
  let ours: Compiled;
  before(() => {
    ours = compile(['export/v1/export.proto']);
  });

  it('is one bidirectional stream of batches and acks', () => {
    assert.deepEqual(methodRows(ours, ['cillion.export.v1']), [
      ['cillion.export.v1.FlowExport', 'Export', 'cillion.export.v1.FlowBatch', 'cillion.export.v1.ExportAck', 'bidi_streaming'],
    ]);
    assert.equal(FlowExportService.export.path, '/cillion.export.v1.FlowExport/Export');
    assert.equal(FlowExportService.export.requestStream, true);
    assert.equal(FlowExportService.export.responseStream, true);
  });

  it('carries what deduplication and loss accounting need', () => {
    const rows = fieldRows(ours, ['cillion.export.v1']).map(([m, f, , t]) => `${m}.${f}: ${t}`);
    for (const want of [
      'cillion.export.v1.FlowBatch.session_id: string',
      'cillion.export.v1.FlowBatch.sequence: uint64',
      'cillion.export.v1.FlowBatch.node_name: string',
      'cillion.export.v1.FlowBatch.flows: repeated flow.Flow',
      'cillion.export.v1.FlowBatch.counters: cillion.export.v1.ExportCounters',
      'cillion.export.v1.ExportCounters.ring_records: uint64',
      'cillion.export.v1.ExportCounters.ring_reserve_failures: uint64',
      'cillion.export.v1.ExportCounters.export_drops: uint64',
      'cillion.export.v1.ExportAck.session_id: string',
      'cillion.export.v1.ExportAck.acked_sequence: uint64',
    ]) {
      assert.ok(rows.includes(want), `missing ${want}`);
    }
  });
});
