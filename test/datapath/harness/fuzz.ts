// What the datapath fuzz tests share (fuzz.test.ts for the SCION programs,
// srv6_fuzz.test.ts for the SRv6 ones): a seeded PRNG, header-field corruption, test-run
// contexts and the kernel log check.
import { execFileSync } from 'node:child_process';
import { ETH_HLEN, ETH_P_IP } from './frames';

/** mulberry32: small, fast, and the same sequence on every machine for a given seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  int(n: number): number {
    return this.u32() % n;
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.u32() / 2 ** 32 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.u32();
      for (let k = 0; k < 4 && i + k < n; k++) b[i + k] = v >>> (8 * k);
    }
    return b;
  }
}

/** A header field a mutation corrupts on purpose. */
export interface Field {
  name: string;
  off: number;
  size: number;
}

export const INTERESTING = [0, 1, 2, 3, 4, 0x3f, 0x40, 0x7f, 0x80, 0xfe, 0xff];

/** Writes a boundary, off-by-a-little or random value into a header field. */
export function corruptField(rng: Rng, f: Buffer, field: Field): void {
  if (field.off + field.size > f.length) return;
  if (field.size > 2) {
    if (rng.chance(0.5)) rng.bytes(field.size).copy(f, field.off);
    else f.fill(rng.pick([0, 0xff]), field.off, field.off + field.size);
    return;
  }
  const max = field.size === 1 ? 0xff : 0xffff;
  const cur = field.size === 1 ? f[field.off] : f.readUInt16BE(field.off);
  const choices = [
    () => rng.pick(INTERESTING),
    () => max,
    () => cur + rng.range(-4, 4),
    () => cur ^ (1 << rng.int(8 * field.size)),
    () => rng.int(max + 1),
  ];
  const v = (rng.pick(choices)() + max + 1) & max;
  if (field.size === 1) f[field.off] = v;
  else f.writeUInt16BE(v, field.off);
}

/** struct xdp_md: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex. */
export function xdpCtx(ifindex: number, len: number): Buffer {
  const c = Buffer.alloc(24);
  c.writeUInt32LE(len, 4);
  c.writeUInt32LE(ifindex, 12);
  return c;
}

// struct __sk_buff: a SCHED_CLS test run accepts only mark, priority, ingress_ifindex,
// ifindex, cb, tstamp, wire_len, gso_segs, gso_size and hwtstamp; the rest stays zero.
const SKB_SIZE = 192;
const SKB_IFINDEX = 40;
const SKB_WIRE_LEN = 160;
const SKB_GSO_SEGS = 164;
const SKB_GSO_SIZE = 176;

export function skbCtx(ifindex: number, opts: { gsoSegs?: number; gsoSize?: number; wireLen?: number } = {}): Buffer {
  const c = Buffer.alloc(SKB_SIZE);
  c.writeUInt32LE(ifindex, SKB_IFINDEX);
  c.writeUInt32LE(opts.wireLen ?? 0, SKB_WIRE_LEN);
  c.writeUInt32LE(opts.gsoSegs ?? 0, SKB_GSO_SEGS);
  c.writeUInt32LE(opts.gsoSize ?? 0, SKB_GSO_SIZE);
  return c;
}

/**
 * A SCHED_CLS test run refuses (EINVAL) an IPv4 or IPv6 frame shorter than its network
 * header, so such frames are padded with random bytes up to that size.
 */
export function tcRunnable(rng: Rng, frame: Buffer): Buffer {
  const type = frame.readUInt16BE(12);
  const min = type === ETH_P_IP ? ETH_HLEN + 20 : type === 0x86dd ? ETH_HLEN + 40 : 0;
  return frame.length >= min ? frame : Buffer.concat([frame, rng.bytes(min - frame.length)]);
}

export function hex(b: Buffer): string {
  return b.toString('hex');
}

export function kernelWarnings(): string[] {
  return execFileSync('dmesg', [], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /WARNING:|BUG:|Oops|Call Trace|general protection/.test(l));
}
