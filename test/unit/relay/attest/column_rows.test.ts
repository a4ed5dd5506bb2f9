// Evidence from the stored columns against evidence from rebuilt Flows: every line the same
// bytes, and whole exports (evidence and statement) identical for every record choice,
// several selectors and a geofence, over a corpus with every field evidence holds: both
// directions' records and router ones, flows with and without a meter, a fence (and a fence
// record of no verdict), every l4 kind and none, no IP, no endpoints, odd label text, flows
// of one instant, and workloads and paths whose rows are gone from their tables.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Flow, GeofenceMode, GeofenceVerdict, IPVersion, ScionObservationPoint, Verdict,
} from '../../../../proto/gen/flow/flow';
import { parseLabelSelector } from '../../../../observer/filters/label_selector';
import { canonicalFlow, canonicalLine } from '../../../../relay/attest/canonical_flow';
import { ColumnRows } from '../../../../relay/attest/column_rows';
import type { EvidenceRow } from '../../../../relay/attest/evidence_row';
import { exportAttestation, RECORD_CHOICES, type EvidenceSource } from '../../../../relay/attest/export';
import { isSrv6Path, type PathTable } from '../../../../relay/attest/predicate';
import { statementBytes } from '../../../../relay/attest/statement';
import { openClickHouse, type ClickHouseHandle } from '../../../../relay/store/chdb';
import { FlowReader } from '../../../../relay/store/query';
import { blockFlows } from '../../../../relay/store/stored_flow';
import { createNarrowStore, insertCorpus } from '../store/narrow';
import { CORPUS_START_MS, corpus, options } from './fixture';

const DB = 'cillion';
/** Matches every source: no workload has this label. */
const EVERYONE = '!no-such-label';

/** Flows the store corpus leaves out, all at instants the corpus also uses or shares among them. */
function oddFlows(): Flow[] {
  const base = corpus(12);
  const at = (k: number) => base[k % 3].time;
  const l4s = [
    { protocol: { $case: 'SCTP' as const, value: { sourcePort: 9, destinationPort: 36412 } } },
    { protocol: { $case: 'ICMPv6' as const, value: { type: 128, code: 255 } } },
    { protocol: { $case: 'TCP' as const, value: { sourcePort: 65535, destinationPort: 0 } } },
    undefined,
  ];
  return base.map((f, i) => Flow.fromPartial({
    ...f,
    uuid: `ffffffff-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    time: at(i),
    l4: l4s[i % l4s.length],
    IP: i === 3 ? undefined : i === 4 ? { source: 'fd00::1', destination: 'fd00::2', ipVersion: IPVersion.IPv6 } : f.IP,
    verdict: i === 5 ? Verdict.VERDICT_UNKNOWN : f.verdict,
    scionObservationPoint: [ScionObservationPoint.SCION_ROUTER_FORWARD, ScionObservationPoint.SCION_POINT_UNKNOWN,
      ScionObservationPoint.SCION_EDGE_ENCAP, ScionObservationPoint.SCION_EDGE_DECAP][i % 4],
    meter: i % 3 === 1 ? undefined : { ...f.meter!, packets: 18_446_744_073_709_551_615n, bytes: 2n ** 53n + 1n },
    geofence: i === 6 ? { verdict: GeofenceVerdict.GEOFENCE_VERDICT_UNKNOWN, name: 'eu-only', namespace: 'shop', mode: GeofenceMode.GEOFENCE_AUDIT, reason: '' }
      : i === 7 ? { verdict: GeofenceVerdict.GEOFENCE_VIOLATION, name: 'dach', namespace: 'shop', mode: GeofenceMode.GEOFENCE_ENFORCE, reason: 'hop "1" \\ is in US ✈' }
        : f.geofence,
    source: i === 8 ? undefined : i === 9
      ? { ...f.source!, labels: ['k8s:app=ledger', 'k8s:team=zürich', 'k8s:note="quoted"\\', 'k8s:emoji=🛰'], podName: 'ledger-ü-0', workloads: [{ name: 'ledger', kind: 'StatefulSet' }, { name: 'x', kind: 'Job' }] }
      : f.source,
    destination: i === 10 ? undefined : f.destination,
  }));
}

/** Flows whose workload and path rows are deleted after they are stored: only their own columns describe those. */
function goneFlows(): Flow[] {
  return corpus(8).map((f, i) => Flow.fromPartial({
    ...f,
    uuid: `eeeeeeee-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    source: { ...f.source!, podName: `gone-src-${i}`, labels: ['k8s:app=ledger', `k8s:gone=${i}`] },
    destination: { ...f.destination!, podName: `gone-dst-${i}` },
    scionPath: i % 2 ? undefined : { ...corpus(40).find((x) => x.scionPath)!.scionPath!, fingerprint: `DEAD${i}`, srcIa: '9-ff00:0:9', hops: [] },
  }));
}

