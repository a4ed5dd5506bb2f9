import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDemoMesh } from '../../../../cli/demo/mesh';
import { loadMeshConfig } from '../../../../mesh/config';
import { parseIA } from '../../../../scion/isdas';

describe('cli/demo/mesh: the demo clusters\' mesh files', () => {
  it('each node trusts the other clusters\' keys at their URLs; the first node of a cluster publishes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cillion-demo-mesh-'));
    try {
      const files = writeDemoMesh(dir, [
        { name: 'zurich', clusterId: 1, ia: parseIA('64-2:0:20'), nodes: ['zrh-1', 'zrh-2'], prefixes: ['10.164.0.0/16'] },
        { name: 'frankfurt', clusterId: 2, ia: parseIA('65-2:0:20'), nodes: ['fra-1'], prefixes: ['10.165.0.0/16'] },
      ], 4300);
      const zrh1 = loadMeshConfig(files.get('zrh-1')!);
      const zrh2 = loadMeshConfig(files.get('zrh-2')!);
      const fra1 = loadMeshConfig(files.get('fra-1')!);
      assert.deepEqual([zrh1.publish?.port, zrh2.publish, fra1.publish?.port], [4300, undefined, 4301]);
      assert.deepEqual(zrh1.peers.list().map((p) => [p.clusterName, p.clusterId, p.url]), [['frankfurt', 2, 'http://127.0.0.1:4301/v1/identity-catalogue']]);
      assert.deepEqual(fra1.peers.list().map((p) => [p.clusterName, p.url]), [['zurich', 'http://127.0.0.1:4300/v1/identity-catalogue']]);
      // Each names its pods only inside its own prefixes, as the others know them.
      assert.deepEqual([zrh1.peers.get('frankfurt')!.prefixes?.contains('10.165.0.7'), zrh1.peers.get('frankfurt')!.prefixes?.contains('10.164.0.5')], [true, false]);
      assert.equal(fra1.prefixes?.contains('10.165.0.7'), true);
      // Frankfurt's view of Zurich's key is the public half of the key Zurich publishes with.
      const zurichPub = fra1.peers.get('zurich')!.publicKey;
      assert.equal(zurichPub.equals(zrh2.peers.get('frankfurt')!.publicKey), false);
      assert.equal(createPublicKey(zrh1.publish!.privateKey).equals(zurichPub), true);
      // Keys between clusters: every node of a cluster shares its master secret (0600) and signing key.
      assert.deepEqual([zrh1.keys?.ia, fra1.keys?.ia, fra1.peers.get('zurich')?.ia], [parseIA('64-2:0:20'), parseIA('65-2:0:20'), parseIA('64-2:0:20')]);
      assert.deepEqual(zrh2.keys?.masterSecret, zrh1.keys?.masterSecret);
      assert.equal(zrh1.keys?.masterSecret.length, 32);
      assert.notDeepEqual(fra1.keys?.masterSecret, zrh1.keys?.masterSecret);
      assert.equal(createPublicKey(zrh2.keys!.privateKey).equals(zurichPub), true);
      assert.equal(statSync(join(dir, 'mesh', 'zurich.secret')).mode & 0o777, 0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
