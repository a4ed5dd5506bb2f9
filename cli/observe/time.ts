// Times on screen: flows print in Hubble's time formats (--since/--until are parsed by
// observer/time_arg.ts, shared with the web UI).
import type { Timestamp } from '../../proto/gen/google/protobuf/timestamp';

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
