// The demo's identity mesh: a fresh Ed25519 key and a fresh 32-byte master secret per
// cluster each run (both 0600), and one mesh file per node in <run dir>/mesh. Every node
// fetches the other clusters' catalogues and Level 1 keys; the first node of each cluster
// publishes its cluster's catalogue and answers key requests on 127.0.0.1 (the demo's control
// planes all run in the root namespace, so loopback stands in for the WAN between them).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CATALOGUE_PATH } from '../../mesh/http';
import { formatIA, type IA } from '../../scion/isdas';

export interface MeshCluster {
  name: string;
  clusterId: number;
  ia: IA;
  nodes: readonly string[];
  /** Its pod prefixes: the only addresses its catalogue may name. */
  prefixes: readonly string[];
}

/** Writes keys and mesh files; returns each node's mesh file. The cluster of index i publishes on basePort + i. */
export function writeDemoMesh(runDir: string, clusters: readonly MeshCluster[], basePort: number): Map<string, string> {
  const dir = join(runDir, 'mesh');
  mkdirSync(dir, { recursive: true });
  const url = (i: number) => `http://127.0.0.1:${basePort + i}${CATALOGUE_PATH}`;
  for (const c of clusters) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, `${c.name}.key`), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(join(dir, `${c.name}.pub`), publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(dir, `${c.name}.secret`), randomBytes(32), { mode: 0o600 });
  }
  const files = new Map<string, string>();
  clusters.forEach((c, i) => {
    const peers = clusters.flatMap((p, j) => (p === c ? [] : [{ cluster: p.name, clusterId: p.clusterId, ia: formatIA(p.ia), publicKey: `${p.name}.pub`, url: url(j), prefixes: p.prefixes }]));
    c.nodes.forEach((node, n) => {
      const doc = {
        cluster: c.name,
        clusterId: c.clusterId,
        ia: formatIA(c.ia),
        prefixes: c.prefixes,
        refreshSeconds: 2,
        masterSecret: `${c.name}.secret`,
        privateKey: `${c.name}.key`,
        ...(n === 0 ? { publish: { listen: `127.0.0.1:${basePort + i}`, privateKey: `${c.name}.key` } } : {}),
        peers,
      };
      const file = join(dir, `${node}.yaml`);
      writeFileSync(file, stringify(doc));
      files.set(node, file);
    });
  });
  return files;
}
