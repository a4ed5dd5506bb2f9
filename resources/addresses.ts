// IP prefixes and underlay endpoints as resources spell them. A prefix with host bits set
// is refused rather than masked: "10.65.1.0/16" is more likely a typo than an intent.
import { isIPv4, isIPv6 } from 'node:net';

export interface IpPrefix {
  family: 4 | 6;
  /** The network address as written (already canonical: host bits are zero). */
  address: string;
  length: number;
}

function v4Bits(a: string): bigint {
  return a.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
}

function v6Bits(a: string): bigint {
  let text = a;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    // Trailing dotted quad (::ffff:192.0.2.1) stands for the last two groups.
    const v4 = v4Bits(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const hs = head ? head.split(':') : [];
  const ts = tail ? tail.split(':') : [];
  const groups = tail === undefined ? hs : [...hs, ...Array<string>(8 - hs.length - ts.length).fill('0'), ...ts];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** Parses "a.b.c.d/n" or "x:y::/n"; returns the problem as a string when it is not a canonical prefix. */
export function parsePrefix(text: string): IpPrefix | string {
  const slash = text.indexOf('/');
  if (slash < 0) return `"${text}" is not a prefix: expected address/length`;
  const address = text.slice(0, slash);
  const lenText = text.slice(slash + 1);
  const family = isIPv4(address) ? 4 : isIPv6(address) && !address.includes('%') ? 6 : undefined;
  if (family === undefined) return `"${address}" is not an IPv4 or IPv6 address`;
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) return `prefix length "${lenText}" must be 0-${max}`;
  const length = Number(lenText);
  const bits = family === 4 ? v4Bits(address) : v6Bits(address);
  const hostMask = (1n << BigInt(max - length)) - 1n;
  if ((bits & hostMask) !== 0n) return `"${text}" has host bits set after /${length}`;
  return { family, address, length };
}

/** Parses an underlay endpoint "ip:port" or "[ipv6]:port"; returns the problem as a string. */
export function parseHostPort(text: string): { host: string; port: number } | string {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (!m) return `"${text}" is not host:port (write IPv6 hosts as [addr]:port)`;
  const [, host, portText] = m as unknown as [string, string, string];
  const port = Number(portText);
  if (port < 1 || port > 65535) return `port ${portText} must be 1-65535`;
  if (text.startsWith('[') ? !isIPv6(host) : !(isIPv4(host) || /^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$/.test(host))) {
    return `"${host}" is not an IP address or host name`;
  }
  return { host, port };
}

/** An underlay address must be a literal IP: the datapath writes it into packet headers. */
export function parseIpPort(text: string): { host: string; port: number } | string {
  const hp = parseHostPort(text);
  if (typeof hp === 'string') return hp;
  return isIPv4(hp.host) || isIPv6(hp.host) ? hp : `"${hp.host}" is not an IP address`;
}
