// Hop predicates, "ISD-AS#IF,IF" with 0 as a wildcard anywhere (pathpol's HopPredicate):
// "1" any AS of ISD 1, "1-ff00:0:110" any interface of that AS, "#3" interface 3 in either
// direction, "#3,5" ingress 3 and egress 5.
import { ScionError } from '../errors';
import { formatAS, parseAS, parseISD } from '../isdas';
import type { PathInterface } from '../path/model';
import { PathPolicyError } from './errors';

export interface HopPredicate {
  isd: number;
  as: bigint;
  /** One entry (either direction) or two (ingress, egress); 0 is a wildcard. */
  ifids: number[];
}

function parseIfid(text: string, source: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new PathPolicyError('BAD_HOP_PREDICATE', `"${source}": interface "${text}" is not a number`);
  }
  return Number(text);
}

export function parseHopPredicate(text: string): HopPredicate {
  const count = (c: string): number => text.split(c).length - 1;
  if (count('-') > 1 || count('#') > 1 || count(',') > 1) {
    throw new PathPolicyError('BAD_HOP_PREDICATE', `"${text}": a delimiter occurs more than once`);
  }
  if (count('-') === 0 && (count('#') > 0 || count(',') > 0)) {
    throw new PathPolicyError('BAD_HOP_PREDICATE', `"${text}": interfaces need an AS`);
  }
  const [isdText, rest] = text.split('-');
  try {
    const isd = parseISD(isdText);
    if (rest === undefined) return { isd, as: 0n, ifids: [0] };
    const [asText, ifText] = rest.split('#');
    const as = parseAS(asText);
    const ifids = ifText === undefined ? [0] : ifText.split(',').map((t) => parseIfid(t, text));
    if (as === 0n && ifids.some((i) => i !== 0)) {
      throw new PathPolicyError('BAD_HOP_PREDICATE', `"${text}": interfaces must be 0 when the AS is a wildcard`);
    }
    return { isd, as, ifids };
  } catch (e) {
    if (e instanceof ScionError) throw new PathPolicyError('BAD_HOP_PREDICATE', `"${text}": ${e.message}`);
    throw e;
  }
}

export function formatHopPredicate(hp: HopPredicate): string {
  return `${hp.isd}-${formatAS(hp.as)}#${hp.ifids.join(',')}`;
}

/** True for the predicate that matches every interface ("0", "0-0", "0-0#0,0"). */
export function matchesAll(hp: HopPredicate | null): boolean {
  return hp === null || (hp.isd === 0 && hp.as === 0n && hp.ifids.every((i) => i === 0));
}

/**
 * Matches one path interface; `ingress` says whether it is the AS's ingress interface,
 * which picks the first of two interface IDs (the second is the egress).
 */
export function matchesInterface(hp: HopPredicate, pi: PathInterface, ingress: boolean): boolean {
  if (hp.isd !== 0 && Number(pi.ia >> 48n) !== hp.isd) return false;
  if (hp.as !== 0n && (pi.ia & 0xffff_ffff_ffffn) !== hp.as) return false;
  const want = hp.ifids.length === 2 && !ingress ? hp.ifids[1] : hp.ifids[0];
  return want === 0 || want === pi.ifid;
}
