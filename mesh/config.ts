// The mesh file an agent is given (--mesh): this cluster's name, id and pod prefixes, the
// peers it trusts with their public keys, catalogue URLs and pod prefixes, and, on the node
// that publishes, the private key and listen address. Keys are PEM files (openssl genpkey
// -algorithm ed25519), named relative to the mesh file. Pod prefixes must not overlap.
//
//   cluster: zurich
//   clusterId: 1
//   prefixes: [10.164.0.0/16]
//   refreshSeconds: 10
//   publish: { listen: "127.0.0.1:4300", privateKey: zurich.key }
//   peers:
//     - { cluster: frankfurt, clusterId: 2, publicKey: frankfurt.pub, url: "http://127.0.0.1:4301/v1/identity-catalogue", prefixes: [10.165.0.0/16] }
import { parseHostPort } from '../operator/resources/addresses';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { isClusterId } from '../operator/identity/cluster_scope';
import { MeshConfigError, MeshPeers, publicKeyFromPem } from './peers';
import { PodPrefixes } from './prefixes';

export interface MeshConfig {
  clusterName: string;
  clusterId: number;
  prefixes?: PodPrefixes;
  refreshMs: number;
  publish?: { host: string; port: number; privateKey: KeyObject };
  peers: MeshPeers;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new MeshConfigError(`${what}: want a non-empty string`);
  return v;
}

function clusterId(v: unknown, what: string): number {
  if (typeof v !== 'number' || !isClusterId(v)) throw new MeshConfigError(`${what}: want a cluster id 1-255, got ${JSON.stringify(v)}`);
  return v;
}

function prefixes(v: unknown, what: string): PodPrefixes | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((p) => typeof p !== 'string')) throw new MeshConfigError(`${what}: want a list of prefixes such as 10.165.0.0/16`);
  return PodPrefixes.parse(v, what);
}

function hostPort(v: string): { host: string; port: number } {
  const hp = parseHostPort(v);
  if (typeof hp === 'string') throw new MeshConfigError(`publish.listen: want host:port, got ${hp}`);
  return hp;
}

export function loadMeshConfig(file: string): MeshConfig {
  const dir = dirname(file);
  const read = (name: string, what: string) => {
    try {
      return readFileSync(resolve(dir, name), 'utf8');
    } catch (e) {
      throw new MeshConfigError(`${what}: ${(e as Error).message}`);
    }
  };
  let doc: Record<string, unknown>;
  try {
    doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new MeshConfigError(`${file}: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object') throw new MeshConfigError(`${file}: want a mapping`);
  const self = { clusterName: str(doc.cluster, 'cluster'), clusterId: clusterId(doc.clusterId, 'clusterId'), prefixes: prefixes(doc.prefixes, 'prefixes') };
  const refresh = doc.refreshSeconds ?? 10;
  if (typeof refresh !== 'number' || !(refresh >= 1 && refresh <= 3600)) throw new MeshConfigError('refreshSeconds: want 1-3600');
  if (!Array.isArray(doc.peers)) throw new MeshConfigError('peers: want a list');
  const peers = doc.peers.map((p: Record<string, unknown>, i: number) => {
    const what = `peers[${i}]`;
    const key = publicKeyFromPem(read(str(p?.publicKey, `${what}.publicKey`), `${what}.publicKey`));
    const url = p.url === undefined ? undefined : str(p.url, `${what}.url`);
    if (url && !/^https?:\/\//.test(url)) throw new MeshConfigError(`${what}.url: want http:// or https://, got "${url}"`);
    return {
      clusterName: str(p.cluster, `${what}.cluster`),
      clusterId: clusterId(p.clusterId, `${what}.clusterId`),
      publicKey: key,
      url,
      prefixes: prefixes(p.prefixes, `${what}.prefixes`),
    };
  });
  let publish: MeshConfig['publish'];
  if (doc.publish !== undefined) {
    const p = doc.publish as Record<string, unknown>;
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(read(str(p?.privateKey, 'publish.privateKey'), 'publish.privateKey'));
    } catch (e) {
      throw e instanceof MeshConfigError ? e : new MeshConfigError(`publish.privateKey: ${(e as Error).message}`);
    }
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new MeshConfigError(`publish.privateKey: key is ${privateKey.asymmetricKeyType}, want ed25519`);
    publish = { ...hostPort(str(p.listen, 'publish.listen')), privateKey };
  }
  return { ...self, refreshMs: refresh * 1000, publish, peers: new MeshPeers(peers, self) };
}
