// The DRKey PRF (drkey.rst, "PRF derivation specification"): AES-CBC-MAC with a zero IV
// over the input zero-padded to whole blocks. Plain CBC-MAC is safe here only because
// every input field has a fixed size except the host address, whose length comes first.
import { createCipheriv } from 'node:crypto';
import { DrkeyError } from './errors';

export const KEY_LEN = 16;
const BLOCK = 16;
const ZERO_IV = new Uint8Array(BLOCK);

export function checkKey(key: unknown, what = 'key'): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== KEY_LEN) {
    throw new DrkeyError('BAD_SECRET', `${what} must be ${KEY_LEN} bytes`);
  }
  return key;
}

/** PRF_key(input): the last block of the AES-128-CBC encryption of the zero-padded input. */
export function drkeyPrf(key: Uint8Array, input: Uint8Array): Uint8Array {
  checkKey(key);
  const padded = new Uint8Array(Math.max(1, Math.ceil(input.length / BLOCK)) * BLOCK);
  padded.set(input);
  const cipher = createCipheriv('aes-128-cbc', key, ZERO_IV);
  cipher.setAutoPadding(false);
  const out = Buffer.concat([cipher.update(padded), cipher.final()]);
  return new Uint8Array(out.subarray(out.length - BLOCK));
}
