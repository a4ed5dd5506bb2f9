// The flows table's SRv6 columns as dashboards read them with SQL, the evidence a batch
// without the relay's rebuilt paths keeps, and an HMAC status no name stands for refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Flow, Srv6HmacStatus, WanPathType } from '../../../../proto/gen/flow/flow';
import { FlowValueError } from '../../../../relay/store/flow_block';
import { judgedFromFlows } from '../../../../relay/store/from_flows';
import { openStore, type FlowStore } from '../../../../relay/store/store';
import { makeCorpus, srv6Path } from './corpus';
import { sql } from './sql';

interface Row {
  uuid: string;
  path_type: string;
  srv6_segments: string;
  srv6_countries: string;
  srv6_vrf: number;
  srv6_tenant: string;
  srv6_fingerprint: string;
  srv6_hmac: string;
  geofence_offending_sid: string;
}

describe('relay/store SRv6 columns', function () {
  this.timeout(60_000);
  let dir: string;
  let store: FlowStore | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-srv6-store-test-'));
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  async function rows(): Promise<Row[]> {
    await store!.close();
    store = undefined;
    return sql<Row>(dir, `
      SELECT toString(uuid) AS uuid, toString(path_type) AS path_type, srv6_segments, srv6_countries, srv6_vrf, srv6_tenant,
        srv6_fingerprint, toString(srv6_hmac) AS srv6_hmac, geofence_offending_sid
      FROM cillion.flows ORDER BY batch_index`);
  }

  it('keeps the path type, segments, their countries, tenant, fingerprint and HMAC status for SQL', async () => {
    store = await openStore({ dataDir: dir });
    const flows = makeCorpus(300).map((f) => ({ ...f, nodeName: 'node-a' }));
    assert.ok(flows.some((f) => f.srv6Path) && flows.some((f) => f.scionPath) && flows.some((f) => !f.scionPath && !f.srv6Path));
    await store.insertBatch(judgedFromFlows({ sessionId: 's1', sequence: 1n, nodeName: 'node-a', flows }));
    const got = await rows();
    assert.equal(got.length, flows.length);
    got.forEach((r, i) => {
      const f = flows[i];
      const p = f.srv6Path;
      assert.equal(r.uuid, f.uuid);
      assert.equal(r.path_type, WanPathType[f.pathType]);
      assert.equal(r.srv6_segments, p ? p.segments.join(',') : '');
      assert.equal(r.srv6_countries, p ? p.hops.map((h) => h.country).join(',') : '');
      assert.equal(r.srv6_vrf, p?.tenantId ?? 0);
      assert.equal(r.srv6_tenant, p?.tenant ?? '');
      assert.equal(r.srv6_fingerprint, p?.fingerprint ?? '');
      assert.equal(r.srv6_hmac, Srv6HmacStatus[p?.hmac?.status ?? 0]);
      assert.equal(r.geofence_offending_sid, f.geofence?.offendingSid ?? '');
    });
    const milan = got.filter((r) => r.srv6_countries === 'CH,IT,AT,,DE');
    assert.ok(milan.length > 0 && milan.every((r) => r.geofence_offending_sid === 'fc00:0:2::1' && r.srv6_hmac === 'SRV6_HMAC_VERIFIED'));
  });

  it('without the relay\'s rebuilt paths keeps the evidence as sent, and reads it back', async () => {
    store = await openStore({ dataDir: dir });
    const f = Flow.fromPartial({ ...makeCorpus(1)[0], scionPath: undefined, geofence: undefined, pathType: WanPathType.WAN_PATH_SRV6, srv6Path: srv6Path(1, 3) });
    const judged = judgedFromFlows({ sessionId: 's1', sequence: 1n, nodeName: 'node-a', flows: [f] });
    await store.insertBatch({ ...judged, srv6Paths: undefined });
    const [back] = await (async () => {
      const out: Flow[] = [];
      for await (const x of store!.query({ allow: [], deny: [], order: 'asc' })) out.push(x);
      return out;
    })();
    assert.equal(back.pathType, WanPathType.WAN_PATH_SRV6);
    assert.deepEqual(Buffer.from(back.srv6Path!.raw), Buffer.from(f.srv6Path!.raw));
    assert.deepEqual([back.srv6Path!.source, back.srv6Path!.segmentsLeft, back.srv6Path!.tenantId, back.srv6Path!.pathId], ['fc00:0:101::1', 3, 200, 2]);
    assert.deepEqual([back.srv6Path!.segments, back.srv6Path!.hops, back.srv6Path!.fingerprint], [[], [], '']);
    const [r] = await rows();
    assert.deepEqual([r.srv6_segments, r.srv6_countries, r.srv6_vrf, r.srv6_hmac], ['', '', 200, 'SRV6_HMAC_UNKNOWN']);
  });

  it('refuses a batch whose SRv6 HMAC status or path type names nothing, and stores nothing of it', async () => {
    store = await openStore({ dataDir: dir });
    const f = Flow.fromPartial({ ...makeCorpus(1)[0], pathType: WanPathType.WAN_PATH_SRV6, srv6Path: srv6Path(0) });
    const judged = judgedFromFlows({ sessionId: 's1', sequence: 1n, nodeName: 'node-a', flows: [f] });
    const odd = { ...srv6Path(0), hmac: { status: 9 as Srv6HmacStatus, keyId: 1 } };
    await assert.rejects(store.insertBatch({ ...judged, srv6Paths: [undefined, odd] }), (e: unknown) => e instanceof FlowValueError && /SRv6 HMAC status 9 names nothing/.test(e.message));
    const wide = judgedFromFlows({ sessionId: 's1', sequence: 2n, nodeName: 'node-a', flows: [{ ...f, pathType: 9 as WanPathType }] });
    await assert.rejects(store.insertBatch(wide), (e: unknown) => e instanceof FlowValueError && /path_type 9/.test(e.message));
    assert.equal(await store.count(), 0n);
  });
});
