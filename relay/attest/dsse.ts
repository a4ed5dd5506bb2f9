// DSSE envelopes (secure-systems-lab/dsse v1) carrying in-toto statements: the signature is
// over PAE(payloadType, payload), never over the JSON envelope, so re-encoding the envelope
// cannot change what was signed.
import type { KeyObject } from 'node:crypto';
import { keyId, signBytes, verifyBytes } from './keys';
import { pae } from './pae';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface EnvelopeSignature {
  keyid: string;
  sig: string;
}

export interface Envelope {
  payload: string;
  payloadType: string;
  signatures: EnvelopeSignature[];
}

export class EnvelopeError extends Error {}

export function signEnvelope(payload: Buffer, payloadType: string, keys: KeyObject[]): Envelope {
  const message = pae(payloadType, payload);
  return {
    payload: payload.toString('base64'),
    payloadType,
    signatures: keys.map((k) => ({ keyid: keyId(k), sig: signBytes(k, message).toString('base64') })),
  };
}

/** Standard or URL-safe alphabet, as the DSSE spec allows both; Node's decoder reads either. */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function base64(text: unknown, what: string): Buffer {
  if (typeof text !== 'string' || !BASE64.test(text)) throw new EnvelopeError(`${what} is not base64`);
  return Buffer.from(text, 'base64');
}

/** The envelope's fields, checked for shape; throws EnvelopeError naming what is wrong. */
export function parseEnvelope(text: string | Buffer): Envelope {
  let raw: unknown;
  try {
    raw = JSON.parse(text.toString());
  } catch (e) {
    throw new EnvelopeError(`not JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new EnvelopeError('not a JSON object');
  const o = raw as Record<string, unknown>;
  if (typeof o.payload !== 'string') throw new EnvelopeError('payload is missing');
  if (typeof o.payloadType !== 'string') throw new EnvelopeError('payloadType is missing');
  if (!Array.isArray(o.signatures) || o.signatures.length === 0) throw new EnvelopeError('signatures is missing or empty');
  base64(o.payload, 'payload');
  const signatures = o.signatures.map((s: unknown, i) => {
    const sig = (s ?? {}) as Record<string, unknown>;
    if (typeof sig.sig !== 'string') throw new EnvelopeError(`signatures[${i}].sig is missing`);
    return { keyid: typeof sig.keyid === 'string' ? sig.keyid : '', sig: sig.sig };
  });
  return { payload: o.payload, payloadType: o.payloadType, signatures };
}

export function envelopePayload(env: Envelope): Buffer {
  return base64(env.payload, 'payload');
}

/**
 * The keyids of the distinct keys among `keys` that signed: each signature is credited to
 * at most one key and each key counts once, so t of them are t independent signers. keyid
 * in a signature is only an unauthenticated hint, so every signature is tried against
 * every key. `payload` is the envelope's own, when the caller has decoded it already.
 */
export function verifyEnvelope(env: Envelope, keys: KeyObject[], payload = envelopePayload(env)): string[] {
  const message = pae(env.payloadType, payload);
  const signers: string[] = [];
  const used = new Set<number>();
  for (const key of keys) {
    const id = keyId(key);
    if (signers.includes(id)) continue;
    for (let i = 0; i < env.signatures.length; i++) {
      if (used.has(i)) continue;
      let sig: Buffer;
      try {
        sig = base64(env.signatures[i].sig, 'sig');
      } catch {
        continue;
      }
      if (verifyBytes(key, message, sig)) {
        signers.push(id);
        used.add(i);
        break;
      }
    }
  }
  return signers;
}

/** The envelope with one more signature per key over the same payload. */
export function addSignatures(env: Envelope, keys: KeyObject[]): Envelope {
  const message = pae(env.payloadType, envelopePayload(env));
  return { ...env, signatures: [...env.signatures, ...keys.map((k) => ({ keyid: keyId(k), sig: signBytes(k, message).toString('base64') }))] };
}
