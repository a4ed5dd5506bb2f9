// The demo's identity mesh: a fresh Ed25519 key per cluster each run, and one mesh file per
// node in <run dir>/mesh. Every node fetches the other clusters' catalogues; the first node
// of each cluster publishes its cluster's on 127.0.0.1 (the demo's control planes all run in
// the root namespace, so loopback stands in for the WAN between them).
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CATALOGUE_PATH } from '../../mesh/http';

export interface MeshCluster {
  name: string;
  clusterId: number;
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
  }
  const files = new Map<string, string>();
  clusters.forEach((c, i) => {
    const peers = clusters.flatMap((p, j) => (p === c ? [] : [{ cluster: p.name, clusterId: p.clusterId, publicKey: `${p.name}.pub`, url: url(j), prefixes: p.prefixes }]));
    c.nodes.forEach((node, n) => {
      const doc = {
        cluster: c.name,
        clusterId: c.clusterId,
        prefixes: c.prefixes,
        refreshSeconds: 2,
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
