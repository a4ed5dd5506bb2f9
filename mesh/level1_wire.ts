// What both sides of the Level 1 key exchange compute alike: the signed envelopes, the
// X25519 agreement and the key wrap. The wrap key is HKDF-SHA256 of the X25519 shared secret,
// salted with the digest of the signed request and bound (info) to both ephemeral public keys
// and both cluster names; each key is sealed with AES-256-GCM whose associated data binds the
// names and the key's epoch. A key therefore opens only for the requester that made the
// request, for the epoch the issuer stated, under the issuer's fresh key.
import { createCipheriv, createDecipheriv, createHash, createPublicKey, diffieHellman, hkdfSync, type KeyObject } from 'node:crypto';
import type { Epoch } from '../scion/drkey/epoch';

export const LEVEL1_PATH = '/v1/drkey/level1';
export const REQUEST_CONTEXT = Buffer.from('cillion-drkey-level1-request-v1\0');
export const RESPONSE_CONTEXT = Buffer.from('cillion-drkey-level1-response-v1\0');
const WRAP_INFO = Buffer.from('cillion-drkey-level1-wrap-v1\0');
const SEAL_AAD = Buffer.from('cillion-drkey-level1-key-v1\0');

export const X25519_PUBLIC_BYTES = 32;
export const SEALED_KEY_BYTES = 16 + 16;
/** Keys asked for in one request: the previous, current and next epoch. */
export const MAX_VALID_AT = 3;

export const digest = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest();

export function x25519Raw(publicKey: KeyObject): Buffer {
  return Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
}

/** The peer's X25519 public key from its 32 raw bytes, or undefined when it is not one. */
export function x25519FromRaw(raw: Uint8Array): KeyObject | undefined {
  if (raw.length !== X25519_PUBLIC_BYTES) return undefined;
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
  } catch {
    return undefined;
  }
}

export interface WrapContext {
  issuer: string;
  requester: string;
  requestDigest: Uint8Array;
  requesterPublic: Uint8Array;
  issuerPublic: Uint8Array;
}

const named = (s: string): Buffer => {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([b.length]), b]);
};

/** The AES-256 wrap key, or undefined when the agreement is degenerate (a low-order public key). */
export function wrapKey(privateKey: KeyObject, peerPublic: KeyObject, c: WrapContext): Buffer | undefined {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey, publicKey: peerPublic });
  } catch {
    return undefined;
  }
  if (shared.every((b) => b === 0)) return undefined;
  const info = Buffer.concat([WRAP_INFO, c.requesterPublic, c.issuerPublic, named(c.issuer), named(c.requester)]);
  return Buffer.from(hkdfSync('sha256', shared, c.requestDigest, info, 32));
}

function aad(c: WrapContext, epoch: Epoch): Buffer {
  const e = Buffer.alloc(8);
  e.writeUInt32BE(epoch.begin, 0);
  e.writeUInt32BE(epoch.end, 4);
  return Buffer.concat([SEAL_AAD, named(c.issuer), named(c.requester), e]);
}

// The wrap key is fresh per answer (a new ephemeral key each time), so the key's index in
// the answer is a nonce that never repeats under it.
function nonce(index: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeUInt32BE(index, 8);
  return n;
}

export function sealKey(wrap: Buffer, c: WrapContext, index: number, epoch: Epoch, key: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-256-gcm', wrap, nonce(index));
  cipher.setAAD(aad(c, epoch));
  return Buffer.concat([cipher.update(key), cipher.final(), cipher.getAuthTag()]);
}

export function openKey(wrap: Buffer, c: WrapContext, index: number, epoch: Epoch, sealed: Uint8Array): Uint8Array | undefined {
  if (sealed.length !== SEALED_KEY_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', wrap, nonce(index));
    decipher.setAAD(aad(c, epoch));
    decipher.setAuthTag(sealed.subarray(16));
    return new Uint8Array(Buffer.concat([decipher.update(sealed.subarray(0, 16)), decipher.final()]));
  } catch {
    return undefined;
  }
}
