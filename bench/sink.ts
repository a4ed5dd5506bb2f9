// The receiving end of the live-frame benchmarks (bench/datapath.ts, bench/srv6.ts).
import type { BpfMap, BpfObject } from '../bpf/native';

/** The frames bench/baseline.bpf.c's xdp_sink has counted at the far end of a veth. */
export class Sink {
  private readonly sunk: BpfMap;
  constructor(base: BpfObject) {
    this.sunk = base.map('sunk');
  }

  total(): number {
    const v = this.sunk.lookup(Buffer.alloc(4)) as Buffer;
    let n = 0;
    for (let c = 0; c < this.sunk.possibleCpus; c++) n += Number(v.readBigUInt64LE(c * 8));
    return n;
  }

  /**
   * Frames per second that reached the sink while `send` ran and until the sink stopped
   * counting; frames the veth cannot queue are dropped there, so the rate counts what
   * arrived. Fails when fewer than half of `expected` arrived.
   */
  async rate(expected: number, send: () => void): Promise<number> {
    const before = this.total();
    const t0 = process.hrtime.bigint();
    send();
    let last = this.total();
    let lastAt = process.hrtime.bigint();
    for (;;) {
      await new Promise((r) => setTimeout(r, 2));
      const now = this.total();
      if (now === last) break;
      last = now;
      lastAt = process.hrtime.bigint();
    }
    if (last - before < expected / 2) throw new Error(`only ${last - before} of ${expected} frames reached the sink`);
    return (last - before) / (Number(lastAt - t0) / 1e9);
  }
}
