import assert from 'node:assert/strict';
import { ColumnEncoder, encodeColumns, evidenceOfSrv6 } from '../../../columns/encode';
import { flowAt, flowsOf } from '../../../columns/rebuild';
import { srv6PathBytes } from '../../../columns/size';
import { MalformedColumnsError, viewColumns } from '../../../columns/view';
import { FlowColumns } from '../../../proto/gen/export/v1/export';
import { Flow, Srv6HmacStatus, Srv6Path, WanPathType } from '../../../proto/gen/flow/flow';
import { collectorFlows } from './sample_flows';

const limits = { maxFlows: 4096 };

/** An SRH (RFC 8754) of `n` segments fc00:0:<k>::1, as bytes; the columns carry it opaque. */
function srh(n: number, tenant: number): Buffer {
  const b = Buffer.alloc(8 + 16 * n);
  b[0] = 4;
  b[1] = 2 * n;
  b[2] = 4;
  b[3] = n - 1;
  b[4] = n - 1;
  for (let k = 0; k < n; k++) {
    const at = 8 + 16 * k;
    b[at] = 0xfc;
    b[at + 5] = k + 1;
    b[at + 15] = tenant & 0xff;
  }
  return b;
}

/** An SRv6 path as a collector might fill it, including fields only the relay may set. */
function srv6Path(n: number, tenant = 100): Srv6Path {
  return Srv6Path.fromPartial({
    segments: ['fc00:0:1::1', 'fc00:0:4::1'],
    segmentsLeft: n - 1,
    source: 'fc00:0:101::1',
    tenantId: tenant,
    tenant: 'voice',
    hops: [{ sid: 'fc00:0:1::1', behavior: 'End', node: 'pe-zurich', country: 'CH' }],
    fingerprint: 'ab'.repeat(32),
    knownToCatalogue: true,
    hmac: { status: Srv6HmacStatus.SRV6_HMAC_VERIFIED, keyId: 1 },
    raw: srh(n, tenant),
    pathId: 7,
    latencyNs: 3_000_000n,
  });
}

function srv6Flow(base: Flow, path: Srv6Path): Flow {
  return { ...base, pathType: WanPathType.WAN_PATH_SRV6, scionPath: undefined, srv6Path: path };
}

function wire(flows: Flow[]): FlowColumns {
  const { columns, refused } = encodeColumns(flows);
  assert.deepEqual(refused, []);
  return FlowColumns.decode(FlowColumns.encode(columns).finish());
}

describe('columns: SRv6 paths and the path type', () => {
  it('carries the path type and the SRv6 evidence, and only the evidence', () => {
    const base = collectorFlows();
    const scion = { ...base[0], pathType: WanPathType.WAN_PATH_SCION };
    const srv6 = srv6Flow(base[1], srv6Path(3));
    const back = flowsOf(viewColumns(wire([scion, srv6]), limits));
    assert.equal(back[0].pathType, WanPathType.WAN_PATH_SCION);
    assert.equal(back[0].srv6Path, undefined);
    assert.equal(back[1].pathType, WanPathType.WAN_PATH_SRV6);
    assert.equal(back[1].scionPath, undefined);
    const p = back[1].srv6Path!;
    assert.deepEqual(Buffer.from(p.raw), Buffer.from(srh(3, 100)));
    assert.equal(p.source, 'fc00:0:101::1');
    assert.equal(p.segmentsLeft, 2);
    assert.equal(p.tenantId, 100);
    assert.equal(p.pathId, 7);
    // What the relay rebuilds is never taken from a collector.
    assert.deepEqual([p.segments, p.hops, p.fingerprint, p.tenant, p.knownToCatalogue, p.hmac, p.latencyNs], [[], [], '', '', false, undefined, undefined]);
  });

  it('the relay\'s rebuilt SRv6 path overrides the table entry', () => {
    const rebuilt = srv6Path(2, 200);
    const b = viewColumns(wire([srv6Flow(collectorFlows()[0], srv6Path(2))]), limits);
    assert.deepStrictEqual(flowAt(b, 0, { srv6Path: rebuilt }).srv6Path, rebuilt);
  });

  it('stores equal SRv6 evidence once, and keeps evidence that differs in any field apart', () => {
    const base = collectorFlows()[0];
    const a = srv6Path(3);
    const flows = [
      srv6Flow(base, a),
      srv6Flow(base, { ...a, segments: ['x'], hops: [], tenant: 'other' }),
      srv6Flow(base, { ...a, segmentsLeft: 0 }),
      srv6Flow(base, { ...a, source: 'fc00:0:102::1' }),
      srv6Flow(base, { ...a, pathId: 8 }),
      srv6Flow(base, { ...a, raw: srh(3, 200) }),
    ];
    const c = wire(flows);
    assert.equal(c.srv6Paths.length, 5);
    const back = flowsOf(viewColumns(c, limits));
    const bytes = (p: Srv6Path | undefined) => p && { ...p, raw: Buffer.from(p.raw) };
    assert.deepEqual(back.map((f) => bytes(f.srv6Path)), flows.map((f) => bytes(evidenceOfSrv6(f.srv6Path!))));
  });

  it('a flow refused or not added leaves no SRv6 table entry behind', () => {
    const enc = new ColumnEncoder(4);
    const base = collectorFlows()[0];
    assert.equal(enc.add(srv6Flow(base, srv6Path(2))), 'added');
    const refused = enc.add({ ...srv6Flow(base, srv6Path(4)), uuid: 'not-a-uuid' });
    assert.ok(typeof refused === 'object' && refused.code === 'UNENCODABLE');
    assert.equal(enc.add(srv6Flow(base, srv6Path(5)), 1), 'full');
    const c = enc.finish();
    assert.equal(c.count, 1);
    assert.equal(c.srv6Paths.length, 1);
    const wide = enc.add({ ...base, pathType: 256 as WanPathType });
    assert.ok(typeof wide === 'object' && /path_type 256 is outside 0..255/.test(wide.reason));
  });

  it('sizes SRv6 evidence exactly as protobuf encodes it', () => {
    for (const p of [srv6Path(1), srv6Path(16, 300), Srv6Path.fromPartial({}), { ...srv6Path(3), source: 'fc00:0:ffff:ffff:ffff:ffff:ffff:ffff', pathId: 2 ** 32 - 1 }]) {
      const e = evidenceOfSrv6(p);
      assert.equal(srv6PathBytes(e), Srv6Path.encode(e).finish().length);
    }
  });

  it('refuses an SRv6 index past its table, and a table longer than the flows could reference', () => {
    const c = wire([srv6Flow(collectorFlows()[0], srv6Path(2))]);
    c.srv6Paths = [];
    assert.throws(() => viewColumns(c, limits), (e: unknown) => e instanceof MalformedColumnsError && e.column === 'srv6Path' && /entry 1 of srv6Paths, which has 0/.test(e.message));
    const d = FlowColumns.fromPartial({ count: 1, srv6Paths: [srv6Path(1), srv6Path(2)] });
    assert.throws(() => viewColumns(d, limits), (e: unknown) => e instanceof MalformedColumnsError && e.column === 'srv6Paths' && /has 2 entries; 1 flows can reference at most 1/.test(e.message));
  });
});
