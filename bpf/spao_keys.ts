// The SPAO keys of edge_kfunc.bpf.o (bpf/include/lib/spao.h): each DatapathKey becomes a
// cbc(aes) context made by the spao_key_install syscall program, with its CMAC subkeys and
// validity, in one of three slots per (peer AS, direction). Also the loader's self-test
// that proves XDP computes AES-CMAC through the kernel cipher.
import { kernelLskcipherDriver } from './kernel_crypto';
import { createCipheriv, randomBytes } from 'node:crypto';
import { cmacSubkeys } from '../scion/mac/cmac';
import type { DatapathKey, DatapathKeyTable } from './key_table';
import { BpfError, type BpfObject } from './native';

const SLOTS = 3;
const AES_BLOCK = 16;
const DIR = { tx: 0, rx: 1 } as const;
/** The self-test key's place: peer IA 0, tx (CIL_SPAO_PROBE_IA). */
const PROBE_IA = 0n;
const INSTALL_LEN = 88;

/** Whether the edge authenticates (the loader's result, for status and metrics). */
export interface SpaoReport {
  state: 'on' | 'off';
  /** The kernel's cbc(aes) implementation the kfuncs run (on only). */
  driver?: string;
  /** Why authentication is off: not asked for, or what the kernel refused. */
  reason?: string;
  /** The acceptance window's full width in ns (on only). */
  windowNs?: bigint;
}

/** The kernel's cbc(aes) the kfuncs run. */
export const kernelCbcAesDriver = (procCrypto?: string): string | undefined => kernelLskcipherDriver('cbc(aes)', procCrypto);

export class SpaoKeyError extends Error {
  override readonly name = 'SpaoKeyError';
  constructor(
    readonly code: 'BAD_KEY' | 'INSTALL_FAILED',
    message: string,
  ) {
    super(message);
  }
}

function keyId(peerIa: bigint, dir: 'tx' | 'rx', slot: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(peerIa, 0);
  b.writeUInt32LE(DIR[dir], 8);
  b.writeUInt32LE(slot, 12);
  return b;
}

/** struct cil_spao_install. */
function installArgs(k: DatapathKey, slot: number): Buffer {
  const { k1, k2 } = cmacSubkeys(k.key);
  const b = Buffer.alloc(INSTALL_LEN);
  b.writeBigUInt64LE(k.peerIa, 0);
  b.writeUInt32LE(DIR[k.dir], 8);
  b.writeUInt32LE(slot, 12);
  b.writeBigInt64LE(k.epochBeginNs, 16);
  b.writeBigInt64LE(k.notAfterNs, 24);
  b.writeUInt32LE(k.clusterId, 32);
  b.set(k.key, 40);
  b.set(k1, 56);
  b.set(k2, 72);
  return b;
}

function checkKey(k: DatapathKey): void {
  if (!(k.key instanceof Uint8Array) || k.key.length !== AES_BLOCK) throw new SpaoKeyError('BAD_KEY', `SPAO key must be 16 bytes, got ${k.key?.length}`);
  if (k.dir !== 'tx' && k.dir !== 'rx') throw new SpaoKeyError('BAD_KEY', `direction must be tx or rx, got ${String(k.dir)}`);
  if (typeof k.peerIa !== 'bigint' || k.peerIa < 0n || k.peerIa >= 1n << 64n) throw new SpaoKeyError('BAD_KEY', 'peer IA must be a 64-bit value');
  if (k.notAfterNs <= k.epochBeginNs || k.epochBeginNs < 0n) throw new SpaoKeyError('BAD_KEY', `validity ${k.epochBeginNs}..${k.notAfterNs} is empty`);
  if (!Number.isInteger(k.clusterId) || k.clusterId < 0 || k.clusterId > 255) throw new SpaoKeyError('BAD_KEY', `cluster id ${k.clusterId} outside 0-255`);
}

type Entry = Omit<DatapathKey, 'key'> & { slot: number };

/**
 * The datapath's key table. Up to three epochs per (peer, direction); a fourth replaces
 * the one whose epoch began first. The table of what is installed lives here (the kernel
 * map holds contexts, which user space cannot read back); the loader clears the pinned
 * map, so a restarted agent starts empty and puts its keys again.
 */
export class SpaoKeyTable implements DatapathKeyTable {
  private readonly entries = new Map<string, Entry[]>();

  constructor(private readonly obj: BpfObject) {}

