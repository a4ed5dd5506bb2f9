import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMeshConfig } from '../../../mesh/config';
import { FRANKFURT, ZURICH } from './helpers';

describe('mesh/config: the mesh file', () => {
  let dir: string;
  const pem = (k: typeof ZURICH.publicKey, type: 'spki' | 'pkcs8') => k.export({ type, format: 'pem' }) as string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-meshcfg-'));
    writeFileSync(join(dir, 'zurich.key'), pem(ZURICH.privateKey, 'pkcs8'));
    writeFileSync(join(dir, 'frankfurt.pub'), pem(FRANKFURT.publicKey, 'spki'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (text: string) => {
    writeFileSync(join(dir, 'mesh.yaml'), text);
    return join(dir, 'mesh.yaml');
  };
  const peer = '  - { cluster: frankfurt, clusterId: 2, publicKey: frankfurt.pub, url: "http://127.0.0.1:4301/v1/identity-catalogue" }\n';

  it('reads the cluster, the peers with keys relative to the file, and the publishing side', () => {
    const cfg = loadMeshConfig(write(`cluster: zurich\nclusterId: 1\nrefreshSeconds: 5\npublish: { listen: "127.0.0.1:4300", privateKey: zurich.key }\npeers:\n${peer}`));
    assert.deepEqual([cfg.clusterName, cfg.clusterId, cfg.refreshMs], ['zurich', 1, 5000]);
    assert.deepEqual([cfg.publish?.host, cfg.publish?.port, cfg.publish?.privateKey.asymmetricKeyType], ['127.0.0.1', 4300, 'ed25519']);
    const p = cfg.peers.get('frankfurt')!;
    assert.deepEqual([p.clusterId, p.url, p.publicKey.equals(FRANKFURT.publicKey), p.prefixes], [2, 'http://127.0.0.1:4301/v1/identity-catalogue', true, undefined]);
  });

  it('reads the pod prefixes of this cluster and of each peer', () => {
    const cfg = loadMeshConfig(write(`cluster: zurich\nclusterId: 1\nprefixes: [10.164.0.0/16]\npeers:\n  - { cluster: frankfurt, clusterId: 2, publicKey: frankfurt.pub, prefixes: [10.165.0.0/16, "fd00:165::/48"] }\n`));
    assert.deepEqual(cfg.prefixes?.prefixes.map((p) => `${p.address}/${p.length}`), ['10.164.0.0/16']);
    const p = cfg.peers.get('frankfurt')!.prefixes!;
    assert.deepEqual([p.contains('10.165.3.4'), p.contains('fd00:165::9'), p.contains('10.164.3.4')], [true, true, false]);
  });

  it('refuses what it cannot use, saying where', () => {
    const cases: Array<[string, RegExp]> = [
      [`cluster: zurich\nclusterId: 0\npeers: []\n`, /clusterId: want a cluster id 1-255, got 0/],
      [`cluster: zurich\nclusterId: 1\npeers:\n  - { cluster: frankfurt, clusterId: 1, publicKey: frankfurt.pub }\n`, /cluster id 1 given to both zurich and frankfurt/],
      [`cluster: zurich\nclusterId: 1\npeers:\n  - { cluster: frankfurt, clusterId: 2, publicKey: missing.pub }\n`, /peers\[0\]\.publicKey: ENOENT/],
      [`cluster: zurich\nclusterId: 1\npeers:\n  - { cluster: frankfurt, clusterId: 2, publicKey: zurich.key }\n`, /a private key where a public key belongs/],
      [`cluster: zurich\nclusterId: 1\npeers:\n  - { cluster: frankfurt, clusterId: 2, publicKey: frankfurt.pub, url: "ftp://x" }\n`, /url: want http/],
      [`cluster: zurich\nclusterId: 1\npublish: { listen: "nowhere", privateKey: zurich.key }\npeers: []\n`, /publish.listen: want host:port/],
      [`cluster: zurich\nclusterId: 1\npublish: { listen: "127.0.0.1:1", privateKey: frankfurt.pub }\npeers: []\n`, /publish.privateKey/],
      [`cluster: zurich\nclusterId: 1\n`, /peers: want a list/],
      [`cluster: zurich\nclusterId: 1\nprefixes: 10.164.0.0/16\npeers: []\n`, /prefixes: want a list of prefixes/],
      [`cluster: zurich\nclusterId: 1\npeers:\n  - { cluster: frankfurt, clusterId: 2, publicKey: frankfurt.pub, prefixes: [10.165.0.0/33] }\n`, /peers\[0\]\.prefixes\[0\]: prefix length "33"/],
      [`cluster: zurich\nclusterId: 1\nprefixes: [10.0.0.0/8]\npeers:\n  - { cluster: frankfurt, clusterId: 2, publicKey: frankfurt.pub, prefixes: [10.165.0.0/16] }\n`, /pod prefixes of zurich and frankfurt overlap/],
    ];
    for (const [text, re] of cases) assert.throws(() => loadMeshConfig(write(text)), re, text);
  });
});
