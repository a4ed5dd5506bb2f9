import assert from 'node:assert/strict';
import { ColumnEncoder, encodeColumns, evidenceOf } from '../../../columns/encode';
import { COLUMNS, PRESENT, WIDTH, type ColumnKey } from '../../../columns/layout';
import { flowAt, flowsOf } from '../../../columns/rebuild';
import { endpointBytes, pathBytes } from '../../../columns/size';
import { MalformedColumnsError, viewColumns } from '../../../columns/view';
import { FlowColumns } from '../../../proto/gen/export/v1/export';
import { Endpoint, Flow, GeofenceMode, GeofenceVerdict, ScionPath, type Verdict } from '../../../proto/gen/flow/flow';
import { toFlow } from '../../../collector/flow';
import { scopedIdentity } from '../../../identity/cluster_scope';
import { collectorFlows, ctx, handMadeFlows, scionPath } from './sample_flows';

const limits = { maxFlows: 4096 };

/** Through the wire and back: what the relay reads from what a collector sent. */
/** A flow as a batch carries it: its path as evidence only. */
const sent = (f: Flow): Flow => (f.scionPath ? { ...f, scionPath: evidenceOf(f.scionPath) } : f);

function roundTrip(flows: Flow[], nodeName = ''): Flow[] {
  const { columns, refused } = encodeColumns(flows);
  assert.deepEqual(refused, []);
  const wire = FlowColumns.decode(FlowColumns.encode(columns).finish());
  return flowsOf(viewColumns(wire, limits), { nodeName });
}

function malformed(c: FlowColumns, column: string, message: RegExp): void {
  assert.throws(
    () => viewColumns(c, limits),
    (e: unknown) => e instanceof MalformedColumnsError && e.code === 'MALFORMED_COLUMNS' && e.column === column && message.test(e.message),
  );
}

