// GetFlowsResponse wire bytes written straight from a page's columns (response_wire.ts)
// against what GetFlows sends for the Flow blockFlows rebuilds from the same row: decoded
// with ts-proto they are deep-equal, and the bytes are the same, for every field the store
// keeps (absent, defaulted, at its limits), and for rows whose workload or path row is gone.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Flow, GeofenceMode, GeofenceVerdict } from '../../../../proto/gen/flow/flow';
import { GetFlowsResponse } from '../../../../proto/gen/observer/observer';
import { openClickHouse, type ClickHouseHandle } from '../../../../relay/store/chdb';
import { ProtoWriter } from '../../../../columns/proto_writer';
import { FlowReader } from '../../../../relay/store/query';
import { encodeBlock } from '../../../../relay/store/response_wire';
import { blockFlows } from '../../../../relay/store/stored_flow';
import { makeCorpus } from './corpus';
import { asSent, everyField } from './every_field';
import { createNarrowStore, insertCorpus } from './narrow';

const DB = 'cillion';

/** Flows at the edges: nothing optional, before 1970, an L4 of no known protocol, a verdict without an offending hop, text of several bytes a character. */
function edges(): Flow[] {
  const [a, b, c, d] = makeCorpus(4, 9, Date.UTC(2028, 0, 1));
  return [
    Flow.fromPartial({ time: { seconds: 1_830_000_000n, nanos: 0 }, uuid: 'ffffffff-ffff-4fff-bfff-ffffffffffff', nodeName: 'node-a' }),
    Flow.fromPartial({ ...a, time: { seconds: -5n, nanos: 1 }, uuid: '00000000-0000-4000-8000-000000000001' }),
    Flow.fromPartial({
      ...b,
      geofence: { verdict: GeofenceVerdict.GEOFENCE_UNVERIFIED, name: 'fence-ü', namespace: 'ns', mode: GeofenceMode.GEOFENCE_AUDIT, reason: 'no location for 1-64512 ✈', offendingHop: undefined, offendingIsdAs: '', offendingCountry: '' },
      interface: { index: 0, name: 'éth0' },
      meter: { ...b.meter!, packets: 0n, bytes: 0n, dropReasonName: 'ÜBER' },
    }),
    Flow.fromPartial({ ...d, l4: { protocol: undefined } }),
    Flow.fromPartial({ ...c, source: undefined, destination: undefined, scionPath: undefined, identityExtension: undefined, geofence: undefined, l4: undefined, IP: undefined, meter: undefined }),
  ];
}

/** What GetFlows sends for a Flow (observer/get_flows.ts flowResponse). */
function viaFlow(f: Flow): Buffer {
  return Buffer.from(GetFlowsResponse.encode({ responseTypes: { $case: 'flow', value: f }, nodeName: f.nodeName, time: f.time }).finish());
}

describe('relay/store GetFlowsResponse bytes from columns', function () {
  this.timeout(120_000);
  let dir: string;
  let ch: ClickHouseHandle;
  let sent: Flow[];

  const readerOf = (db: string) => new FlowReader(ch.client, db, { limits: { timeoutMs: 30_000, maxRowsToRead: 1e9 }, kill: async () => {} });

  /** Every stored row: the encoded message against the Flow path's, as bytes and decoded. */
  async function compare(db: string): Promise<number> {
    const w = new ProtoWriter();
    let rows = 0;
    for await (const page of readerOf(db).pages({ allow: [], deny: [], order: 'asc' })) {
      for (const b of page.blocks) {
        const fast = encodeBlock(b, page.refs, w);
        const flowAt = blockFlows(b, page.refs);
        assert.equal(fast.messages.length, b.rows);
        for (let i = 0; i < b.rows; i++) {
          const f = flowAt(i);
          const want = viaFlow(f);
          assert.deepStrictEqual(GetFlowsResponse.decode(fast.messages[i]), GetFlowsResponse.decode(want), `flow ${f.uuid}`);
          assert.ok(want.equals(fast.messages[i]), `flow ${f.uuid}: the same bytes`);
          assert.equal(fast.uuid(i), f.uuid);
          assert.equal(fast.timeNs(i), f.time!.seconds * 1_000_000_000n + BigInt(f.time!.nanos));
          rows++;
        }
      }
    }
    return rows;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-wire-test-'));
    ch = openClickHouse({ dataDir: dir });
    await createNarrowStore(ch.client, DB);
    sent = asSent([...makeCorpus(3000, 11), ...everyField(), ...edges()]);
    await insertCorpus(ch, DB, sent, 700);
  });
  after(async () => {
    await ch?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('encodes every stored flow as GetFlows would encode its Flow, across pages and blocks', async () => {
    assert.equal(await compare(DB), sent.length);
  });

  it('covers what it claims: every L4 kind, absent parts, hop 0 and none, meters with and without first/last seen, 1969', async () => {
    const back: Flow[] = [];
    for await (const f of readerOf(DB).query({ allow: [], deny: [], order: 'asc' })) back.push(f);
    const has = (p: (f: Flow) => boolean, what: string) => assert.ok(back.some(p), what);
    for (const c of ['TCP', 'UDP', 'SCTP', 'ICMPv4', 'ICMPv6']) has((f) => f.l4?.protocol?.$case === c, c);
    has((f) => f.l4 !== undefined && f.l4.protocol === undefined, 'an L4 without a protocol');
    has((f) => f.l4 === undefined && f.IP === undefined && f.meter === undefined && f.source === undefined && f.scionPath === undefined, 'nothing optional');
    has((f) => f.geofence?.offendingHop === 0, 'hop 0');
    has((f) => f.geofence !== undefined && f.geofence.offendingHop === undefined, 'no offending hop');
    has((f) => f.identityExtension !== undefined, 'identity extension');
    has((f) => f.meter !== undefined && f.meter.firstSeen === undefined && f.meter.lastSeen !== undefined, 'meter without first seen');
    has((f) => f.meter !== undefined && f.meter.firstSeen !== undefined, 'meter with first seen');
    has((f) => f.meter?.packets === 18_446_744_073_709_551_615n, 'the largest uint64');
    has((f) => f.time!.seconds < 0n, 'before 1970');
    has((f) => f.isReply === undefined, 'is_reply unset');
  });

  it('encodes a flow whose workload and path rows are gone from its own columns', async () => {
    const victims = sent.filter((f) => f.source && f.destination && f.scionPath).slice(0, 5);
    const other = 'gone';
    await createNarrowStore(ch.client, other);
    await insertCorpus(ch, other, victims);
    await ch.client.command({ query: `TRUNCATE TABLE ${other}.workloads` });
    await ch.client.command({ query: `TRUNCATE TABLE ${other}.path_headers` });
    assert.equal(await compare(other), victims.length);
  });
});
