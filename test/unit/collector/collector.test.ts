import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Collector } from '../../../collector/collector';
import { WorkloadEndpoints } from '../../../collector/enrich';
import { ControlPlaneCatalog } from '../../../paths/catalog';
import { EmbeddedPathService } from '../../../controlplane/pathservice';
import type { Flow } from '../../../proto/gen/flow/flow';
import { parseIA } from '../../../scion/isdas';
import { encodeScionPathBytes } from '../../../scion/path/raw';
import { batchOf, type RecordSpec } from './records';
import { parseSid } from '../../../srv6/sid';
import { WanPathType } from '../../../proto/gen/flow/flow';
import { BACKUP, srhOf } from '../paths/srv6_fixture';

const EXAMPLE = join(__dirname, '../../../examples/topology.yaml');
const ZURICH = parseIA('64-2:0:20');
const FRANKFURT = parseIA('65-2:0:20');

describe('collector/collector', () => {
  it('turns SRv6 records of the three observation points into SRv6 flows, each keyed by the SRH it saw', () => {
    const got: Flow[] = [];
    const c = new Collector({
      table: { maxEntries: 100, idleTimeoutMs: 1000, activeTimeoutMs: 60_000 },
      context: { nodeName: 'p-vienna', clusterName: '', realtimeOffsetNs: 0n },
      endpoints: new WorkloadEndpoints('zurich', () => 300),
      paths: new ControlPlaneCatalog(),
      deliver: (flows) => got.push(...flows),
      bootNowNs: () => 0,
    });
    const tuple = { proto: 17, src: '10.1.0.5', dst: '10.2.0.9', sport: 5000, dport: 5060 };
    const srv6 = { tenantId: 200, outerSrc: parseSid('fc00:0:101::1') };
    const at = (direction: 1 | 2 | 3, segmentsLeft: number, ts: bigint): RecordSpec => ({ tsNs: ts, direction, inner: tuple, pathType: 4, pathId: direction === 1 ? 7 : 0, path: srhOf(BACKUP, { segmentsLeft }), srv6 });
    const b = batchOf([at(1, 4, 1n), at(3, 2, 2n), at(3, 2, 3n), at(2, 0, 4n)]);
    c.ingest(b, 4, b.length);
    c.stop();
    assert.deepEqual(got.map((f) => [f.scionObservationPoint, f.pathType, f.srv6Path?.segmentsLeft, f.meter?.packets]), [
      [1, WanPathType.WAN_PATH_SRV6, 4, 1n],
      [3, WanPathType.WAN_PATH_SRV6, 2, 2n],
      [2, WanPathType.WAN_PATH_SRV6, 0, 1n],
    ]);
    for (const f of got) {
      assert.deepEqual(f.srv6Path?.segments, BACKUP);
      assert.equal(f.srv6Path?.source, 'fc00:0:101::1');
      assert.equal(f.srv6Path?.tenantId, 200);
      assert.equal(f.scionPath, undefined);
    }
  });

  it('turns ring batches into enriched Hubble flows, on expiry and on stop', async () => {
    const svc = EmbeddedPathService.fromFile(EXAMPLE, { now: () => 1_700_000_000, seed: 1 });
    const paths = await svc.paths(ZURICH, FRANKFURT);
    // Ingress flows come the other way, on a path from the remote AS.
    const inbound = (await svc.paths(FRANKFURT, ZURICH))[0];
    const catalog = new ControlPlaneCatalog();
    catalog.set([{ pathId: 1, path: paths[0] }, { path: inbound }]);
    const endpoints = new WorkloadEndpoints('zurich', () => 300);
    endpoints.update([{ name: 'web-1', namespace: 'shop', labels: { app: 'web' }, namespaceLabels: {}, ip: '10.1.0.5', node: 'n1' }]);
    let now = 0;
    const got: Flow[][] = [];
    const c = new Collector({
      table: { maxEntries: 100, idleTimeoutMs: 1000, activeTimeoutMs: 60_000 },
      context: { nodeName: 'n1', clusterName: 'zurich', realtimeOffsetNs: 1_000_000_000_000_000_000n },
      endpoints,
      paths: catalog,
      deliver: (flows) => got.push(flows),
      bootNowNs: () => now,
    });
    const tuple = { proto: 6, src: '10.1.0.5', dst: '10.2.0.9', sport: 40000, dport: 443, tcpFlags: 0x02 };
    const egress: RecordSpec = { tsNs: 1_000_000_000n, direction: 1, identity: 300, srcIA: ZURICH, dstIA: FRANKFURT, inner: tuple, pathId: 1, path: encodeScionPathBytes(paths[0].path) };
    const ingress: RecordSpec = { tsNs: 1_500_000_000n, direction: 2, identity: 999, srcIA: FRANKFURT, dstIA: ZURICH, inner: { ...tuple, src: '10.2.0.9', dst: '10.1.0.5', sport: 443, dport: 40000, tcpFlags: 0x12 }, path: encodeScionPathBytes(inbound.path) };
    const b = batchOf([egress, { ...egress, tsNs: 1_100_000_000n }, ingress]);
    c.ingest(b, 3, b.length);
    assert.equal(got.length, 0);
    now = 2_150_000_000;
    c.expire();
    assert.equal(got.length, 1);
    assert.equal(got[0].length, 1);
    const out = got[0][0];
    assert.equal(out.source?.podName, 'web-1');
    assert.equal(out.scionPath?.pathId, 1);
    assert.equal(out.scionPath?.fingerprint, paths[0].fingerprint);
    assert.deepEqual(out.scionPath?.raw, Buffer.from(encodeScionPathBytes(paths[0].path)));
    assert.deepEqual(out.time, { seconds: 1_000_000_001n, nanos: 100_000_000 });
    c.stop();
    assert.equal(got.length, 2);
    const back = got[1][0];
    assert.equal(back.destination?.podName, 'web-1');
    assert.equal(back.source?.identity, 999);
    assert.equal(back.isReply, true);
    assert.equal(back.scionPath?.fingerprint, inbound.fingerprint);
    assert.deepEqual(back.scionPath?.raw, Buffer.from(encodeScionPathBytes(inbound.path)));
    assert.equal(back.scionPath?.knownToControlPlane, true);
    assert.deepEqual(c.stats(), { entries: 0, capacity: 100, records: 3, decodeErrors: 0, evictions: 0, emitted: 2, deferred: 0, carried: 0, carriedNow: 0, lostReports: 0, lostPackets: 0, lostBytes: 0 });
  });

  it('checks timeouts often enough that busy flows coming due over a second are reported in several small groups, not one clump', async () => {
    const catalog = new ControlPlaneCatalog();
    const endpoints = new WorkloadEndpoints('zurich', () => 300);
    const started = Date.now();
    const groups: number[] = [];
    const c = new Collector({
      table: { maxEntries: 100, idleTimeoutMs: 60_000, activeTimeoutMs: 1000 },
      context: { nodeName: 'n1', clusterName: 'zurich', realtimeOffsetNs: 0n },
      endpoints,
      paths: catalog,
      deliver: (flows) => groups.push(flows.length),
      bootNowNs: () => (Date.now() - started) * 1e6,
    });
    // Ten busy flows, first seen 100 ms apart: their active reports come due over one second.
    const specs: RecordSpec[] = Array.from({ length: 10 }, (_, i) => ({
      tsNs: BigInt(i * 100_000_000), direction: 1, identity: 300, srcIA: ZURICH, dstIA: FRANKFURT,
      inner: { proto: 17, src: '10.1.0.5', dst: '10.2.0.9', sport: 40000, dport: 2000 + i, tcpFlags: 0 }, pathId: 1, path: new Uint8Array(0),
    }));
    const b = batchOf(specs);
    c.ingest(b, specs.length, b.length);
    c.start();
    let active: number[];
    try {
      const deadline = Date.now() + 5000;
      while (groups.reduce((n, g) => n + g, 0) < specs.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      active = [...groups];
    } finally {
      c.stop();
    }
    assert.equal(active.reduce((n, g) => n + g, 0), specs.length, 'every flow reported once on its active timeout');
    assert.ok(active.length >= 3, `reported in ${active.length} groups: ${active.join(', ')}`);
  });
});