describe('relay/attest evidence from stored columns', function () {
  this.timeout(120_000);
  let dir: string;
  let ch: ClickHouseHandle;
  let reader: FlowReader;
  let pagesRead = 0;
  let source: EvidenceSource;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-attest-columns-'));
    ch = openClickHouse({ dataDir: dir });
    await createNarrowStore(ch.client, DB);
    await insertCorpus(ch, DB, [...corpus(3000), ...oddFlows(), ...goneFlows()], 700);
    for (const t of ['workloads', 'path_headers']) {
      const where = t === 'workloads' ? "startsWith(pod_name, 'gone-')" : "startsWith(lower(fingerprint), 'dead')";
      await ch.client.command({ query: `ALTER TABLE ${DB}.${t} DELETE WHERE ${where}`, clickhouse_settings: { mutations_sync: '2' } });
    }
    reader = new FlowReader(ch.client, DB, { limits: { timeoutMs: 30_000, maxRowsToRead: 1e9 }, kill: (tag) => ch.kill(tag) });
    source = {
      query: (q) => reader.query(q),
      pages: (q) => {
        pagesRead++;
        return reader.pages(q);
      },
    };
  });
  after(async () => {
    await ch?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes every stored row as canonicalLine writes the Flow rebuilt from it', async () => {
    const rows = new ColumnRows({ selector: parseLabelSelector(EVERYONE), records: 'all' }, new Map());
    const fromColumns: EvidenceRow[] = [];
    const fromFlows: string[] = [];
    let gone = 0;
    for await (const page of reader.pages({ allow: [], deny: [], order: 'asc' })) {
      rows.page(page, (r) => fromColumns.push(r));
      for (const b of page.blocks) {
        const flowAt = blockFlows(b, page.refs);
        for (let i = 0; i < b.rows; i++) {
          const f = flowAt(i);
          if (f.uuid.startsWith('eeeeeeee-') && f.source?.podName === '' && f.source.labels.length === 0) gone++;
          fromFlows.push(canonicalLine(canonicalFlow(f)));
        }
      }
    }
    assert.equal(gone, 8, 'the deleted workloads are gone from the table');
    assert.equal(fromColumns.length, fromFlows.length);
    assert.equal(fromColumns.length, 3000 + 12 + 8);
    for (let i = 0; i < fromFlows.length; i++) {
      assert.equal(fromColumns[i].line, fromFlows[i], `line ${i}`);
      const c = JSON.parse(fromFlows[i]) as ReturnType<typeof canonicalFlow>;
      const r = fromColumns[i];
      assert.deepEqual(
        [r.time, r.uuid, r.path, r.packets === null ? null : String(r.packets), r.bytes === null ? null : String(r.bytes), r.fence],
        [c.time, c.uuid, c.path, c.packets, c.bytes, c.fence],
        `tally fields of line ${i}`,
      );
    }
  });

  it('lists a path of which only the flow row is left, as the Flow path does', async () => {
    const table: PathTable = new Map();
    const rows = new ColumnRows({ selector: parseLabelSelector('gone'), records: 'all' }, table);
    let n = 0;
    for await (const page of reader.pages({ allow: [], deny: [], order: 'asc' })) rows.page(page, () => n++);
    // Flows whose workload row is gone have no labels, so a selector on a label takes none of them.
    assert.equal(n, 0);
    const everyone = new ColumnRows({ selector: parseLabelSelector(EVERYONE), records: 'all' }, table);
    for await (const page of reader.pages({ allow: [], deny: [], order: 'asc' })) everyone.page(page, () => n++);
    assert.deepEqual([...table.keys()].filter((k) => k.startsWith('dead')).sort(), ['dead0', 'dead2', 'dead4', 'dead6']);
    const dead0 = table.get('dead0');
    assert.ok(dead0 && !isSrv6Path(dead0));
    assert.deepEqual([dead0.srcIa, dead0.hops], ['9-ff00:0:9', []]);
  });

  for (const records of RECORD_CHOICES) {
    for (const [selector, geofence] of [['app=ledger', undefined], [EVERYONE, undefined], ['app in (ledger,checkout),!tier', undefined], ['app', 'eu-only'], [EVERYONE, 'dach']] as const) {
      it(`exports the same evidence and statement from columns as from Flows: ${records}, "${selector}"${geofence ? `, geofence ${geofence}` : ''}`, async () => {
        const run = async (from: EvidenceSource) => {
          const chunks: Buffer[] = [];
          const { statement } = await exportAttestation(
            from,
            options({ selector, geofence, records, since: new Date(CORPUS_START_MS - 60_000), until: new Date(CORPUS_START_MS + 3_600_000) }),
            async (c) => {
              chunks.push(Buffer.from(c));
            },
          );
          return { evidence: Buffer.concat(chunks), statement: statementBytes(statement) };
        };
        const before = pagesRead;
        const columns = await run(source);
        assert.equal(pagesRead, before + 1, 'the export read the stored columns');
        const flows = await run({ query: (q) => reader.query(q) });
        assert.ok(flows.evidence.length > 0, 'the selection holds flows');
        assert.equal(columns.evidence.toString('utf8'), flows.evidence.toString('utf8'));
        assert.equal(columns.statement.toString('utf8'), flows.statement.toString('utf8'));
      });
    }
  }
});
