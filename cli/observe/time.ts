// Times on the command line and on screen: --since/--until take RFC 3339 or a Go-style
// duration back from now ("5m", "1h30m"), and flows print in Hubble's time formats.
import type { Timestamp } from '../../proto/gen/google/protobuf/timestamp';

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

export const TIME_FORMATS = ['StampMilli', 'RFC3339', 'RFC3339Milli', 'RFC3339Micro', 'RFC3339Nano', 'RFC1123Z'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function offset(d: Date, colon: boolean): string {
  const off = -d.getTimezoneOffset();
  if (off === 0 && colon) return 'Z';
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${sign}${pad(Math.floor(a / 60))}${colon ? ':' : ''}${pad(a % 60)}`;
}

/** A timestamp in local time, in one of Go's layouts that Hubble offers. */
export function formatTime(ts: Timestamp | undefined, format: TimeFormat): string {
  if (!ts) return 'N/A';
  const d = new Date(Number(ts.seconds) * 1000);
  const nanos = pad(ts.nanos, 9);
  const hms = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  switch (format) {
    case 'StampMilli':
      return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${hms}.${nanos.slice(0, 3)}`;
    case 'RFC3339':
      return `${date}T${hms}${offset(d, true)}`;
    case 'RFC3339Milli':
      return `${date}T${hms}.${nanos.slice(0, 3)}${offset(d, true)}`;
    case 'RFC3339Micro':
      return `${date}T${hms}.${nanos.slice(0, 6)}${offset(d, true)}`;
    case 'RFC3339Nano':
      return `${date}T${hms}${ts.nanos ? `.${nanos.replace(/0+$/, '')}` : ''}${offset(d, true)}`;
    case 'RFC1123Z':
      return `${DAYS[d.getDay()]}, ${pad(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${hms} ${offset(d, false)}`;
  }
}

/** The protobuf JSON form of a Timestamp: UTC, with 0, 3, 6 or 9 fraction digits. */
export function timestampJson(ts: Timestamp): string {
  const base = new Date(Number(ts.seconds) * 1000).toISOString().slice(0, 19);
  const n = pad(ts.nanos, 9);
  const frac = ts.nanos === 0 ? '' : n.endsWith('000000') ? n.slice(0, 3) : n.endsWith('000') ? n.slice(0, 6) : n;
  return `${base}${frac ? `.${frac}` : ''}Z`;
}
