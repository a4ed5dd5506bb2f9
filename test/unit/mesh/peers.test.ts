import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { MeshConfigError, MeshPeers, publicKeyFromPem } from '../../../mesh/peers';
import { PodPrefixes } from '../../../mesh/prefixes';
import { FRANKFURT, FRANKFURT_PODS, OUTSIDER, ZURICH, ZURICH_PODS } from './helpers';

describe('mesh/peers: the mesh as configured', () => {
  const frankfurt = { clusterName: 'frankfurt', clusterId: 2, publicKey: FRANKFURT.publicKey };

  it('refuses a cluster id given twice (a peer may not take this cluster\'s either), a name twice, or a bad id', () => {
    assert.throws(() => new MeshPeers([frankfurt, { clusterName: 'outsider', clusterId: 2, publicKey: OUTSIDER.publicKey }]), /cluster id 2 given to both frankfurt and outsider/);
    assert.throws(() => new MeshPeers([{ ...frankfurt, clusterId: 1 }], ZURICH), /cluster id 1 given to both zurich and frankfurt/);
    assert.throws(() => new MeshPeers([frankfurt, { ...frankfurt, clusterId: 3 }]), /frankfurt configured twice/);
    assert.throws(() => new MeshPeers([{ ...frankfurt, clusterId: 256 }]), (e: unknown) => e instanceof MeshConfigError && e.code === 'BAD_MESH_CONFIG');
  });

  it('refuses pod prefixes that overlap another peer\'s or this cluster\'s; disjoint ones are kept per peer', () => {
    const outsider = { clusterName: 'outsider', clusterId: 9, publicKey: OUTSIDER.publicKey };
    const inside = PodPrefixes.parse(['10.165.128.0/17'], 'p');
    assert.throws(() => new MeshPeers([{ ...frankfurt, prefixes: FRANKFURT_PODS }, { ...outsider, prefixes: inside }]), /pod prefixes of frankfurt and outsider overlap \(10\.165\.128\.0\/17 and 10\.165\.0\.0\/16\)/);
    assert.throws(() => new MeshPeers([{ ...outsider, prefixes: PodPrefixes.parse(['0.0.0.0/0'], 'p') }], { ...ZURICH, prefixes: ZURICH_PODS }), /pod prefixes of zurich and outsider overlap/);
    assert.throws(() => new MeshPeers([{ ...outsider, prefixes: PodPrefixes.parse(['fd00::/16'], 'p') }], { ...ZURICH, prefixes: ZURICH_PODS }), /fd00::\/16 and fd00:164::\/48/);
    const ok = new MeshPeers([{ ...frankfurt, prefixes: FRANKFURT_PODS }, { ...outsider, prefixes: PodPrefixes.parse(['10.166.0.0/16', 'fd00:165::/48'], 'p') }], { ...ZURICH, prefixes: ZURICH_PODS });
    assert.deepEqual([ok.get('outsider')?.prefixes?.contains('10.166.2.3'), ok.get('outsider')?.prefixes?.contains('10.165.2.3')], [true, false]);
    assert.throws(() => PodPrefixes.parse(['10.165.0.1/16'], 'peers[0].prefixes'), /peers\[0\]\.prefixes\[0\]: "10\.165\.0\.1\/16" has host bits set/);
  });

  it('takes only Ed25519 keys', () => {
    const rsa = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    assert.throws(() => new MeshPeers([{ ...frankfurt, publicKey: rsa }]), /key is ec, want ed25519/);
    assert.throws(() => publicKeyFromPem(rsa.export({ type: 'spki', format: 'pem' }) as string), /want ed25519/);
    const pem = FRANKFURT.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    assert.equal(publicKeyFromPem(pem).equals(FRANKFURT.publicKey), true);
  });
});
