// SQL pushdown against reference predicates written from Hubble's filter semantics, and
// against the in-memory flowMatcher, on one generated corpus stored in real chdb.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Flow, FlowFilter, GeofenceVerdict, IPVersion, TCPFlags, TrafficDirection, Verdict, WanPathType,
} from '../../../../proto/gen/flow/flow';
import { flowMatcher } from '../../../../observer/filters/index';
import { openClickHouse, type ClickHouseHandle } from '../../../../relay/store/chdb';
import { FlowReader } from '../../../../relay/store/query';
import { Params, filtersWhere, pushdownIsExact } from '../../../../relay/store/sql_filters';
import { makeCorpus } from './corpus';
import { createNarrowStore, insertCorpus } from './narrow';

const F = (f: Partial<FlowFilter>): FlowFilter => ({ ...FlowFilter.fromPartial({}), ...f });

interface Case {
  name: string;
  allow: FlowFilter[];
  deny?: FlowFilter[];
  /** Which flows Hubble's semantics select, written out by hand. */
  ref: (f: Flow) => boolean;
  /** The case checks that nothing matches. */
  none?: true;
}

const hops = (f: Flow) => f.scionPath?.hops ?? [];
const srv6Hops = (f: Flow) => f.srv6Path?.hops ?? [];
const segments = (f: Flow) => f.srv6Path?.segments ?? [];
const port = (f: Flow, side: 'sourcePort' | 'destinationPort') => {
  const p = f.l4?.protocol;
  return p && (p.$case === 'TCP' || p.$case === 'UDP') ? p.value[side] : undefined;
};
const has = (labels: string[] | undefined, l: string) => (labels ?? []).includes(l);