describe('columns: encode, view, rebuild', () => {
  it('carries cluster-scoped identities above 16 bits whole (cluster id 255, local 65535)', () => {
    const top = scopedIdentity(255, 65535);
    const ingress = toFlow(
      { ifindex: 4, direction: 'INGRESS_DECAP', inner: { proto: 17, srcAddr: '10.2.0.9', dstAddr: '10.1.0.5', srcPort: 5000, dstPort: 53 }, identity: top,
        srcIA: 2n, dstIA: 1n, pathType: 1, pathId: 0, path: new Uint8Array(0), pathTruncated: false, ingressIfid: 1, egressIfid: 0,
        firstNs: 5e9, lastNs: 6e9, packets: 1, bytes: 100, podBytes: 100, wireBytes: 200, foldedReports: 0, lostPackets: 0, lostBytes: 0, dropped: 0, tcpFlags: 0, firstTcpFlags: 0, dropReasons: 0, lastDropReason: 0, lastDropPolicyId: 0, start: true, end: 'idle' },
      { source: undefined, destination: { identity: scopedIdentity(1, 256), podName: 'web-1', namespace: 'shop', labels: ['k8s:app=web'], clusterName: 'zurich' }, path: scionPath(2) },
      ctx,
    );
    const [back] = roundTrip([ingress]);
    assert.equal(back.source?.identity, top);
    assert.equal(back.identityExtension?.identity, top);
    assert.equal(back.destination?.identity, scopedIdentity(1, 256));
  });

  it('every field the collector sets comes back identical through the wire', () => {
    const flows = collectorFlows();
    // The samples do cover what they claim to.
    assert.ok(flows.some((f) => f.isReply === true) && flows.some((f) => f.isReply === false) && flows.some((f) => f.isReply === undefined));
    assert.ok(flows.some((f) => f.l4?.protocol?.$case === 'ICMPv4') && flows.some((f) => f.l4?.protocol?.$case === 'UDP') && flows.some((f) => f.IP && !f.l4));
    assert.ok(flows.some((f) => f.identityExtension) && flows.some((f) => !f.identityExtension) && flows.some((f) => f.destination?.labels[0] === 'reserved:world'));
    assert.ok(flows.some((f) => f.meter?.dropReasonName !== '') && flows.some((f) => f.interface?.name === ''));
    const tcp = flows[0].l4?.protocol;
    assert.ok(tcp?.$case === 'TCP' && Object.entries(tcp.value.flags!).every(([k, v]) => v === (k !== 'NS')));
    assert.deepStrictEqual(roundTrip(flows, ctx.nodeName), flows.map(sent));
  });

  it('the Layer4 cases and edge values a Hubble client may send come back identical', () => {
    const flows = handMadeFlows();
    assert.deepStrictEqual(roundTrip(flows), flows.map(sent));
  });

  it('overrides give the relay\'s node name, rebuilt path and geofence verdict', () => {
    const flows = collectorFlows().slice(0, 2);
    const b = viewColumns(encodeColumns(flows).columns, limits);
    const geofence = { verdict: GeofenceVerdict.GEOFENCE_VIOLATION, name: 'eu', namespace: 'shop', mode: GeofenceMode.GEOFENCE_ENFORCE, reason: 'hop 1', offendingHop: 1, offendingIsdAs: '64-559', offendingCountry: 'US', offendingSid: '' };
    const f = flowAt(b, 1, { nodeName: 'node-from-cert', scionPath: scionPath(9), geofence });
    assert.equal(f.nodeName, 'node-from-cert');
    assert.deepStrictEqual(f.scionPath, scionPath(9));
    assert.deepStrictEqual(f.geofence, geofence);
    assert.deepStrictEqual(flowAt(b, 0), { ...sent(flows[0]), nodeName: '' });
    assert.throws(() => flowAt(b, 2), RangeError);
  });

  it('stores equal endpoints and paths once, though each flow built its own', () => {
    const flows = Array.from({ length: 300 }, (_, i) => {
      const f = collectorFlows()[i % 2];
      // A fresh path object and raw buffer per flow, as enrich() makes them; three distinct paths.
      return { ...f, scionPath: scionPath(i % 3) };
    });
    const { columns } = encodeColumns(flows);
    // web, reserved:world, api; and the three paths.
    assert.equal(columns.endpoints.length, 3);
    assert.equal(columns.paths.length, 3);
    assert.ok(columns.strings.length <= 10, `${columns.strings.length} strings`);
    // Same path but one raw byte different: its own entry.
    const other = { ...flows[0], scionPath: { ...scionPath(0), raw: Buffer.from(scionPath(0).raw).fill(1, 0, 1) } };
    assert.equal(encodeColumns([flows[0], other]).columns.paths.length, 2);
    assert.deepStrictEqual(roundTrip(flows, ctx.nodeName), flows.map(sent));
  });

  it('keeps every flow exact when many endpoints and paths differ only past their pod name or fingerprint', () => {
    const f0 = collectorFlows()[0];
    const flows = Array.from({ length: 200 }, (_, i) => ({
      ...f0,
      source: { ...f0.source!, identity: i % 50, labels: [...f0.source!.labels] },
      scionPath: { ...scionPath(1), raw: Buffer.from([i % 40]) },
    }));
    const { columns } = encodeColumns(flows);
    assert.ok(columns.endpoints.length >= 51 && columns.endpoints.length <= 201, `${columns.endpoints.length} endpoints`);
    assert.ok(columns.paths.length >= 40 && columns.paths.length <= 200, `${columns.paths.length} paths`);
    assert.deepStrictEqual(roundTrip(flows, ctx.nodeName), flows.map(sent));
  });

  it('sends an all-zero column empty, and reads it back as zeros', () => {
    const flows = collectorFlows().filter((f) => f.l4?.protocol?.$case === 'TCP');
    const { columns } = encodeColumns(flows);
    for (const key of ['icmpType', 'icmpCode', 'l4Protocol'] as const) assert.equal(columns[key].length, key === 'l4Protocol' ? flows.length : 0, key);
    assert.equal(columns.timeNs.length, flows.length * 8);
    const b = viewColumns(columns, limits);
    assert.deepEqual([...b.u8('icmpType')], flows.map(() => 0));
    assert.deepEqual([...b.bytes('icmpCode')], flows.map(() => 0));
    // No flow at all: every column empty.
    const none = encodeColumns([]).columns;
    assert.ok(COLUMNS.every((c) => none[c.key].length === 0));
    assert.deepEqual(flowsOf(viewColumns(none, limits)), []);
  });

  it('reads columns at any byte offset, as the wire leaves them', () => {
    const flows = collectorFlows();
    const { columns } = encodeColumns(flows);
    const shifted = { ...columns } as FlowColumns;
    for (const { key } of COLUMNS) {
      const b = Buffer.alloc(columns[key].length + 1);
      columns[key].copy(b, 1);
      shifted[key] = b.subarray(1);
    }
    const b = viewColumns(shifted, limits);
    assert.equal(b.i64('timeNs')[0], 1_700_000_006_000_000_123n);
    assert.equal(b.i64('timeNs'), b.i64('timeNs'), 'cached per column');
    assert.deepStrictEqual(flowsOf(b, { nodeName: ctx.nodeName }), flows.map(sent));
  });

  it('refuses what the columns cannot hold, flow by flow, and keeps the rest in order', () => {
    const good = collectorFlows().slice(0, 3);
    const upper = { ...good[1], uuid: good[1].uuid.toUpperCase() };
    const bad: Flow[] = [
      { ...good[0], uuid: 'f1' },
      { ...good[0], time: undefined },
      { ...good[0], time: { seconds: 9_300_000_000n, nanos: 0 } },
      { ...good[0], time: { seconds: 1n, nanos: 1_000_000_000 } },
      { ...good[0], verdict: 256 as Verdict },
      { ...good[0], dropReasonDesc: -1 },
      { ...good[0], l4: { protocol: { $case: 'IGMP', value: { type: 1, groupAddress: '' } } } },
      { ...good[0], meter: { ...good[0].meter!, packets: -1n } },
      { ...good[0], meter: { ...good[0].meter!, firstSeen: { seconds: -9_300_000_000n, nanos: 0 } } },
    ];
    const { columns, refused } = encodeColumns([good[0], ...bad, upper, good[2]]);
    assert.deepEqual(
      refused.map((r) => r.index),
      bad.map((_, i) => i + 1),
    );
    const reasons = refused.map((r) => r.reason).join('\n');
    for (const re of [/uuid "f1" is not a UUID/, /without a time/, /outside int64 nanoseconds/, /nanos 1000000000/, /verdict 256 is outside 0..255/, /drop_reason_desc -1/, /Layer4 IGMP has no columns/, /meter.packets -1/, /meter.first_seen/]) {
      assert.match(reasons, re);
    }
    assert.equal(columns.count, 3);
    // Nothing of a refused flow stays in the tables.
    assert.deepStrictEqual(encodeColumns([good[0], upper, good[2]]).columns, columns);
    // Upper-case hex is taken, and comes back lower-case.
    assert.deepStrictEqual(flowsOf(viewColumns(columns, limits), { nodeName: ctx.nodeName }), [good[0], good[1], good[2]].map(sent));
  });

  it('cuts a batch by capacity and by encoded bytes; a flow too large alone is refused', () => {
    const flows = collectorFlows();
    const enc = new ColumnEncoder(4);
    for (let i = 0; i < 4; i++) assert.equal(enc.add(flows[i]), 'added');
    assert.equal(enc.add(flows[4]), 'full');
    const c = enc.finish();
    assert.equal(c.count, 4);
    assert.equal(enc.count, 0);

    const limit = 2500;
    const sized = new ColumnEncoder(1000);
    let added = 0;
    for (const f of flows) {
      const r = sized.add(f, limit);
      if (r === 'full') break;
      assert.equal(r, 'added');
      added++;
      const exact = FlowColumns.encode(encodeColumns(flows.slice(0, added)).columns).finish().length;
      assert.ok(exact <= sized.encodedBytes, `encodedBytes ${sized.encodedBytes} is an upper bound of ${exact}`);
    }
    assert.ok(added >= 1 && added < flows.length, `${added} flows`);
    const batch = sized.finish();
    assert.ok(FlowColumns.encode(batch).finish().length <= limit);
    assert.deepStrictEqual(flowsOf(viewColumns(batch, limits), { nodeName: ctx.nodeName }), flows.slice(0, added).map(sent));

    const huge = { ...flows[0], source: { ...flows[0].source!, labels: ['x'.repeat(limit)] } };
    const r = new ColumnEncoder(10).add(huge, limit);
    assert.ok(typeof r === 'object' && r.code === 'TOO_LARGE', JSON.stringify(r));
  });

  it('writes times exactly on both sides of the fast double arithmetic', () => {
    const seconds = [0n, 4294n, 4295n, 2_147_483_648n, 3_999_999_999n, 4_000_000_000n, 9_223_372_036n, -1n, -9_223_372_037n];
    const flows = seconds.flatMap((s) => [0, 705_032_704, 999_999_999].map((nanos) => Flow.fromPartial({ time: { seconds: s, nanos }, uuid: '00000000-0000-4000-8000-000000000000' })));
    const ns = (f: Flow): bigint => f.time!.seconds * 1_000_000_000n + BigInt(f.time!.nanos);
    const fits = (f: Flow): boolean => ns(f) >= -(1n << 63n) && ns(f) < 1n << 63n;
    const { columns, refused } = encodeColumns(flows);
    assert.deepEqual(refused.map((r) => r.index), flows.flatMap((f, k) => (fits(f) ? [] : [k])));
    assert.equal(refused.length, 2);
    const kept = flows.filter(fits);
    const b = viewColumns(columns, limits);
    assert.deepEqual([...b.i64('timeNs')], kept.map(ns));
    assert.deepStrictEqual(flowsOf(b), kept.map(sent));
  });

  it('sizes table entries exactly as protobuf encodes them', () => {
    const flows = [...collectorFlows(), ...handMadeFlows()];
    const emoji = { ...flows[0].source!, labels: ['k8s:owner=Zoë 🚀', '\ud800'], workloads: [{ name: 'w', kind: '' }] };
    for (const e of [...flows.flatMap((f) => [f.source, f.destination]), emoji]) if (e) assert.equal(endpointBytes(e), Endpoint.encode(e).finish().length);
    const odd = { ...scionPath(5), type: -1, expiry: { seconds: -1n, nanos: 5 }, latencyNs: 1n << 63n };
    for (const p of [...flows.map((f) => f.scionPath), odd]) if (p) assert.equal(pathBytes(p), ScionPath.encode(p).finish().length);
  });

  describe('malformed columns', () => {
    const good = (): FlowColumns => FlowColumns.decode(FlowColumns.encode(encodeColumns(collectorFlows()).columns).finish());

    it('a column of the wrong length', () => {
      const c = good();
      c.packets = c.packets.subarray(0, c.packets.length - 1);
      malformed(c, 'packets', /column packets has 79 bytes; 10 flows of 8 bytes take 80/);
      const d = good();
      d.uuid = Buffer.concat([d.uuid, Buffer.alloc(16)]);
      malformed(d, 'uuid', /uuid has 176 bytes/);
    });

    it('a table index out of range', () => {
      const c = good();
      c.strings = c.strings.slice(0, 2);
      malformed(c, COLUMNS.find((k) => k.kind === 'string' && c[k.key].length > 0 && new Uint32Array(new Uint8Array(c[k.key]).buffer).some((v) => v > 2))!.key, /references entry \d+ of strings, which has 2/);
      const d = good();
      d.endpoints = [];
      malformed(d, 'sourceEndpoint', /entry 1 of endpoints, which has 0/);
      const e = good();
      e.paths = e.paths.slice(0, 1);
      malformed(e, 'path', /of paths, which has 1/);
    });

    it('a count over the limit, and tables longer than the flows could reference', () => {
      malformed(FlowColumns.fromPartial({ count: 4097 }), 'count', /batch of 4097 flows in columns; at most 4096/);
      malformed(FlowColumns.fromPartial({ count: 2 ** 32 - 1 }), 'count', /at most 4096/);
      malformed(FlowColumns.fromPartial({ count: 1, paths: [scionPath(1), scionPath(2)] }), 'paths', /table paths has 2 entries; 1 flows can reference at most 1/);
      malformed(FlowColumns.fromPartial({ count: 0, strings: ['a'] }), 'strings', /has 1 entries/);
    });

    it('a column naming a case that does not exist', () => {
      const c = good();
      c.isReply = Buffer.from(c.isReply.length ? c.isReply : Buffer.alloc(c.count)).fill(3, 4, 5);
      malformed(c, 'isReply', /column isReply of flow 4 is 3; at most 2/);
      const d = FlowColumns.fromPartial({ count: 1, l4Protocol: Buffer.from([6]) });
      malformed(d, 'l4Protocol', /is 6; at most 5/);
    });

    it('columns that are all missing read as a flow of zeros', () => {
      const b = viewColumns(FlowColumns.fromPartial({ count: 2 }), limits);
      const f = flowAt(b, 1);
      assert.equal(f.uuid, '00000000-0000-0000-0000-000000000000');
      assert.deepEqual(f.time, { seconds: 0n, nanos: 0 });
      assert.equal(f.meter, undefined);
      assert.equal(f.source, undefined);
      assert.equal(b.u64('packets').length, 2);
      assert.equal(b.u8('uuid').length, 32);
      for (const { key, kind } of COLUMNS) assert.equal(b.bytes(key as ColumnKey).length, 2 * WIDTH[kind]);
    });
  });

  it('the present bits of every sample match the optional messages it has', () => {
    const flows = [...collectorFlows(), ...handMadeFlows()];
    const b = viewColumns(encodeColumns(flows).columns, limits);
    const p = b.u16('present');
    flows.forEach((f, i) => {
      assert.equal((p[i] & PRESENT.METER) !== 0, f.meter !== undefined);
      assert.equal((p[i] & PRESENT.GEOFENCE) !== 0, false);
    });
  });
});
