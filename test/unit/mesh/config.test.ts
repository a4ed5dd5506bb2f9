import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMeshConfig } from '../../../mesh/config';
import { DEFAULT_EPOCH_SECONDS } from '../../../scion/drkey/epoch';
import { parseIA } from '../../../scion/isdas';
import { FRANKFURT, ZURICH } from './helpers';

describe('mesh/config: the mesh file', () => {
  let dir: string;
  const pem = (k: typeof ZURICH.publicKey, type: 'spki' | 'pkcs8') => k.export({ type, format: 'pem' }) as string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cillion-meshcfg-'));
    writeFileSync(join(dir, 'zurich.key'), pem(ZURICH.privateKey, 'pkcs8'), { mode: 0o600 });
    // The same signing key, readable by anyone: refused like a master secret would be.
    writeFileSync(join(dir, 'open.key'), pem(ZURICH.privateKey, 'pkcs8'), { mode: 0o644 });
    chmodSync(join(dir, 'open.key'), 0o644);
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
      [`cluster: zurich\nclusterId: 1\npublish: { listen: "127.0.0.1:1", privateKey: open.key }\npeers: []\n`, /publish.privateKey: .*open.key has mode 644; group and others must have no access/],
      [`cluster: zurich\nclusterId: 1\n`, /peers: want a list/],
      [`cluster: zurich\nclusterId: 1\nprefixes: 10.164.0.0/16\npeers: []\n`, /prefixes: want a list of prefixes/],
      [`cluster: zurich\nclusterId: 1\npeers:\n  - { cluster: frankfurt, clusterId: 2, publicKey: frankfurt.pub, prefixes: [10.165.0.0/33] }\n`, /peers\[0\]\.prefixes\[0\]: prefix length "33"/],
      [`cluster: zurich\nclusterId: 1\nprefixes: [10.0.0.0/8]\npeers:\n  - { cluster: frankfurt, clusterId: 2, publicKey: frankfurt.pub, prefixes: [10.165.0.0/16] }\n`, /pod prefixes of zurich and frankfurt overlap/],
    ];
    for (const [text, re] of cases) assert.throws(() => loadMeshConfig(write(text)), re, text);
  });

  describe('keys between clusters', () => {
    const secret = (name: string, bytes: number, mode: number) => {
      writeFileSync(join(dir, name), Buffer.alloc(bytes, 7), { mode });
      chmodSync(join(dir, name), mode);
    };
    const keyPeer = '  - { cluster: frankfurt, clusterId: 2, ia: 65-2:0:20, publicKey: frankfurt.pub, url: "http://127.0.0.1:4301/v1/identity-catalogue" }\n';
    const withKeys = (extra: string, peers = keyPeer) => `cluster: zurich\nclusterId: 1\nia: 64-2:0:20\nprivateKey: zurich.key\n${extra}peers:\n${peers}`;

    it('reads the master secret, ISD-ASes, signing key and epoch length', () => {
      secret('zurich.secret', 32, 0o600);
      const cfg = loadMeshConfig(write(withKeys('masterSecret: zurich.secret\nkeyEpochSeconds: 3600\n')));
      assert.deepEqual([cfg.keys?.ia, cfg.keys?.masterSecret.length, cfg.keys?.epochSeconds, cfg.keys?.privateKey.asymmetricKeyType], [parseIA('64-2:0:20'), 32, 3600, 'ed25519']);
      assert.equal(cfg.peers.get('frankfurt')?.ia, parseIA('65-2:0:20'));
      assert.equal(loadMeshConfig(write(withKeys('masterSecret: zurich.secret\n'))).keys?.epochSeconds, DEFAULT_EPOCH_SECONDS);
      assert.equal(loadMeshConfig(write(`cluster: zurich\nclusterId: 1\npeers:\n${peer}`)).keys, undefined, 'no master secret, no keys');
    });

    it('refuses a master secret others may read or too short to be one, and a key setup it cannot use', () => {
      secret('open.secret', 32, 0o640);
      secret('short.secret', 15, 0o600);
      secret('good.secret', 32, 0o600);
      const cases: Array<[string, RegExp]> = [
        [withKeys('masterSecret: open.secret\n'), /masterSecret: .*open\.secret has mode 640; group and others must have no access \(chmod 600\)/],
        [withKeys('masterSecret: short.secret\n'), /masterSecret: .*short\.secret holds 15 bytes, want 16-4096/],
        [withKeys('masterSecret: missing.secret\n'), /masterSecret: ENOENT/],
        [withKeys('masterSecret: good.secret\nkeyEpochSeconds: 60\n'), /keyEpochSeconds: want an integer 360-259200, got 60/],
        [withKeys('masterSecret: good.secret\n', peer), /peers: frankfurt has no ia/],
        [withKeys('masterSecret: good.secret\n').replace('ia: 64-2:0:20\n', ''), /ia: a mesh with a masterSecret needs this cluster's ISD-AS/],
        [withKeys('masterSecret: good.secret\n').replace('privateKey: zurich.key\n', ''), /privateKey: a mesh with a masterSecret signs its key requests/],
        [withKeys('masterSecret: good.secret\n', keyPeer.replace('65-2:0:20', '64-2:0:20')), /ISD-AS 64-2:0:20 given to both zurich and frankfurt/],
        [withKeys('', keyPeer.replace('65-2:0:20', 'nowhere')), /peers\[0\]\.ia: .*not of the form ISD-AS/],
      ];
      for (const [text, re] of cases) assert.throws(() => loadMeshConfig(write(text)), re, text);
    });
  });
});
