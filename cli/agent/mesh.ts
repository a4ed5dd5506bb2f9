// The agent's part of the mesh: with a master secret, the Level 1 key server (publishing
// node) and the datapath's key table kept filled; the peers' catalogues followed (a new one
// reprograms the policies naming its workloads) with the "mesh ready" line once all are in
// place; and, on the publishing node, this cluster's catalogue served.
import { InvalidArgumentError } from 'commander';
import type { EdgeDatapath } from '../../bpf/datapath';
import type { CatalogueResult } from '../../mesh/error';
import type { FollowedMesh } from '../../mesh/follow';
import { serveCatalogue } from '../../mesh/http';
import { KeySync } from '../../mesh/key_sync';
import { fetchLevel1 } from '../../mesh/level1_client';
import { Level1Server } from '../../mesh/level1_server';
import { LEVEL1_PATH } from '../../mesh/level1_wire';
import { allocatorListing, CataloguePublisher, withAddresses } from '../../mesh/publisher';
import type { IdentityView } from '../../identity/allocator';
import type { NodeRuntime } from '../../operator/node/runtime';
import type { ClusterAS } from '../../resources/clusteras';
import { DrkeyIssuer } from '../../scion/drkey/level1';
import { formatIA } from '../../scion/isdas';
import type { Lifecycle } from '../../lifecycle/lifecycle';

export interface AgentMeshDeps {
  followed: FollowedMesh;
  /** The --mesh file, for messages. */
  file: string;
  cluster: ClusterAS;
  runtime: NodeRuntime;
  dp: EdgeDatapath;
  identities: IdentityView;
  /** Pod addresses by identity now, for the published catalogue. */
  addresses: () => Iterable<[string, number]>;
  /** Takes what builds the published catalogue again, for when identities or addresses may have changed. */
  setRepublish: (republish: () => void) => void;
  log: (line: string) => void;
}

/** What the agent's metrics read of the mesh. */
export interface AgentMesh {
  keySync: KeySync | undefined;
  level1: Level1Server | undefined;
}

export async function startMesh(d: AgentMeshDeps, life: Lifecycle): Promise<AgentMesh> {
  const mesh = d.followed.config;
  const { keySync, level1 } = startKeys(d, life);
  watchReadiness(d, keySync, life);
  if (mesh.publish) await publishCatalogue(d, level1, life);
  d.log(`mesh: fetching the identity catalogues of ${mesh.peers.list().map((p) => p.clusterName).join(', ') || 'no peer'} every ${mesh.refreshMs / 1000} s`);
  return { keySync, level1 };
}

/** With a master secret: Level 1 keys served to peers (publishing node), and the datapath's key table kept filled. */
function startKeys(d: AgentMeshDeps, life: Lifecycle): Pick<AgentMesh, 'keySync' | 'level1'> {
  const mesh = d.followed.config;
  if (!mesh.keys) return { keySync: undefined, level1: undefined };
  const keys = mesh.keys;
  const clusterName = d.cluster.metadata.name;
  if (keys.ia !== d.cluster.spec.isdAS) throw new InvalidArgumentError(`--mesh ${d.file} gives ISD-AS ${formatIA(keys.ia)}, the ClusterAS ${formatIA(d.cluster.spec.isdAS)}`);
  const issuer = new DrkeyIssuer({ localIA: keys.ia, masterSecret: keys.masterSecret, epochSeconds: keys.epochSeconds });
  const level1 = mesh.publish ? new Level1Server({ clusterName, issuer, privateKey: keys.privateKey, peers: mesh.peers, log: d.log }) : undefined;
  // The SPAO key table exists when the edge authenticates (--spao on and a kernel that can).
  const table = d.dp.keys;
  if (!table) {
    d.log(`mesh keys: the edge does not authenticate (${d.dp.spao.reason ?? 'off'}); keys are served to peers but none is installed`);
    return { keySync: undefined, level1 };
  }
  const self = { clusterName, ia: keys.ia, privateKey: keys.privateKey };
  const sync = new KeySync({ self, issuer, peers: mesh.peers, table, fetch: (peer, validAt) => fetchLevel1(self, peer, validAt), log: d.log });
  sync.start(mesh.refreshMs);
  life.defer('mesh keys', () => sync.stop());
  d.log(`mesh keys: ${keys.epochSeconds} s epochs; keeping tx and rx keys for ${mesh.peers.list().map((p) => p.clusterName).join(', ') || 'no peer'} in the datapath key table`);
  return { keySync: sync, level1 };
}

/**
 * Follows the peers' catalogues, and says once when every peer's catalogue is held and
 * programmed and, with keys, every peer's packets can be verified: what the demo waits for
 * before it sends.
 */
function watchReadiness(d: AgentMeshDeps, keySync: KeySync | undefined, life: Lifecycle): void {
  const { followed } = d;
  let ready = false;
  const noteReady = (): void => {
    if (ready) return;
    const held = new Set(followed.store.catalogues().map((c) => c.clusterName));
    const peers = followed.config.peers.list().map((p) => p.clusterName);
    if (peers.some((p) => !held.has(p))) return;
    const keys = keySync?.stats();
    if (keys && (keys.rounds === 0 || keys.peersWithoutRxKey > 0)) return;
    ready = true;
    d.log(`mesh ready: catalogues${keySync ? ' and keys' : ''} of ${peers.join(', ') || 'no peer'} in place`);
  };
  followed.start(() => void d.runtime.programmer.recompute().then(noteReady));
  const readiness = setInterval(() => (ready ? clearInterval(readiness) : noteReady()), 500);
  readiness.unref();
  life.defer('mesh readiness', () => clearInterval(readiness));
  life.defer('mesh catalogues', () => followed.stop());
}

/** Serves this cluster's identity catalogue (and the Level 1 key requests). */
async function publishCatalogue(d: AgentMeshDeps, level1: Level1Server | undefined, life: Lifecycle): Promise<void> {
  const mesh = d.followed.config;
  const publish = mesh.publish as NonNullable<typeof mesh.publish>;
  const clusterName = d.cluster.metadata.name;
  const publisher = new CataloguePublisher({
    clusterName,
    clusterId: mesh.clusterId,
    privateKey: publish.privateKey,
    listing: withAddresses(allocatorListing(d.identities), d.addresses),
  });
  // Built when the node recomputes, not per request: a peer asking in a loop costs a buffer write each.
  let lastRefusal = '';
  const build = (): CatalogueResult<Uint8Array> => {
    const c = publisher.current();
    if (!c.ok && c.error.message !== lastRefusal) d.log(`identity catalogue not published: ${c.error.message}`);
    lastRefusal = c.ok ? '' : c.error.message;
    return c;
  };
  let published = build();
  d.setRepublish(() => {
    published = build();
  });
  const served = await serveCatalogue(() => published, publish.host, publish.port, { post: level1?.route() });
  life.defer('catalogue server', () => new Promise<void>((resolve) => served.server.close(() => resolve())));
  d.log(`identity catalogue of ${clusterName} (cluster id ${mesh.clusterId}) on ${served.url}${level1 ? `, Level 1 keys on ${LEVEL1_PATH}` : ''}`);
}
