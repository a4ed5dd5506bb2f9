// AES-128 key expansion (FIPS-197 section 5.2) and the CMAC subkey K1, computed here so
// that the eBPF programs only run the cipher: the kernel gets the 44 round-key words and
// K1 in the as_config map and MACs a hop field with one block encryption.
import { cmacSubkeys } from '../scion/mac/cmac';

const SBOX = buildSbox();

function rotl8(x: number, s: number): number {
  return ((x << s) | (x >>> (8 - s))) & 0xff;
}

/** The S-box from its definition (multiplicative inverse in GF(2^8), then the affine map). */
function buildSbox(): Uint8Array {
  const sbox = new Uint8Array(256);
  let p = 1;
  let q = 1;
  sbox[0] = 0x63;
  do {
    p = (p ^ ((p << 1) & 0xff) ^ (p & 0x80 ? 0x1b : 0)) & 0xff;
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    sbox[p] = q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4) ^ 0x63;
  } while (p !== 1);
  return sbox;
}

function subWord(w: number): number {
  return (
    ((SBOX[w >>> 24] << 24) | (SBOX[(w >>> 16) & 0xff] << 16) | (SBOX[(w >>> 8) & 0xff] << 8) | SBOX[w & 0xff]) >>> 0
  );
}

/** The 44 round-key words of an AES-128 key, each word big-endian as FIPS-197 writes them. */
export function aes128RoundKeys(key: Uint8Array): Uint32Array {
  if (key.length !== 16) throw new RangeError(`AES-128 key must be 16 bytes, got ${key.length}`);
  const w = new Uint32Array(44);
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  for (let i = 0; i < 4; i++) w[i] = view.getUint32(i * 4);
  let rcon = 0x01;
  for (let i = 4; i < 44; i++) {
    let t = w[i - 1];
    if (i % 4 === 0) {
      t = (subWord(((t << 8) | (t >>> 24)) >>> 0) ^ (rcon << 24)) >>> 0;
      rcon = (rcon << 1) ^ (rcon & 0x80 ? 0x11b : 0);
    }
    w[i] = (w[i - 4] ^ t) >>> 0;
  }
  return w;
}

/** What the datapath needs to MAC hop fields under `key`. */
export function hopFieldKeyMaterial(key: Uint8Array): { roundKeys: Uint32Array; k1: Uint8Array } {
  return { roundKeys: aes128RoundKeys(key), k1: cmacSubkeys(key).k1 };
}
