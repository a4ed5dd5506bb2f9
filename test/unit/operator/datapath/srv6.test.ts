// SRv6 from YAML in to map dump out: the examples' tenants and SRv6 path policies with the
// demo's SID catalogue, reconciled into in-memory SRv6 maps and compared with golden dumps
// (UPDATE_GOLDEN=1 rewrites them); the templates are decoded back with srv6/srh.ts and the
// HMAC checked with srv6/hmac.ts, so the dump says what the datapath will put on the wire.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { srv6SeglistValue, type Srv6Seglist } from '../../../../bpf/maps';
import { SRV6_HDR_MAX } from '../../../../bpf/abi';
import type { Workload } from '../../../../identity/workload';
import { PathIds } from '../../../../operator/datapath/desired';
import { groupResources, type ResourceSet } from '../../../../operator/datapath/resources';
import { buildSrv6Desired, compileSeglist, memorySrv6Maps, Srv6NextHopError, Srv6Reconciler, type Srv6Inputs, type Srv6Maps } from '../../../../operator/datapath/srv6';
import { DirectorySource } from '../../../../operator/sources/directory';
import { loadSidCatalogue, type SidCatalogue } from '../../../../srv6/catalogue';
import { checkHmac } from '../../../../srv6/hmac';
import { parseSid, sidText } from '../../../../srv6/sid';
import { decodeSrh, travelOrder } from '../../../../srv6/srh';

const ROOT = join(__dirname, '..', '..', '..', '..');

const pod = (name: string, namespace: string, app: string, node: string, ip: string): Workload => ({
  name, namespace, labels: { app }, namespaceLabels: { 'kubernetes.io/metadata.name': namespace }, ip, node,
});

// The demo's SRv6 pods (CONTRACT §E) and one pod in no tenant.
const ZURICH: Workload[] = [
  pod('voip-0', 'voice', 'voip', 'zrh-node-1', '10.164.0.20'),
  pod('backup-0', 'archive', 'backup', 'zrh-node-1', '10.164.0.21'),
  pod('backup-1', 'archive', 'backup', 'zrh-node-2', '10.164.1.21'),
  pod('billing-0', 'shop', 'billing', 'zrh-node-1', '10.164.0.5'),
];
const IDS = new Map([['voice/voip-0', 65800], ['archive/backup-0', 65801], ['archive/backup-1', 65801], ['shop/billing-0', 65792]]);

const UPLINK = { ifindex: 7, srcMac: '02:00:00:00:07:01', dstMac: '02:00:00:00:07:02', mtu: 1500 };

export function renderSrv6(maps: Srv6Maps): string {
  const out: string[] = [];
  const section = (name: string, lines: string[]): void => {
    out.push(`[${name}]`, ...[...lines].sort(), '');
  };
  const e = <K, V>(name: keyof Srv6Maps): Array<[K, V]> => maps[name].entries() as Array<[K, V]>;
  section('srv6_locators', e<string, number>('srv6_locators').map(([k]) => k));
  section('srv6_local_sids', e<string, { behavior: string; tenantId: number; ifindex: number }>('srv6_local_sids').map(([k, v]) => `${k} -> ${v.behavior}${v.tenantId ? ` vrf ${v.tenantId}` : ''}${v.ifindex ? ` ifindex ${v.ifindex}` : ''}`));
  section('srv6_tenant_routes4', e<{ tenantId: number; prefix: string }, { ifindex: number; identity: number }>('srv6_tenant_routes4').map(([k, v]) => `vrf ${k.tenantId} ${k.prefix} -> ifindex ${v.ifindex} identity ${v.identity}`));
  section('srv6_seglists', e<number, Srv6Seglist>('srv6_seglists').map(([id, s]) => {
    const h = Buffer.from(s.header);
    const srh = decodeSrh(h.subarray(40));
    assert.ok(srh.ok, 'the template decodes as an SRH');
    const segs = travelOrder(srh.srh).map((x) => sidText(x)).join(' > ');
    return `${id} -> ${sidText(h.subarray(8, 24))} to ${sidText(h.subarray(24, 40))} vrf ${s.tenantId} ifindex ${s.ifindex} ${s.srcMac}>${s.dstMac} mtu ${s.mtu} sl ${srh.srh.segmentsLeft} nh ${srh.srh.nextHeader} [${segs}]${srh.srh.hmac ? ` hmac key ${srh.srh.hmac.keyId}` : ''} len ${h.length}`;
  }));
  section('srv6_egress', e<{ identity: number; prefix: string }, number[]>('srv6_egress').map(([k, ids]) => `identity ${k.identity} ${k.prefix} -> lists ${ids.join(',')}`));
  return out.join('\n');
}

function golden(name: string, text: string): void {
  const file = join(__dirname, 'golden', `${name}.txt`);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, text);
  assert.equal(text, readFileSync(file, 'utf8'), `${file} (UPDATE_GOLDEN=1 rewrites it)`);
}

