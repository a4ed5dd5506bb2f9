// --since/--until as `cillion observe`, `cillion attest` and the web UI take them: RFC 3339
// or a Go-style duration back from now ("5m", "1h30m").
import type { Timestamp } from '../proto/gen/google/protobuf/timestamp';

const UNIT_NS: Record<string, bigint> = { ns: 1n, us: 1000n, µs: 1000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };

/** A Go duration ("1h30m", "90s", "1.5h") in nanoseconds, or null. */
export function parseDuration(text: string): bigint | null {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0n;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return null;
    const [whole, frac = ''] = m[1].split('.');
    const unit = UNIT_NS[m[2]];
    total += BigInt(whole) * unit + (frac ? (BigInt(frac) * unit) / 10n ** BigInt(frac.length) : 0n);
    pos = re.lastIndex;
  }
  return pos > 0 ? total : null;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/** RFC 3339 (nanoseconds kept) or a duration before `now`; null when it is neither. */
export function parseTimeArg(text: string, now: Date): Timestamp | null {
  const m = RFC3339.exec(text);
  if (m) {
    const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[8].toUpperCase()}`);
    if (Number.isNaN(ms)) return null;
    return { seconds: BigInt(ms / 1000), nanos: Number((m[7] ?? '').padEnd(9, '0')) };
  }
  const d = parseDuration(text);
  if (d === null) return null;
  const ns = BigInt(now.getTime()) * 1_000_000n - d;
  const sec = ns / 1_000_000_000n - (ns % 1_000_000_000n < 0n ? 1n : 0n);
  return { seconds: sec, nanos: Number(ns - sec * 1_000_000_000n) };
}
