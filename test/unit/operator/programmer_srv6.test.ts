// The programmer's SRv6 pass on the examples: what each SRv6PathPolicy and SRv6Tenant's
// status says (chosen lists, countries, latency, HMAC key; conflicts), and that a catalogue
// which cannot be read keeps the last good maps and says why.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedPathService } from '../../../controlplane/pathservice';
import { IdentityAllocator } from '../../../identity/allocator';
import type { Workload } from '../../../identity/workload';
import { IdentityBook } from '../../../operator/datapath/identities';
import { memoryEdgeMaps } from '../../../operator/datapath/reconcile';
import { memorySrv6Maps } from '../../../operator/datapath/srv6';
import { NodeProgrammer } from '../../../operator/programmer';
import { DirectorySource } from '../../../operator/sources/directory';

const ROOT = join(__dirname, '..', '..', '..');
const pod = (name: string, namespace: string, app: string, ip: string): Workload => ({
  name, namespace, labels: { app }, namespaceLabels: { 'kubernetes.io/metadata.name': namespace }, ip, node: 'zrh-node-1',
});
const PODS = [pod('voip-0', 'voice', 'voip', '10.164.0.20'), pod('backup-0', 'archive', 'backup', '10.164.0.21')];

describe('operator/programmer: SRv6 status', () => {
  let tmp: string;
  let dir: string;
  let source: DirectorySource;
  let programmer: NodeProgrammer;
  const srv6Maps = memorySrv6Maps();

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'cilprog6-'));
    dir = join(tmp, 'zurich');
    cpSync(join(ROOT, 'examples', 'policies', 'zurich'), dir, { recursive: true });
    // A later tenant (by name) that repeats namespace voice.
    writeFileSync(join(dir, 'srv6-zz.yaml'), 'apiVersion: cillion.io/v1alpha1\nkind: SRv6Tenant\nmetadata: { name: zz-voice }\nspec: { vrf: 300, namespaces: [voice] }\n');
    source = new DirectorySource(dir, { statusDir: join(tmp, 'status'), rescanMs: 0 });
    programmer = new NodeProgrammer({
      source, workloads: () => PODS, control: EmbeddedPathService.fromFile(join(ROOT, 'examples', 'topology.yaml')), maps: memoryEdgeMaps(), uplinks: [],
      identities: new IdentityBook(IdentityAllocator.open(join(tmp, 'ids.json'), { clusterId: 1 })), hopKey: null,
      srv6: { maps: srv6Maps, node: 'zrh-node-1' },
    });
  });
  after(async () => {
    await source.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const programmed = (kind: 'SRv6PathPolicy' | 'SRv6Tenant', name: string) =>
    programmer.status({ kind, namespace: '', name })?.conditions.find((c) => c.type === 'Programmed');

  it('reports the chosen lists in each SRv6PathPolicy\'s status', async () => {
    const r = await programmer.sync();
    assert.ok(r?.srv6);
    const backup = programmer.status({ kind: 'SRv6PathPolicy', namespace: '', name: 'backup' });
    assert.equal(programmed('SRv6PathPolicy', 'backup')?.status, 'True');
    assert.deepEqual(backup?.segmentLists?.map((l) => [l.destination, l.tenant, l.countries, l.nodes.at(-1), l.hmacKeyId]), [['frankfurt', 200, ['CH', 'IT', 'AT', 'DE'], 'fra-node-1', 1]]);
    assert.match(programmed('SRv6PathPolicy', 'voip')?.message ?? '', /^frankfurt \(VRF 100\): fc00:0:1::1 > fc00:0:4::1 > fc00:0:201::100 via CH DE, 3\.2 ms$/);
    assert.equal(srv6Maps.srv6_egress.entries().length, 2);
  });

  it('a tenant that repeats a namespace is not programmed, and says whose it is', () => {
    assert.deepEqual([programmed('SRv6Tenant', 'zz-voice')?.status, programmed('SRv6Tenant', 'zz-voice')?.reason], ['False', 'NamespaceInOtherTenant']);
    assert.equal(programmed('SRv6Tenant', 'voice')?.message, 'VRF 100: 1 pod(s) in its table');
  });

  it('a catalogue that cannot be read keeps the maps and marks every SRv6 resource', async () => {
    writeFileSync(join(dir, 'cluster.yaml'), 'apiVersion: cillion.io/v1alpha1\nkind: ClusterAS\nmetadata: { name: zurich }\nspec:\n  isdAS: 64-2:0:20\n  clusterId: 1\n  uplinks: [{ interface: 1, underlay: "10.64.20.1:50001" }]\n  controlPlane: { topology: examples/topology.yaml }\n  srv6: { catalogue: no/such/srv6.yaml }\n');
    await source.rescan();
    await programmer.sync();
    assert.equal(programmed('SRv6PathPolicy', 'voip')?.reason, 'CatalogueInvalid');
    assert.equal(programmed('SRv6Tenant', 'voice')?.reason, 'NotProgrammed');
    assert.equal(srv6Maps.srv6_egress.entries().length, 2, 'the last good state stays');
  });
});
