// Reads an evidence line straight from its bytes, for verify: the line must be in the one
// canonical layout (canonical_flow.ts: keys in order at every level, no whitespace) with
// strings that need no escape and integers in their shortest form, and only the fields the
// checks use come out as values. Every line it accepts is one parseEvidenceLine accepts
// (JSON, exact keys, documented types, and JSON.stringify of the parsed value gives the
// line back); any other line, a canonical one with an escaped character included, it
// leaves to parseEvidenceLine, which decides and names what is wrong. So the checks are
// those of the full parse, without a JavaScript object per line and without re-encoding it.
import type { FenceVerdictName } from './canonical_flow';

/** What the checks read of a line. Reused from line to line: copy what must outlive the next. */
export interface ScannedLine {
  time: string;
  uuid: string;
  path: string;
  packets: string | null;
  bytes: string | null;
  fence: { verdict: FenceVerdictName; name: string; reason: string } | null;
  /** The source labels as their JSON array text, e.g. ["k8s:app=web"]. */
  srcLabels: string;
  /** Whether the line has a byte above 0x7f (its text then needs a UTF-8 check). */
  wide: boolean;
}

const bytesOf = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

const K = {
  bytes: bytesOf('{"bytes":'),
  dst: bytesOf(',"dst":'),
  dstIp: bytesOf(',"dstIp":'),
  dstPort: bytesOf(',"dstPort":'),
  fence: bytesOf(',"fence":'),
  node: bytesOf(',"node":'),
  packets: bytesOf(',"packets":'),
  path: bytesOf(',"path":'),
  point: bytesOf(',"point":'),
  proto: bytesOf(',"proto":'),
  src: bytesOf(',"src":'),
  srcIp: bytesOf(',"srcIp":'),
  srcPort: bytesOf(',"srcPort":'),
  time: bytesOf(',"time":'),
  uuid: bytesOf(',"uuid":'),
  verdict: bytesOf(',"verdict":'),
  cluster: bytesOf('{"cluster":'),
  identity: bytesOf(',"identity":'),
  labels: bytesOf(',"labels":['),
  namespace: bytesOf(',"namespace":'),
  pod: bytesOf(',"pod":'),
  workload: bytesOf(',"workload":'),
  name: bytesOf('{"name":'),
  reason: bytesOf(',"reason":'),
  fenceVerdict: bytesOf(',"verdict":'),
  null: bytesOf('null'),
};

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const FENCE_VERDICTS: readonly FenceVerdictName[] = ['COMPLIANT', 'VIOLATION', 'UNVERIFIED'];
/** Longest run of digits whose value a double holds exactly (below 2^53): written back as the same digits. */
const EXACT_DIGITS = 15;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;

export class LineScanner {
  private b: Buffer = Buffer.alloc(0);
  private p = 0;
  private end = 0;
  private wide = false;
  private readonly out: ScannedLine = { time: '', uuid: '', path: '', packets: null, bytes: null, fence: null, srcLabels: '', wide: false };