  /** Deletes every key in the (pinned) map: what a previous process installed is not known here. */
  clear(): void {
    const map = this.obj.map('spao_keys');
    for (const [k] of map.dump()) map.delete(k);
    this.entries.clear();
  }

  list(): Omit<DatapathKey, 'key'>[] {
    return [...this.entries.values()].flat().map(({ slot: _slot, ...e }) => e);
  }

  put(k: DatapathKey): void {
    checkKey(k);
    const group = `${k.peerIa}/${k.dir}`;
    const held = this.entries.get(group) ?? [];
    const same = held.find((e) => e.epochBeginNs === k.epochBeginNs);
    const free = Array.from({ length: SLOTS }, (_, i) => i).find((s) => !held.some((e) => e.slot === s));
    const oldest = [...held].sort((a, b) => (a.epochBeginNs < b.epochBeginNs ? -1 : 1))[0];
    const slot = same?.slot ?? free ?? oldest.slot;
    this.install(k, slot);
    const entry: Entry = { peerIa: k.peerIa, dir: k.dir, epochBeginNs: k.epochBeginNs, notAfterNs: k.notAfterNs, clusterId: k.clusterId, slot };
    this.entries.set(group, [...held.filter((e) => e.slot !== slot), entry]);
  }

  remove(peerIa: bigint, dir: 'tx' | 'rx', epochBeginNs: bigint): void {
    const group = `${peerIa}/${dir}`;
    const held = this.entries.get(group) ?? [];
    const e = held.find((x) => x.epochBeginNs === epochBeginNs);
    if (!e) return;
    this.obj.map('spao_keys').delete(keyId(peerIa, dir, e.slot));
    const rest = held.filter((x) => x !== e);
    if (rest.length) this.entries.set(group, rest);
    else this.entries.delete(group);
  }

  private install(k: DatapathKey, slot: number): void {
    const { retval } = this.obj.program('spao_key_install').runSyscall(installArgs(k, slot));
    if (retval !== 0) throw new SpaoKeyError('INSTALL_FAILED', `bpf_crypto_ctx_create(cbc(aes)) for slot ${slot} failed: errno ${-retval}`);
  }

  /**
   * Computes AES-CMAC of a random message from XDP under a random key and checks it against
   * Node's: proof that this kernel lets XDP run cbc(aes) through bpf_crypto_encrypt and that
   * the last-block rule matches RFC 4493. Throws when not.
   */
  selfTest(): void {
    const key = randomBytes(AES_BLOCK);
    const far = 1n << 62n;
    this.install({ peerIa: PROBE_IA, dir: 'tx', epochBeginNs: 0n, notAfterNs: far, clusterId: 0, key }, 0);
    try {
      for (const len of [64, 77]) {
        const msg = randomBytes(len);
        const { retval, data } = this.obj.program('spao_probe').testRun(msg);
        if (retval !== 2 /* XDP_PASS */) throw new BpfError('TEST_RUN_FAILED', `the XDP CMAC probe returned ${retval}: bpf_crypto_encrypt failed`);
        if (!data.subarray(0, AES_BLOCK).equals(Buffer.from(aesCmac(key, msg)))) {
          throw new BpfError('TEST_RUN_FAILED', `the kernel's cbc(aes) CMAC disagrees with AES-CMAC on a ${len}-byte message`);
        }
      }
    } finally {
      this.obj.map('spao_keys').delete(keyId(PROBE_IA, 'tx', 0));
    }
  }
}

/** RFC 4493 AES-CMAC, written from CBC so the probe is checked against a second construction. */
function aesCmac(key: Uint8Array, msg: Uint8Array): Uint8Array {
  const { k1, k2 } = cmacSubkeys(key);
  const n = Math.max(1, Math.ceil(msg.length / AES_BLOCK));
  const buf = Buffer.alloc(n * AES_BLOCK);
  buf.set(msg);
  const complete = msg.length > 0 && msg.length % AES_BLOCK === 0;
  if (!complete) buf[msg.length] = 0x80;
  const sub = complete ? k1 : k2;
  for (let i = 0; i < AES_BLOCK; i++) buf[buf.length - AES_BLOCK + i] ^= sub[i];
  const c = createCipheriv('aes-128-cbc', key, Buffer.alloc(AES_BLOCK)).setAutoPadding(false).update(buf);
  return c.subarray(c.length - AES_BLOCK);
}