describe('operator/datapath: SRv6 resources to maps', () => {
  let tmp: string;
  let resources: ResourceSet;
  let catalogue: SidCatalogue;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'cilsrv6-'));
    const source = new DirectorySource(join(ROOT, 'examples', 'policies', 'zurich'), { statusDir: join(tmp, 'status'), rescanMs: 0 });
    resources = groupResources(await source.list());
    await source.close();
    catalogue = loadSidCatalogue(join(ROOT, resources.clusters[0].spec.srv6?.catalogue ?? ''));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  function inputs(node: string, set: ResourceSet = resources, over: Partial<Srv6Inputs> = {}): Srv6Inputs {
    return {
      catalogue, node, tenants: set.tenants, policies: set.srv6Policies, remotes: set.remotes,
      workloads: ZURICH.filter((w) => w.node === node), clusterWorkloads: ZURICH,
      identityOf: (w) => IDS.get(`${w.namespace}/${w.name}`), nextHop: () => UPLINK, ...over,
    };
  }

  for (const node of ['zrh-node-1', 'zrh-node-2']) {
    it(`programs ${node} as the golden dump says, and a second pass changes nothing`, () => {
      const maps = memorySrv6Maps();
      const rec = new Srv6Reconciler(maps);
      const first = rec.apply(buildSrv6Desired(inputs(node), new PathIds()));
      assert.deepEqual(first.failed, []);
      golden(`${node}-srv6`, renderSrv6(maps));
      const second = rec.apply(buildSrv6Desired(inputs(node), new PathIds()));
      assert.deepEqual([second.added, second.updated, second.removed], [0, 0, 0]);
    });
  }

  it('voip takes the lowest-latency list (CH > DE); backup crosses Italy and Austria with an HMAC the catalogue key verifies', () => {
    const d = buildSrv6Desired(inputs('zrh-node-1'), new PathIds());
    const voip = d.policies.find((p) => p.policy.metadata.name === 'voip');
    assert.deepEqual(voip?.destinations.map((x) => [x.tenant, x.lists.map((l) => [l.segments, l.countries, l.latencyMs])]), [
      [100, [[['fc00:0:1::1', 'fc00:0:4::1', 'fc00:0:201::100'], ['CH', 'DE'], 3.2]]],
    ]);
    const backup = d.policies.find((p) => p.policy.metadata.name === 'backup');
    const list = backup?.destinations[0].lists[0];
    assert.deepEqual(list?.nodes, ['pe-zurich', 'p-milan', 'p-vienna', 'pe-frankfurt', 'fra-node-1']);
    assert.deepEqual(list?.countries, ['CH', 'IT', 'AT', 'DE']);
    assert.equal(list?.hmacKeyId, 1);
    const id = d.egress.find(([k]) => k.identity === 65801)?.[1][0];
    const seglist = d.seglists.find(([i]) => i === id)?.[1];
    assert.ok(seglist);
    const srh = decodeSrh(Buffer.from(seglist.header).subarray(40));
    assert.ok(srh.ok);
    assert.equal(checkHmac(srh.srh, parseSid('fc00:0:101::1'), catalogue.hmacKeys), 'VERIFIED');
    const tampered = { ...srh.srh, segments: [...srh.srh.segments].reverse() };
    assert.equal(checkHmac(tampered, parseSid('fc00:0:101::1'), catalogue.hmacKeys), 'MISMATCH');
  });

  it('leaves a selected pod in no tenant to SCION and says so', () => {
    const voipAnywhere = resources.srv6Policies.map((p) => (p.metadata.name === 'voip' ? { ...p, spec: { ...p.spec, workloadSelector: { namespaceSelector: { matchLabels: {}, matchExpressions: [] }, podSelector: { matchLabels: {}, matchExpressions: [] } } } } : p));
    const d = buildSrv6Desired(inputs('zrh-node-1', { ...resources, srv6Policies: voipAnywhere }), new PathIds());
    const voip = d.policies.find((p) => p.policy.metadata.name === 'voip');
    assert.equal(voip?.untenanted, 1);
    assert.ok(!d.egress.some(([k]) => k.identity === 65792), 'billing (namespace shop) gets no SRv6 egress');
  });

  it('a policy no segment list satisfies gets a reason and programs nothing', () => {
    const impossible = resources.srv6Policies.map((p) => (p.metadata.name === 'backup' ? { ...p, spec: { ...p.spec, pathPolicy: { ...p.spec.pathPolicy, avoidCountries: ['IT'] } } } : p));
    const d = buildSrv6Desired(inputs('zrh-node-1', { ...resources, srv6Policies: impossible }), new PathIds());
    const backup = d.policies.find((p) => p.policy.metadata.name === 'backup');
    assert.equal(backup?.destinations[0].problem?.reason, 'NoSegmentListMatchesPolicy');
    assert.ok(!d.egress.some(([k]) => k.identity === 65801));
    assert.equal(d.seglists.length, 1, 'only voip\'s list');
  });

  it('an HMAC key the catalogue lacks, or an unknown destination cluster, is a policy problem', () => {
    const bad = resources.srv6Policies.map((p) => (p.metadata.name === 'backup' ? { ...p, spec: { ...p.spec, hmac: { keyId: 9 } } } : { ...p, spec: { ...p.spec, destinations: [{ cluster: 'paris' }] } }));
    const d = buildSrv6Desired(inputs('zrh-node-1', { ...resources, srv6Policies: bad }), new PathIds());
    assert.deepEqual(d.policies.map((p) => [p.policy.metadata.name, p.problem?.reason]), [['backup', 'UnknownHmacKey'], ['voip', 'Unresolvable']]);
    assert.deepEqual([d.egress, d.seglists], [[], []]);
  });

  it('no route to the first segment: the list is not programmed and the reason is kept', () => {
    const d = buildSrv6Desired(inputs('zrh-node-1', resources, { nextHop: (s) => { throw new Srv6NextHopError(`no route to ${s}`); } }), new PathIds());
    assert.deepEqual(d.policies.map((p) => p.destinations[0].problem?.reason), ['NoRouteToFirstSegment', 'NoRouteToFirstSegment']);
    assert.deepEqual(d.egress, []);
  });

  it('a namespace in two tenants: the later tenant by name is left out whole', () => {
    const dup = { ...resources.tenants[0], metadata: { ...resources.tenants[0].metadata, name: 'zz-voice-copy' }, spec: { vrf: 300, namespaces: ['voice'] } };
    const d = buildSrv6Desired(inputs('zrh-node-1', { ...resources, tenants: [...resources.tenants, dup] }), new PathIds());
    assert.equal(d.tenants.find((t) => t.tenant.metadata.name === 'zz-voice-copy')?.conflict?.reason, 'NamespaceInOtherTenant');
    assert.ok(!d.tenantRoutes4.some(([k]) => k.tenantId === 300));
  });

  it('a node missing from the catalogue programs nothing and says why', () => {
    const d = buildSrv6Desired(inputs('zrh-node-9'), new PathIds());
    assert.equal(d.problem, 'node zrh-node-9 is not in the SID catalogue');
    assert.deepEqual([d.localSids, d.locators, d.seglists], [[], [], []]);
    assert.ok(d.policies.every((p) => p.problem?.reason === 'NodeNotInCatalogue'));
  });

  it('removes the lists and egress entries of a deleted policy, keeps segment-list ids of the rest', () => {
    const maps = memorySrv6Maps();
    const rec = new Srv6Reconciler(maps);
    const ids = new PathIds();
    const first = buildSrv6Desired(inputs('zrh-node-1'), ids);
    rec.apply(first);
    const voipIds = first.egress.find(([k]) => k.identity === 65800)?.[1];
    const report = rec.apply(buildSrv6Desired(inputs('zrh-node-1', { ...resources, srv6Policies: resources.srv6Policies.filter((p) => p.metadata.name === 'voip') }), ids));
    assert.deepEqual([report.added, report.updated, report.removed], [0, 0, 2]);
    assert.deepEqual(maps.srv6_seglists.entries().map(([k]) => k), voipIds);
    assert.equal(maps.srv6_egress.entries().length, 1);
  });

  it('multipath: as many lists as exist up to the count, all in one egress entry', () => {
    const multi = resources.srv6Policies.map((p) => (p.metadata.name === 'voip' ? { ...p, spec: { ...p.spec, mode: 'multipath' as const, lists: 8 } } : p));
    const d = buildSrv6Desired(inputs('zrh-node-1', { ...resources, srv6Policies: multi }), new PathIds());
    const voip = d.policies.find((p) => p.policy.metadata.name === 'voip');
    assert.deepEqual(voip?.destinations[0].lists.map((l) => l.countries), [['CH', 'DE'], ['CH', 'IT', 'AT', 'DE']], 'the two routes the catalogue has, best first');
    assert.equal(d.egress.find(([k]) => k.identity === 65800)?.[1].length, 2);
  });

  it('the largest template (8 segments and an HMAC TLV) fits the datapath\'s header room', () => {
    const eight = Array.from({ length: 8 }, (_, i) => parseSid(`fc00:0:${i + 1}::1`));
    const header = compileSeglist('fc00:0:101::1', eight, { keyId: 1, key: catalogue.hmacKeys.get(1) as Uint8Array });
    assert.equal(header.length, 40 + 8 + 8 * 16 + 40);
    assert.ok(header.length <= SRV6_HDR_MAX);
    assert.doesNotThrow(() => srv6SeglistValue({ ...UPLINK, tenantId: 1, header }));
    const nine = [...eight, parseSid('fc00:0:9::1')];
    assert.throws(() => srv6SeglistValue({ ...UPLINK, tenantId: 1, header: compileSeglist('fc00:0:101::1', nine, { keyId: 1, key: catalogue.hmacKeys.get(1) as Uint8Array }) }), /SRv6 header template/);
  });
});
