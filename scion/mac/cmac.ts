// AES-CMAC (RFC 4493) over Node's AES block cipher. SCION MACs every hop field with
// AES-128-CMAC; the subkeys are exported on their own because the eBPF router cannot run
// the key schedule and gets K1/K2 (and the expanded key) computed here in user space.
import { createCipheriv, type Cipher } from 'node:crypto';
import { ScionError } from '../errors';

export const BLOCK_LEN = 16;

/** RFC 4493 section 2.3: the constant R_128 folded in when the shifted-out bit is 1. */
const RB = 0x87;

export interface CmacSubkeys {
  k1: Uint8Array;
  k2: Uint8Array;
}

function ecbCipher(key: Uint8Array): Cipher {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new ScionError('BAD_ARGUMENT', `AES key must be 16, 24 or 32 bytes, got ${key.length}`);
  }
  // ECB without padding is the raw block function; one instance can be fed block after block.
  const cipher = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
  cipher.setAutoPadding(false);
  return cipher;
}

/** One left shift of a 128-bit string, folding in Rb when the top bit falls out. */
function doubleBlock(block: Uint8Array): Uint8Array {
  const out = new Uint8Array(BLOCK_LEN);
  for (let i = 0; i < BLOCK_LEN; i++) {
    out[i] = ((block[i] << 1) | (i + 1 < BLOCK_LEN ? block[i + 1] >> 7 : 0)) & 0xff;
  }
  if (block[0] & 0x80) out[BLOCK_LEN - 1] ^= RB;
  return out;
}

function subkeysFrom(cipher: Cipher): CmacSubkeys {
  const l = cipher.update(new Uint8Array(BLOCK_LEN));
  const k1 = doubleBlock(l);
  return { k1, k2: doubleBlock(k1) };
}

/** RFC 4493 Generate_Subkey: K1 and K2 for `key`. */
export function cmacSubkeys(key: Uint8Array): CmacSubkeys {
  return subkeysFrom(ecbCipher(key));
}

/** A keyed AES-CMAC instance: the cipher and subkeys are set up once and reused per message. */
export class Cmac {
  private readonly cipher: Cipher;
  private readonly subkeys: CmacSubkeys;

  constructor(key: Uint8Array) {
    this.cipher = ecbCipher(key);
    this.subkeys = subkeysFrom(this.cipher);
  }

  /** The 16-byte tag of `message`. */
  compute(message: Uint8Array): Uint8Array {
    const blocks = Math.max(1, Math.ceil(message.length / BLOCK_LEN));
    const complete = message.length > 0 && message.length % BLOCK_LEN === 0;
    const lastStart = (blocks - 1) * BLOCK_LEN;
    const last = new Uint8Array(BLOCK_LEN);
    last.set(message.subarray(lastStart));
    if (!complete) last[message.length - lastStart] = 0x80;
    const sub = complete ? this.subkeys.k1 : this.subkeys.k2;
    for (let i = 0; i < BLOCK_LEN; i++) last[i] ^= sub[i];

    let x = new Uint8Array(BLOCK_LEN);
    const y = new Uint8Array(BLOCK_LEN);
    for (let b = 0; b < blocks; b++) {
      const block = b === blocks - 1 ? last : message.subarray(b * BLOCK_LEN, (b + 1) * BLOCK_LEN);
      for (let i = 0; i < BLOCK_LEN; i++) y[i] = x[i] ^ block[i];
      x = new Uint8Array(this.cipher.update(y));
    }
    return x;
  }
}

/** One-shot AES-CMAC of `message` under `key`. */
export function aesCmac(key: Uint8Array, message: Uint8Array): Uint8Array {
  return new Cmac(key).compute(message);
}