const CASES: Case[] = [
  { name: 'verdict', allow: [F({ verdict: [Verdict.DROPPED] })], ref: (f) => f.verdict === Verdict.DROPPED },
  { name: 'pod with namespace', allow: [F({ sourcePod: ['payments/'] })], ref: (f) => f.source?.namespace === 'payments' },
  {
    name: 'pod prefix in a namespace', allow: [F({ destinationPod: ['shop/ledger-'] })],
    ref: (f) => f.destination?.namespace === 'shop' && f.destination.podName.startsWith('ledger-'),
  },
  { name: 'label without source', allow: [F({ sourceLabel: ['app=frontend'] })], ref: (f) => has(f.source?.labels, 'k8s:app=frontend') },
  {
    name: 'label selector with two terms', allow: [F({ sourceLabel: ['k8s:app=checkout,tier=web'] })],
    ref: (f) => has(f.source?.labels, 'k8s:app=checkout') && has(f.source?.labels, 'k8s:tier=web'),
  },
  { name: 'CIDR', allow: [F({ destinationIp: ['10.1.0.0/16'] })], ref: (f) => (f.IP?.destination ?? '').startsWith('10.1.') },
  { name: 'exact IPv6', allow: [F({ sourceIp: ['fd00::7'] })], ref: (f) => f.IP?.source === 'fd00::7' },
  {
    name: 'protocol and port', allow: [F({ protocol: ['udp'], destinationPort: ['53'] })],
    ref: (f) => f.l4?.protocol?.$case === 'UDP' && port(f, 'destinationPort') === 53,
  },
  { name: 'identity', allow: [F({ sourceIdentity: [1011, 1020] })], ref: (f) => [1011, 1020].includes(f.source?.identity ?? 0) },
  { name: 'node', allow: [F({ nodeName: ['node-b'] })], ref: (f) => f.nodeName === 'node-b' },
  { name: 'source IA', allow: [F({ srcIa: ['1-ff00:0:110'] })], ref: (f) => f.scionPath?.srcIa === '1-ff00:0:110' },
  { name: 'destination ISD wildcard', allow: [F({ dstIa: ['2-0'] })], ref: (f) => (f.scionPath?.dstIa ?? '').startsWith('2-') },
  { name: 'decimal AS', allow: [F({ dstIa: ['1-64512'] })], ref: (f) => f.scionPath?.dstIa === '1-64512' },
  { name: 'through IA', allow: [F({ throughIa: ['3-ff00:0:310'] })], ref: (f) => hops(f).some((h) => h.isdAs === '3-ff00:0:310') },
  { name: 'through ISD', allow: [F({ throughIsd: [3] })], ref: (f) => hops(f).some((h) => h.isdAs.startsWith('3-')) },
  {
    name: 'through country, SCION hops and SRv6 segment nodes alike', allow: [F({ throughCountry: ['DE'] })],
    ref: (f) => hops(f).some((h) => h.country === 'DE') || srv6Hops(f).some((h) => h.country === 'DE'),
  },
  { name: 'through a country only SRv6 paths cross', allow: [F({ throughCountry: ['at'] })], ref: (f) => srv6Hops(f).some((h) => h.country === 'AT') },
  { name: 'through SID', allow: [F({ throughSid: ['fc00:0:2::1'] })], ref: (f) => segments(f).includes('fc00:0:2::1') },
  { name: 'through SID, spelled out', allow: [F({ throughSid: ['FC00:0000:0001:0000:0000:0000:0000:0001'] })], ref: (f) => segments(f).includes('fc00:0:1::1') },
  { name: 'through a locator prefix', allow: [F({ throughSid: ['fc00:0:202::/48'] })], ref: (f) => segments(f).some((s) => s.startsWith('fc00:0:202:')) },
  { name: 'path type SRv6', allow: [F({ pathType: [WanPathType.WAN_PATH_SRV6] })], ref: (f) => f.pathType === WanPathType.WAN_PATH_SRV6 },
  {
    name: 'deny a path type (exact), flows without a WAN path stay', allow: [], deny: [F({ pathType: [WanPathType.WAN_PATH_SCION] })],
    ref: (f) => f.pathType !== WanPathType.WAN_PATH_SCION,
  },
  {
    name: 'SRv6 through a country, fence violated at a segment', allow: [F({ pathType: [WanPathType.WAN_PATH_SRV6], throughCountry: ['IT'], geofenceVerdict: [GeofenceVerdict.GEOFENCE_VIOLATION] })],
    ref: (f) => f.pathType === WanPathType.WAN_PATH_SRV6 && srv6Hops(f).some((h) => h.country === 'IT') && f.geofence?.verdict === GeofenceVerdict.GEOFENCE_VIOLATION,
  },
  { name: 'fingerprint prefix', allow: [F({ pathFingerprint: ['b7e2'] })], ref: (f) => (f.scionPath?.fingerprint ?? '').startsWith('b7e2') },
  {
    name: 'geofence verdict and name', allow: [F({ geofenceVerdict: [GeofenceVerdict.GEOFENCE_VIOLATION], geofenceName: ['dach'] })],
    ref: (f) => f.geofence?.verdict === GeofenceVerdict.GEOFENCE_VIOLATION && f.geofence.name === 'dach',
  },
  { name: 'IP version', allow: [F({ ipVersion: [IPVersion.IPv6] })], ref: (f) => f.IP?.ipVersion === IPVersion.IPv6 },
  { name: 'direction', allow: [F({ trafficDirection: [TrafficDirection.INGRESS] })], ref: (f) => f.trafficDirection === TrafficDirection.INGRESS },
  {
    name: 'two allow filters (OR) minus an exact deny',
    allow: [F({ verdict: [Verdict.DROPPED] }), F({ geofenceVerdict: [GeofenceVerdict.GEOFENCE_VIOLATION] })],
    deny: [F({ sourceIdentity: [1000, 1001, 1002, 1003] })],
    ref: (f) => (f.verdict === Verdict.DROPPED || f.geofence?.verdict === GeofenceVerdict.GEOFENCE_VIOLATION)
      && ![1000, 1001, 1002, 1003].includes(f.source?.identity ?? 0),
  },
  {
    name: 'deny that SQL can only approximate', allow: [], deny: [F({ sourcePod: ['shop/'] })],
    ref: (f) => f.source?.namespace !== 'shop',
  },
  {
    name: 'deny an exact filter, flows without the field stay', allow: [], deny: [F({ geofenceName: ['dach'] })],
    ref: (f) => f.geofence?.name !== 'dach',
  },
  {
    name: 'field with no column (TCP flags), next to one with', allow: [F({ tcpFlags: [TCPFlags.fromPartial({ SYN: true })], nodeName: ['node-a'] })],
    ref: (f) => f.nodeName === 'node-a' && f.l4?.protocol?.$case === 'TCP' && f.l4.protocol.value.flags?.SYN === true,
  },
  {
    name: 'fence name within a namespace', allow: [F({ geofenceName: ['shop/dach'] })],
    ref: (f) => f.geofence?.name === 'dach' && f.geofence.namespace === 'shop',
  },
  {
    name: 'destination label from the workload table', allow: [F({ destinationLabel: ['app.kubernetes.io/name=ledger'] })],
    ref: (f) => has(f.destination?.labels, 'k8s:app.kubernetes.io/name=ledger'),
  },
  {
    name: 'destination cluster with a label (a remote end named by its catalogue)',
    allow: [F({ destinationClusterName: ['beta'], destinationLabel: ['app.kubernetes.io/name=ledger'] })],
    ref: (f) => f.destination?.clusterName === 'beta' && has(f.destination.labels, 'k8s:app.kubernetes.io/name=ledger'),
  },
  { name: 'deny by source cluster', allow: [], deny: [F({ sourceClusterName: ['alpha'] })], ref: (f) => f.source?.clusterName !== 'alpha' },
  { name: 'deny by label, left to the matcher', allow: [], deny: [F({ sourceLabel: ['tier=web'] })], ref: (f) => !has(f.source?.labels, 'k8s:tier=web') },
  { name: 'uuid', allow: [F({ uuid: ['00000000-0000-4000-8000-00000a7d8c2f', '00000000-0000-4000-8000-000000000003'] })], ref: (f) => ['00000000-0000-4000-8000-00000a7d8c2f', '00000000-0000-4000-8000-000000000003'].includes(f.uuid) },
  { name: 'a verdict no flow can hold', allow: [F({ verdict: [99 as Verdict] })], ref: () => false, none: true },
  { name: 'quotes stay values', allow: [F({ sourcePod: ["x' OR 1=1 --"] })], ref: () => false, none: true },
];

