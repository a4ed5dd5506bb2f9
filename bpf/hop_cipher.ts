// The kernel side of hop-field MACs in router_kfunc.bpf.o: an ecb(aes) context per key,
// made by the hop_cipher_install syscall program and kept as a kptr in the hop_cipher map,
// and the load-time self-test that proves the XDP program can encrypt through it.
import { kernelLskcipherDriver } from './kernel_crypto';
import { createCipheriv, randomBytes } from 'node:crypto';
import type { AsConfig } from './maps';
import { BpfError, type BpfObject } from './native';
import { TypedMap } from './typed_map';

/** Slots of the hop_cipher map (bpf/include/lib/hop_cipher.h). */
const SLOT_LIVE = 0;
const SLOT_PROBE = 1;
const AES_BLOCK = 16;

/** How the router computes hop-field MACs; the loader's result and what metrics show. */
export interface HopMacReport {
  /** 'kfunc': the kernel's AES through the BPF crypto kfuncs; 'table': T-table AES in BPF. */
  method: 'kfunc' | 'table';
  /** The kernel's ecb(aes) implementation the kfuncs run, from /proc/crypto (kfunc only). */
  driver?: string;
  /** Why the table fallback is active: forced by the caller, or what the kernel refused. */
  reason?: string;
}

/** The raw AES key: FIPS-197's first four round-key words are the key itself. */
export function keyOfRoundKeys(roundKeys: Uint32Array): Buffer {
  const key = Buffer.alloc(AES_BLOCK);
  for (let i = 0; i < 4; i++) key.writeUInt32BE(roundKeys[i], 4 * i);
  return key;
}

/** The kernel's ecb(aes) the kfuncs run. */
export const kernelEcbAesDriver = (procCrypto?: string): string | undefined => kernelLskcipherDriver('ecb(aes)', procCrypto);

export class HopCipher {
  constructor(private readonly obj: BpfObject) {}

  /** Makes a context for `key` in `slot`, replacing (and releasing) the one there. */
  install(key: Uint8Array, slot = SLOT_LIVE): void {
    if (key.length !== AES_BLOCK) throw new RangeError(`AES-128 key must be 16 bytes, got ${key.length}`);
    const args = Buffer.alloc(20);
    args.set(key, 0);
    args.writeUInt32LE(slot, 16);
    const { retval } = this.obj.program('hop_cipher_install').runSyscall(args);
    if (retval !== 0) throw new BpfError('TEST_RUN_FAILED', `bpf_crypto_ctx_create(ecb(aes)) failed: errno ${-retval}`, -retval);
  }

  /**
   * Encrypts a random block under a random key from an XDP program and checks it against
   * Node's AES: proof that this kernel lets XDP call bpf_crypto_encrypt and that its
   * ecb(aes) is AES. Throws when not.
   */
  selfTest(): void {
    const key = randomBytes(AES_BLOCK);
    const block = randomBytes(AES_BLOCK);
    this.install(key, SLOT_PROBE);
    const frame = Buffer.concat([block, Buffer.alloc(48)]);
    const { retval, data } = this.obj.program('hop_cipher_probe').testRun(frame);
    const want = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false).update(block);
    if (retval !== 2 /* XDP_PASS */) throw new BpfError('TEST_RUN_FAILED', `the XDP cipher probe returned ${retval}: bpf_crypto_encrypt failed`);
    if (!data.subarray(0, AES_BLOCK).equals(want)) throw new BpfError('TEST_RUN_FAILED', 'the kernel ecb(aes) disagrees with AES-128 on a test block');
  }
}

/**
 * as_config for a router whose MACs run in the kernel: writing a key first gives the
 * cipher a context for it. On a key change, packets between the two map writes meet the
 * new key's context with the old K1 and fail their MAC, as during any key rotation.
 */
export class KeyedConfig extends TypedMap<0, AsConfig> {
  constructor(
    inner: TypedMap<0, AsConfig>,
    private readonly cipher: HopCipher,
  ) {
    super(inner.raw, ...inner.codecs());
  }

  override set(k: 0, v: AsConfig): void {
    if (v.key) this.cipher.install(keyOfRoundKeys(v.key.roundKeys));
    super.set(k, v);
  }

  override setMany(entries: ReadonlyArray<readonly [0, AsConfig]>): void {
    for (const [, v] of entries) if (v.key) this.cipher.install(keyOfRoundKeys(v.key.roundKeys));
    super.setMany(entries);
  }
}
