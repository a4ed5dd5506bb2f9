// Host addresses as DRKey Level 2/3 inputs take them: the 4-bit type/length of the SCION
// common header's DT/DL (padded to a byte), then the address bytes as in the address header.
import { isIPv4, isIPv6 } from 'node:net';
import { hostAddrBytes, hostAddrTypeLen } from '../header/address';
import type { HostAddr } from '../packet';
import { ScionError } from '../errors';
import { DrkeyError } from './errors';

/** typeLen byte followed by the raw address. */
export function encodeDrkeyHost(host: HostAddr): Uint8Array {
  let typeLen: number;
  try {
    typeLen = hostAddrTypeLen(host, 'host');
  } catch (e) {
    if (e instanceof ScionError) throw new DrkeyError('BAD_HOST', e.message);
    throw e;
  }
  const raw = hostAddrBytes(host);
  const out = new Uint8Array(1 + raw.length);
  out[0] = typeLen;
  out.set(raw, 1);
  return out;
}

/** An IPv4 or IPv6 literal as a SCION host address (IPv4-mapped IPv6 stays IPv6). */
export function parseHostIp(text: string): HostAddr {
  if (isIPv4(text)) return { kind: 'IPv4', bytes: new Uint8Array(text.split('.').map(Number)) };
  if (isIPv6(text)) return { kind: 'IPv6', bytes: ipv6Bytes(text) };
  throw new DrkeyError('BAD_HOST', `"${text}" is not an IPv4 or IPv6 address`);
}

/** Bytes of an IPv6 literal that isIPv6 accepted ("::" and a dotted IPv4 tail allowed). */
function ipv6Bytes(text: string): Uint8Array {
  const out = new Uint8Array(16);
  let s = text;
  const last = s.lastIndexOf(':');
  const v4 = s.includes('.', last) ? s.slice(last + 1).split('.').map(Number) : undefined;
  // The dotted tail stands for the last two groups.
  if (v4) s = `${s.slice(0, last + 1)}0:0`;
  const halves = s.split('::');
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1].split(':') : [];
  const groups = halves.length === 2 ? [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  if (v4) out.set(v4, 12);
  return out;
}
