import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { MeshConfigError, MeshPeers, publicKeyFromPem } from '../../../mesh/peers';
import { FRANKFURT, OUTSIDER, ZURICH } from './helpers';

describe('mesh/peers: the mesh as configured', () => {
  const frankfurt = { clusterName: 'frankfurt', clusterId: 2, publicKey: FRANKFURT.publicKey };

  it('refuses a cluster id given twice (a peer may not take this cluster\'s either), a name twice, or a bad id', () => {
    assert.throws(() => new MeshPeers([frankfurt, { clusterName: 'outsider', clusterId: 2, publicKey: OUTSIDER.publicKey }]), /cluster id 2 given to both frankfurt and outsider/);
    assert.throws(() => new MeshPeers([{ ...frankfurt, clusterId: 1 }], ZURICH), /cluster id 1 given to both zurich and frankfurt/);
    assert.throws(() => new MeshPeers([frankfurt, { ...frankfurt, clusterId: 3 }]), /frankfurt configured twice/);
    assert.throws(() => new MeshPeers([{ ...frankfurt, clusterId: 256 }]), (e: unknown) => e instanceof MeshConfigError && e.code === 'BAD_MESH_CONFIG');
  });

  it('takes only Ed25519 keys', () => {
    const rsa = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    assert.throws(() => new MeshPeers([{ ...frankfurt, publicKey: rsa }]), /key is ec, want ed25519/);
    assert.throws(() => publicKeyFromPem(rsa.export({ type: 'spki', format: 'pem' }) as string), /want ed25519/);
    const pem = FRANKFURT.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    assert.equal(publicKeyFromPem(pem).equals(FRANKFURT.publicKey), true);
  });
});