describe('relay/store pushdown', function () {
  this.timeout(60_000);
  let dir: string;
  let store: FlowReader;
  let admin: ClickHouseHandle;
  // Plus flows with nothing but a time and uuid, so every column also holds its empty value.
  const corpus = [...makeCorpus(2400, 11), ...Array.from({ length: 24 }, (_, i) => Flow.fromPartial({
    time: { seconds: 1_900_000_000n + BigInt(i), nanos: 0 },
    uuid: `00000000-0000-4000-8000-0000000000${String(i).padStart(2, '0')}`,
  }))];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-pushdown-test-'));
    admin = openClickHouse({ dataDir: dir });
    await createNarrowStore(admin.client, 'cillion');
    await insertCorpus(admin, 'cillion', corpus, 606);
    store = new FlowReader(admin.client, 'cillion', { limits: { timeoutMs: 30_000, maxRowsToRead: 1e9 }, kill: (tag) => admin.kill(tag) });
  });
  after(async () => {
    await admin?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function sqlUuids(c: Case): Promise<Set<string>> {
    const p = new Params();
    const where = filtersWhere(c.allow, c.deny ?? [], p, 'cillion');
    const rows = await (await admin.client.query({
      query: `SELECT uuid FROM cillion.flows WHERE ${where}`, query_params: p.values, format: 'JSONEachRow',
    })).json<{ uuid: string }>();
    return new Set(rows.map((r) => r.uuid));
  }

  for (const c of CASES) {
    it(`${c.name}: SQL keeps every match, the store returns exactly the matches`, async () => {
      const expected = corpus.filter(c.ref).map((f) => f.uuid);
      const fromSql = await sqlUuids(c);
      for (const u of expected) assert.ok(fromSql.has(u), `SQL dropped matching flow ${u}`);
      if (pushdownIsExact(c.allow, c.deny ?? [])) assert.equal(fromSql.size, expected.length, 'exact pushdown let extra flows through');
      const got: string[] = [];
      for await (const f of store.query({ allow: c.allow, deny: c.deny ?? [], order: 'asc' })) got.push(f.uuid);
      assert.deepEqual(got, expected);
      assert.deepEqual(got, corpus.filter(flowMatcher(c.allow, c.deny ?? [])).map((f) => f.uuid), 'store and flowMatcher disagree');
    });
  }

  it('the corpus exercises every case', () => {
    for (const c of CASES.filter((x) => !x.none)) {
      assert.ok(corpus.some(c.ref), `${c.name} matches nothing in the corpus`);
      assert.ok(!corpus.every(c.ref), `${c.name} matches the whole corpus`);
    }
  });

  it('last N with a sparse inexact filter reads past rejected rows', async () => {
    const c = CASES.find((x) => x.name === 'label selector with two terms')!;
    const expected = corpus.filter(c.ref).slice(-7).reverse().map((f) => f.uuid);
    const got: string[] = [];
    for await (const f of store.query({ allow: c.allow, deny: [], order: 'desc', limit: 7 })) got.push(f.uuid);
    assert.deepEqual(got, expected);
  });

  it('rejects an invalid filter value with BAD_FILTER before any SQL runs', async () => {
    for (const bad of [F({ sourceIp: ['10.0.0.0/99'] }), F({ srcIa: ['1-zz'] }), F({ httpMethod: ['GET'] }), F({ throughSid: ['fc00::1/200'] }), F({ pathType: [7 as WanPathType] })]) {
      const run = async () => {
        for await (const f of store.query({ allow: [], deny: [bad], order: 'asc' })) void f;
      };
      await assert.rejects(run, (err: unknown) => (err as { code?: string }).code === 'BAD_FILTER');
    }
  });
});
