// Two clusters of a mesh with their keys, and a way to sign any catalogue content, valid or
// not, the way a peer (honest or lying) would.
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { scopedIdentity } from '../../../identity/cluster_scope';
import { IdentityCatalogue, SignedCatalogue, type DeepPartial } from '../../../proto/gen/mesh/v1/catalogue';
import { MeshPeers } from '../../../mesh/peers';
import { PodPrefixes } from '../../../mesh/prefixes';

export interface ClusterKeys {
  clusterName: string;
  clusterId: number;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

function cluster(clusterName: string, clusterId: number): ClusterKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { clusterName, clusterId, privateKey, publicKey };
}

export const ZURICH = cluster('zurich', 1);
export const FRANKFURT = cluster('frankfurt', 2);
export const OUTSIDER = cluster('outsider', 9);

export const ZURICH_PODS = PodPrefixes.parse(['10.164.0.0/16', 'fd00:164::/48'], 'zurich');
export const FRANKFURT_PODS = PodPrefixes.parse(['10.165.0.0/16'], 'frankfurt');

/** Zurich's view of the mesh: Frankfurt is its one peer. */
export const zurichPeers = (url?: string) =>
  new MeshPeers([{ clusterName: 'frankfurt', clusterId: 2, publicKey: FRANKFURT.publicKey, url, prefixes: FRANKFURT_PODS }], { ...ZURICH, prefixes: ZURICH_PODS });
export const frankfurtPeers = (url?: string) =>
  new MeshPeers([{ clusterName: 'zurich', clusterId: 1, publicKey: ZURICH.publicKey, url, prefixes: ZURICH_PODS }], { ...FRANKFURT, prefixes: FRANKFURT_PODS });

export const BILLING = scopedIdentity(2, 256);
export const VIDEO = scopedIdentity(2, 257);

/** When the test catalogues were issued: this run's start, so they are fresh for receivers on the real clock. */
export const ISSUED_AT_MS = Date.now();

export function frankfurtContent(over: DeepPartial<IdentityCatalogue> = {}): DeepPartial<IdentityCatalogue> {
  return {
    clusterName: 'frankfurt',
    clusterId: 2,
    generation: 10n,
    issuedAtMs: BigInt(ISSUED_AT_MS),
    identities: [
      { id: BILLING, labels: ['k8s:app=billing', 'k8s:io.kubernetes.pod.namespace=shop'], addresses: ['10.165.0.7'] },
      { id: VIDEO, labels: ['k8s:app=video', 'k8s:io.kubernetes.pod.namespace=media'], addresses: [] },
    ],
    ...over,
  };
}

/** Signs the encoded content with `key` exactly as the publisher does (or leaves it unsigned). */
export function signedBytes(content: DeepPartial<IdentityCatalogue>, key: KeyObject | null): Uint8Array {
  const catalogue = IdentityCatalogue.encode(IdentityCatalogue.fromPartial(content)).finish();
  const signature = key ? sign(null, Buffer.concat([Buffer.from('cillion-identity-catalogue-v1\0'), catalogue]), key) : new Uint8Array(0);
  return SignedCatalogue.encode({ catalogue: Buffer.from(catalogue), signature: Buffer.from(signature) }).finish();
}
