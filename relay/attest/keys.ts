// Signing keys for attestations: Ed25519 or ECDSA P-256, in PEM. ECDSA signatures are
// DER-encoded (ASN.1 SEQUENCE of r and s) over SHA-256, the form in-toto and sigstore
// tooling expects. A key's id is the lowercase hex SHA-256 of its SubjectPublicKeyInfo DER.
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export type KeyAlgorithm = 'ed25519' | 'ecdsa-p256';

export class KeyError extends Error {}

export function keyAlgorithm(key: KeyObject): KeyAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ecdsa-p256';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  throw new KeyError(`unsupported key type ${key.asymmetricKeyType ?? '?'}${curve ? ` (${curve})` : ''}: use Ed25519 or ECDSA P-256`);
}

export function privateKeyFromPem(pem: string | Buffer): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    throw new KeyError(`not a PEM private key: ${(e as Error).message}`);
  }
  keyAlgorithm(key);
  return key;
}

/** A public key from a public or a private PEM (the public half is taken). */
export function publicKeyFromPem(pem: string | Buffer): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (e) {
    throw new KeyError(`not a PEM public key: ${(e as Error).message}`);
  }
  keyAlgorithm(key);
  return key;
}

/** A key read from a PEM file with `load`; every failure is a KeyError naming the file. */
export async function keyFromFile(path: string, load: (pem: Buffer) => KeyObject): Promise<KeyObject> {
  let pem: Buffer;
  try {
    pem = await readFile(path);
  } catch (e) {
    throw new KeyError(`cannot read key ${path}: ${(e as Error).message}`);
  }
  try {
    return load(pem);
  } catch (e) {
    throw new KeyError(`${path}: ${(e as Error).message}`);
  }
}

export function keyId(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex');
}

export function signBytes(key: KeyObject, data: Buffer): Buffer {
  return keyAlgorithm(key) === 'ed25519' ? sign(null, data, key) : sign('sha256', data, { key, dsaEncoding: 'der' });
}

export function verifyBytes(key: KeyObject, data: Buffer, signature: Buffer): boolean {
  try {
    return keyAlgorithm(key) === 'ed25519'
      ? verify(null, data, key, signature)
      : verify('sha256', data, { key, dsaEncoding: 'der' }, signature);
  } catch {
    // A malformed DER signature throws rather than failing; to the caller it is just a bad signature.
    return false;
  }
}
