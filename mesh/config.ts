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
//
// Keys between clusters (mesh/key_sync.ts) need, on every node, the cluster's master secret
// (a file of random bytes only its owner may read), the cluster's signing key, and the
// ISD-AS of this cluster and of each peer:
//
//   ia: 64-2:0:20
//   masterSecret: zurich.secret
//   privateKey: zurich.key          # or publish.privateKey
//   keyEpochSeconds: 86400
//   peers:
//     - { cluster: frankfurt, clusterId: 2, ia: 65-2:0:20, publicKey: frankfurt.pub, url: ... }
import { parseHostPort } from '../resources/addresses';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { isClusterId } from '../identity/cluster_scope';
import { DEFAULT_EPOCH_SECONDS, MAX_EPOCH_SECONDS, MIN_EPOCH_SECONDS } from '../scion/drkey/epoch';
import { type IA, parseIA } from '../scion/isdas';
import { MeshConfigError, MeshPeers, publicKeyFromPem } from './peers';
import { PodPrefixes } from './prefixes';

/** What keys between clusters are made from; present when the mesh file names a master secret. */
export interface MeshKeyConfig {
  ia: IA;
  masterSecret: Uint8Array;
  /** Signs this cluster's Level 1 key requests and answers. */
  privateKey: KeyObject;
  epochSeconds: number;
}

export interface MeshConfig {
  clusterName: string;
  clusterId: number;
  prefixes?: PodPrefixes;
  refreshMs: number;
  publish?: { host: string; port: number; privateKey: KeyObject };
  peers: MeshPeers;
  keys?: MeshKeyConfig;
}

export const MIN_MASTER_SECRET_BYTES = 16;
const MAX_MASTER_SECRET_BYTES = 4096;

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

function ia(v: unknown, what: string): IA {
  try {
    return parseIA(str(v, what));
  } catch (e) {
    throw e instanceof MeshConfigError ? e : new MeshConfigError(`${what}: ${(e as Error).message}`);
  }
}

function privateKeyOf(pem: string, what: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    throw new MeshConfigError(`${what}: ${(e as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new MeshConfigError(`${what}: key is ${key.asymmetricKeyType}, want ed25519`);
  return key;
}

/**
 * A secret file (`what` names the mesh file's field): refused unless a regular file that group
 * and others cannot read, of `min`..`max` bytes. The checks and the read are of the same open
 * file, not of whatever the path names later.
 */
function readSecretFile(path: string, what: string, min: number, max: number, hint: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new MeshConfigError(`${what}: ${(e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new MeshConfigError(`${what}: ${path} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      throw new MeshConfigError(`${what}: ${path} has mode ${(st.mode & 0o777).toString(8)}; group and others must have no access (chmod 600)`);
    }
    if (st.size < min || st.size > max) throw new MeshConfigError(`${what}: ${path} holds ${st.size} bytes, want ${min}-${max}${hint}`);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The master secret every key of this cluster derives from: refused when group or others may
 * read it (a copy of it forges every cluster's view of this one) or when it is too short to
 * be a secret.
 */
export function readMasterSecret(path: string): Uint8Array {
  return new Uint8Array(readSecretFile(path, 'masterSecret', MIN_MASTER_SECRET_BYTES, MAX_MASTER_SECRET_BYTES, ' (32 random bytes: head -c 32 /dev/urandom)'));
}

/** The cluster's Ed25519 signing key: it signs catalogues and key requests, so it is kept like the master secret. */
function readSigningKey(path: string, what: string): KeyObject {
  return privateKeyOf(readSecretFile(path, what, 1, 16384, '').toString('utf8'), what);
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
  const self = {
    clusterName: str(doc.cluster, 'cluster'),
    clusterId: clusterId(doc.clusterId, 'clusterId'),
    ia: doc.ia === undefined ? undefined : ia(doc.ia, 'ia'),
    prefixes: prefixes(doc.prefixes, 'prefixes'),
  };
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
      ia: p.ia === undefined ? undefined : ia(p.ia, `${what}.ia`),
      publicKey: key,
      url,
      prefixes: prefixes(p.prefixes, `${what}.prefixes`),
    };
  });
  let publish: MeshConfig['publish'];
  if (doc.publish !== undefined) {
    const p = doc.publish as Record<string, unknown>;
    const privateKey = readSigningKey(resolve(dir, str(p?.privateKey, 'publish.privateKey')), 'publish.privateKey');
    publish = { ...hostPort(str(p.listen, 'publish.listen')), privateKey };
  }
  const meshPeers = new MeshPeers(peers, self);
  const keys = doc.masterSecret === undefined ? undefined : keyConfig(doc, self.ia, meshPeers, publish?.privateKey, dir, read);
  return { clusterName: self.clusterName, clusterId: self.clusterId, prefixes: self.prefixes, refreshMs: refresh * 1000, publish, peers: meshPeers, keys };
}

function keyConfig(
  doc: Record<string, unknown>,
  selfIa: IA | undefined,
  peers: MeshPeers,
  publishKey: KeyObject | undefined,
  dir: string,
  read: (name: string, what: string) => string,
): MeshKeyConfig {
  if (selfIa === undefined) throw new MeshConfigError('ia: a mesh with a masterSecret needs this cluster\'s ISD-AS');
  for (const p of peers.list()) {
    if (p.ia === undefined) throw new MeshConfigError(`peers: ${p.clusterName} has no ia; a mesh with a masterSecret derives keys per peer ISD-AS`);
  }
  const privateKey = doc.privateKey === undefined ? publishKey : readSigningKey(resolve(dir, str(doc.privateKey, 'privateKey')), 'privateKey');
  if (!privateKey) throw new MeshConfigError('privateKey: a mesh with a masterSecret signs its key requests; give privateKey (or publish.privateKey)');
  const epochSeconds = doc.keyEpochSeconds ?? DEFAULT_EPOCH_SECONDS;
  if (typeof epochSeconds !== 'number' || !Number.isInteger(epochSeconds) || epochSeconds < MIN_EPOCH_SECONDS || epochSeconds > MAX_EPOCH_SECONDS) {
    throw new MeshConfigError(`keyEpochSeconds: want an integer ${MIN_EPOCH_SECONDS}-${MAX_EPOCH_SECONDS}, got ${JSON.stringify(epochSeconds)}`);
  }
  return { ia: selfIa, masterSecret: readMasterSecret(resolve(dir, str(doc.masterSecret, 'masterSecret'))), privateKey, epochSeconds };
}
