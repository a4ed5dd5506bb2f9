// Following the mesh's peers from a process that programs or reports on network policies:
// the mesh file checked against this cluster, the verified catalogues held, fetched on the
// file's interval, and a call whenever a peer's catalogue changed.
import type { ClusterAS } from '../resources/clusteras';
import { loadMeshConfig, type MeshConfig } from './config';
import { CatalogueDirectory } from './directory';
import { CatalogueExchange } from './exchange';
import { MeshConfigError } from './peers';
import { RemoteCatalogues } from './store';

export interface FollowedMesh {
  config: MeshConfig;
  store: RemoteCatalogues;
  /** The peers' identities for network policies' selectors. */
  directory: CatalogueDirectory;
  /** One round over the peers, for a one-shot run. */
  refresh(): Promise<void>;
  /** Fetches now and on the mesh file's interval; `onChange` after a round that took a new catalogue. */
  start(onChange: () => void): void;
  stop(): Promise<void>;
}

/** Throws MeshConfigError when the file is unreadable or for another cluster than `cluster`. */
export function followMesh(file: string, cluster: ClusterAS, log: (line: string) => void): FollowedMesh {
  const config = loadMeshConfig(file);
  if (config.clusterName !== cluster.metadata.name) throw new MeshConfigError(`${file} is for cluster ${config.clusterName}, this is ${cluster.metadata.name}`);
  if (config.clusterId !== cluster.spec.clusterId) throw new MeshConfigError(`${file} gives cluster id ${config.clusterId}, the ClusterAS ${cluster.spec.clusterId}`);
  const store = new RemoteCatalogues(config.peers, { log });
  let exchange: CatalogueExchange | undefined;
  return {
    config,
    store,
    directory: new CatalogueDirectory(store),
    async refresh() {
      await new CatalogueExchange(config.peers, store).refresh();
    },
    start(onChange) {
      exchange = new CatalogueExchange(config.peers, store, { onChange });
      exchange.start(config.refreshMs);
    },
    async stop() {
      await exchange?.stop();
    },
  };
}
