// Signing and opening a catalogue. The signature covers the catalogue's encoded bytes behind
// a context string, so the bytes verified are the bytes decoded (no re-encoding), and a
// signature made by the same key for another purpose cannot pass for a catalogue's.
import { sign, verify, type KeyObject } from 'node:crypto';
import { BinaryReader } from '@bufbuild/protobuf/wire';
import { IdentityCatalogue, SignedCatalogue } from '../proto/gen/mesh/v1/catalogue';
import { checkCatalogue, type Catalogue, type CatalogueLimits } from './catalogue';
import { refuse, type CatalogueResult } from './error';
import type { MeshPeers } from './peers';

const CONTEXT = Buffer.from('cillion-identity-catalogue-v1\0');
const ED25519_SIGNATURE_BYTES = 64;

/** An Ed25519 signature over `bytes` behind `context`, the form every signed mesh message takes. */
export const signWith = (context: Buffer, bytes: Uint8Array, key: KeyObject): Buffer => sign(null, Buffer.concat([context, bytes]), key);

export const verifyWith = (context: Buffer, bytes: Uint8Array, key: KeyObject, signature: Uint8Array): boolean =>
  signature.length === ED25519_SIGNATURE_BYTES && verify(null, Buffer.concat([context, bytes]), key, signature);

/** The encoded SignedCatalogue of `c`, signed with this cluster's Ed25519 private key. */
export function signCatalogue(c: Catalogue, privateKey: KeyObject): Uint8Array {
  const catalogue = IdentityCatalogue.encode({
    clusterName: c.clusterName,
    clusterId: c.clusterId,
    generation: c.generation,
    issuedAtMs: BigInt(c.issuedAtMs),
    identities: c.identities.map((e) => ({ id: e.id, labels: [...e.labels], addresses: [...e.addresses] })),
  }).finish();
  return SignedCatalogue.encode({ catalogue: Buffer.from(catalogue), signature: signWith(CONTEXT, catalogue, privateKey) }).finish();
}

export interface OpenedCatalogue {
  catalogue: Catalogue;
  /** The signed catalogue bytes, to tell a re-fetch of the same generation from a different one. */
  payload: Uint8Array;
}

/**
 * The cluster name a catalogue claims (field 1; the last one, as decoding takes it), read
 * without decoding its identities: it picks the key the catalogue must be signed with.
 */
function claimedName(catalogue: Uint8Array): string {
  const r = new BinaryReader(catalogue);
  let name = '';
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag === 10) name = r.string();
    else r.skip(tag & 7);
  }
  return name;
}

/**
 * A received SignedCatalogue, checked in the order that trusts nothing early: size, then the
 * signer's key (chosen by the claimed cluster name) before the identities are decoded, then
 * the pinned cluster id, then content. Freshness is the store's, which knows the last one.
 */
export function openCatalogue(bytes: Uint8Array, peers: MeshPeers, limits: CatalogueLimits): CatalogueResult<OpenedCatalogue> {
  if (bytes.length > limits.maxBytes) return refuse('TOO_LARGE', `${bytes.length} bytes, limit ${limits.maxBytes}`);
  let signed: SignedCatalogue;
  let name: string;
  try {
    signed = SignedCatalogue.decode(bytes);
    name = claimedName(signed.catalogue);
  } catch (err) {
    return refuse('MALFORMED', `not an encoded signed catalogue: ${(err as Error).message}`);
  }
  if (signed.signature.length === 0) return refuse('UNSIGNED', `catalogue of "${name.slice(0, 80)}" carries no signature`);
  const peer = peers.get(name);
  if (!peer) return refuse('UNKNOWN_CLUSTER', `"${name.slice(0, 80)}" is not a cluster of this mesh`);
  const good = verifyWith(CONTEXT, signed.catalogue, peer.publicKey, signed.signature);
  if (!good) return refuse('BAD_SIGNATURE', `catalogue claims to be ${peer.clusterName}'s but its key did not sign it`);
  let decoded: IdentityCatalogue;
  try {
    decoded = IdentityCatalogue.decode(signed.catalogue);
  } catch (err) {
    return refuse('MALFORMED', `${peer.clusterName}'s signed catalogue does not decode: ${(err as Error).message}`);
  }
  if (decoded.clusterId !== peer.clusterId) {
    return refuse('CLUSTER_ID_MISMATCH', `${peer.clusterName} claims cluster id ${decoded.clusterId}, but it owns ${peer.clusterId}`);
  }
  const checked = checkCatalogue(decoded, limits);
  return checked.ok ? { ok: true, value: { catalogue: checked.value, payload: signed.catalogue } } : checked;
}