  /** The line buf[start, end), or undefined when the fast form does not hold and the full parse must decide. */
  scan(buf: Buffer, start: number, end: number): ScannedLine | undefined {
    this.b = buf;
    this.p = start;
    this.end = end;
    this.wide = false;
    const o = this.out;
    if (!this.lit(K.bytes)) return undefined;
    const bytes = this.count();
    if (bytes === undefined || !this.lit(K.dst) || !this.endpoint() || !this.lit(K.dstIp) || !this.skipString() || !this.lit(K.dstPort) || !this.uint()) return undefined;
    if (!this.lit(K.fence)) return undefined;
    let fence: ScannedLine['fence'];
    if (this.lit(K.null)) fence = null;
    else {
      if (!this.lit(K.name)) return undefined;
      const name = this.string();
      if (name === undefined || !this.lit(K.reason)) return undefined;
      const reason = this.string();
      if (reason === undefined || !this.lit(K.fenceVerdict)) return undefined;
      const verdict = this.string() as FenceVerdictName | undefined;
      if (verdict === undefined || !FENCE_VERDICTS.includes(verdict) || !this.byte(0x7d)) return undefined;
      fence = { verdict, name, reason };
    }
    if (!this.lit(K.node) || !this.skipString() || !this.lit(K.packets)) return undefined;
    const packets = this.count();
    if (packets === undefined || (packets === null) !== (bytes === null) || !this.lit(K.path)) return undefined;
    const path = this.string();
    if (path === undefined || !this.lit(K.point) || !this.skipString() || !this.lit(K.proto) || !this.skipString() || !this.lit(K.src)) return undefined;
    const srcLabels = this.endpoint();
    if (srcLabels === undefined || !this.lit(K.srcIp) || !this.skipString() || !this.lit(K.srcPort) || !this.uint() || !this.lit(K.time)) return undefined;
    const time = this.string();
    if (time === undefined || !TIME.test(time) || !this.lit(K.uuid)) return undefined;
    const uuid = this.string();
    if (uuid === undefined || !this.lit(K.verdict) || !this.skipString() || !this.byte(0x7d) || this.p !== end) return undefined;
    o.time = time;
    o.uuid = uuid;
    o.path = path;
    o.packets = packets;
    o.bytes = bytes;
    o.fence = fence;
    o.srcLabels = srcLabels;
    o.wide = this.wide;
    return o;
  }

  private lit(k: Uint8Array): boolean {
    const b = this.b;
    const p = this.p;
    if (p + k.length > this.end) return false;
    for (let i = 0; i < k.length; i++) if (b[p + i] !== k[i]) return false;
    this.p = p + k.length;
    return true;
  }

  private byte(c: number): boolean {
    if (this.p >= this.end || this.b[this.p] !== c) return false;
    this.p++;
    return true;
  }

  /** Past a string with no escape and no control character; false otherwise. */
  private skipString(): boolean {
    const b = this.b;
    let p = this.p;
    if (p >= this.end || b[p] !== QUOTE) return false;
    for (p++; p < this.end; p++) {
      const c = b[p];
      if (c === QUOTE) {
        this.p = p + 1;
        return true;
      }
      if (c < 0x20 || c === BACKSLASH) return false;
      if (c > 0x7f) this.wide = true;
    }
    return false;
  }

  private string(): string | undefined {
    const from = this.p + 1;
    const wide = this.wide;
    this.wide = false;
    if (!this.skipString()) return undefined;
    const text = this.b.toString(this.wide ? 'utf8' : 'latin1', from, this.p - 1);
    this.wide ||= wide;
    return text;
  }

  /** A non-negative integer as JSON.stringify writes it, short enough to be exact. */
  private uint(): boolean {
    const b = this.b;
    const from = this.p;
    let p = from;
    while (p < this.end && b[p] >= 0x30 && b[p] <= 0x39) p++;
    const n = p - from;
    if (n === 0 || n > EXACT_DIGITS || (n > 1 && b[from] === 0x30)) return false;
    this.p = p;
    return true;
  }

  /** null, or a decimal count in quotes; undefined when neither. */
  private count(): string | null | undefined {
    if (this.lit(K.null)) return null;
    const b = this.b;
    const from = this.p + 1;
    if (!this.byte(QUOTE)) return undefined;
    let p = from;
    while (p < this.end && b[p] >= 0x30 && b[p] <= 0x39) p++;
    if (p === from || (p - from > 1 && b[from] === 0x30) || p >= this.end || b[p] !== QUOTE) return undefined;
    this.p = p + 1;
    return b.toString('latin1', from, p);
  }

  /** An endpoint object; its labels as JSON array text. */
  private endpoint(): string | undefined {
    if (!this.lit(K.cluster) || !this.skipString() || !this.lit(K.identity) || !this.uint() || !this.lit(K.labels)) return undefined;
    const from = this.p - 1;
    if (!this.byte(0x5d)) {
      do if (!this.skipString()) return undefined;
      while (this.byte(0x2c));
      if (!this.byte(0x5d)) return undefined;
    }
    const labels = this.b.toString('utf8', from, this.p);
    if (!this.lit(K.namespace) || !this.skipString() || !this.lit(K.pod) || !this.skipString() || !this.lit(K.workload) || !this.skipString() || !this.byte(0x7d)) return undefined;
    return labels;
  }
}
