// The clusters of the mesh as this cluster trusts them: each peer's name, the cluster id it
// owns and the Ed25519 key its catalogues are signed with. This pinning, configured out of
// band, is what the signature check rests on: a catalogue is believed only for the cluster
// whose key signed it, and only for the cluster id configured for that cluster.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { isClusterId } from '../identity/cluster_scope';
import { formatIA, type IA } from '../scion/isdas';
import type { PodPrefixes } from './prefixes';

export interface MeshPeer {
  clusterName: string;
  clusterId: number;
  publicKey: KeyObject;
  /** Where its signed catalogue is fetched; absent when it is pushed or read from a file. */
  url?: string;
  /** Its ISD-AS: what keys between the two clusters are derived for (mesh/key_sync.ts). */
  ia?: IA;
  /** Where its pods are: the only addresses its catalogue may name (none when absent). */
  prefixes?: PodPrefixes;
}

export class MeshConfigError extends Error {
  override readonly name = 'MeshConfigError';
  readonly code = 'BAD_MESH_CONFIG';
}

export class MeshPeers {
  private readonly byName = new Map<string, MeshPeer>();

  /** `self` is this cluster: a peer may not share its name, cluster id, ISD-AS or pod prefixes either. */
  constructor(peers: readonly MeshPeer[], self?: { clusterName: string; clusterId: number; ia?: IA; prefixes?: PodPrefixes }) {
    const ids = new Map<number, string>();
    const ias = new Map<IA, string>();
    if (self) ids.set(self.clusterId, self.clusterName);
    if (self?.ia !== undefined) ias.set(self.ia, self.clusterName);
    const prefixed: Array<{ clusterName: string; prefixes: PodPrefixes }> = self?.prefixes ? [{ clusterName: self.clusterName, prefixes: self.prefixes }] : [];
    for (const p of peers) {
      if (!isClusterId(p.clusterId)) throw new MeshConfigError(`peer ${p.clusterName}: cluster id ${p.clusterId} outside 1-255`);
      if (p.publicKey.asymmetricKeyType !== 'ed25519') throw new MeshConfigError(`peer ${p.clusterName}: key is ${p.publicKey.asymmetricKeyType}, want ed25519`);
      if (this.byName.has(p.clusterName) || p.clusterName === self?.clusterName) throw new MeshConfigError(`cluster ${p.clusterName} configured twice`);
      const holder = ids.get(p.clusterId);
      if (holder !== undefined) throw new MeshConfigError(`cluster id ${p.clusterId} given to both ${holder} and ${p.clusterName}`);
      ids.set(p.clusterId, p.clusterName);
      if (p.ia !== undefined) {
        const iaHolder = ias.get(p.ia);
        if (iaHolder !== undefined) throw new MeshConfigError(`ISD-AS ${formatIA(p.ia)} given to both ${iaHolder} and ${p.clusterName}`);
        ias.set(p.ia, p.clusterName);
      }
      const own = p.prefixes;
      if (own) {
        for (const other of prefixed) {
          const both = own.overlap(other.prefixes);
          if (both) throw new MeshConfigError(`pod prefixes of ${other.clusterName} and ${p.clusterName} overlap (${both})`);
        }
        prefixed.push({ clusterName: p.clusterName, prefixes: own });
      }
      this.byName.set(p.clusterName, p);
    }
  }

  get(clusterName: string): MeshPeer | undefined {
    return this.byName.get(clusterName);
  }

  list(): MeshPeer[] {
    return [...this.byName.values()];
  }
}

/** An Ed25519 public key from PEM (SPKI) text. */
export function publicKeyFromPem(pem: string): KeyObject {
  // createPublicKey also derives one from a private key; a private key here is a mix-up
  // (this cluster's own key trusted for a peer), so it is refused.
  if (/PRIVATE KEY-----/.test(pem)) throw new MeshConfigError('a private key where a public key belongs');
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new MeshConfigError(`key is ${key.asymmetricKeyType}, want ed25519`);
  return key;
}
