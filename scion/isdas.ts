// ISD-AS identifiers: a 16-bit ISD and a 48-bit AS packed into one 64-bit value.
// Text forms per the SCION addressing spec: "1-64512" (BGP-style decimal AS, below 2^32),
// "1-ff00:0:110" (three 16-bit hex groups), "1-ff00_0_110" (file-name form), 0 = wildcard.
import { ScionError } from './errors';

export type IA = bigint;

export const MAX_ISD = 0xffff;
export const MAX_AS = (1n << 48n) - 1n;
const MAX_BGP_AS = (1n << 32n) - 1n;

export function makeIA(isd: number, as: bigint): IA {
  if (!Number.isInteger(isd) || isd < 0 || isd > MAX_ISD) {
    throw new ScionError('BAD_ISD_AS', `ISD ${isd} out of range 0-${MAX_ISD}`);
  }
  if (as < 0n || as > MAX_AS) throw new ScionError('BAD_ISD_AS', `AS ${as} out of range`);
  return (BigInt(isd) << 48n) | as;
}

export function isdOf(ia: IA): number {
  return Number(ia >> 48n);
}

export function asOf(ia: IA): bigint {
  return ia & MAX_AS;
}

export function parseISD(text: string): number {
  if (!/^\d+$/.test(text)) throw new ScionError('BAD_ISD_AS', `ISD "${text}" is not a decimal number`);
  const isd = Number(text);
  if (isd > MAX_ISD) throw new ScionError('BAD_ISD_AS', `ISD ${text} out of range 0-${MAX_ISD}`);
  return isd;
}

/** Parses an AS in decimal (BGP-style, < 2^32) or hex-group form (":" or the file form "_"). */
export function parseAS(text: string): bigint {
  const sep = text.includes(':') ? ':' : text.includes('_') ? '_' : '';
  if (sep === '') {
    if (!/^\d+$/.test(text)) throw new ScionError('BAD_ISD_AS', `AS "${text}" is not a number`);
    const as = BigInt(text);
    if (as > MAX_BGP_AS) {
      throw new ScionError('BAD_ISD_AS', `decimal AS ${text} exceeds 2^32-1; use the hex form`);
    }
    return as;
  }
  const groups = text.split(sep);
  if (groups.length !== 3 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) {
    throw new ScionError('BAD_ISD_AS', `AS "${text}" is not three 16-bit hex groups`);
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function formatAS(as: bigint, sep: ':' | '_' = ':'): string {
  if (as <= MAX_BGP_AS) return as.toString(10);
  return [32n, 16n, 0n].map((s) => ((as >> s) & 0xffffn).toString(16)).join(sep);
}

/** Parses "ISD-AS" in any notation; "0-0" and parts equal to 0 are wildcards. */
export function parseIA(text: string): IA {
  const dash = text.indexOf('-');
  if (dash <= 0 || dash !== text.lastIndexOf('-')) {
    throw new ScionError('BAD_ISD_AS', `"${text}" is not of the form ISD-AS`);
  }
  return makeIA(parseISD(text.slice(0, dash)), parseAS(text.slice(dash + 1)));
}

/** parseIA, or undefined for text that is not an ISD-AS. */
export function tryParseIA(text: string): IA | undefined {
  try {
    return parseIA(text);
  } catch (e) {
    if (e instanceof ScionError) return undefined;
    throw e;
  }
}

export function formatIA(ia: IA, opts: { fileFormat?: boolean } = {}): string {
  return `${isdOf(ia)}-${formatAS(asOf(ia), opts.fileFormat ? '_' : ':')}`;
}

export function isWildcard(ia: IA): boolean {
  return isdOf(ia) === 0 || asOf(ia) === 0n;
}

/** True when `pattern` (possibly with wildcard ISD or AS) covers `ia`. */
export function iaMatches(pattern: IA, ia: IA): boolean {
  const isd = isdOf(pattern);
  const as = asOf(pattern);
  return (isd === 0 || isd === isdOf(ia)) && (as === 0n || as === asOf(ia));
}
