// src_ia, dst_ia, through_ia: ISD-AS patterns over the flow's SCION path; an ISD or AS of 0
// is a wildcard ("1-0" is any AS of ISD 1). Ends are the path's first and last AS.
import type { Flow } from '../../proto/gen/flow/flow';
import { iaMatches, parseIA, type IA } from '../../scion/isdas';
import { FilterError } from './error';
import type { FilterBuilder, Predicate } from './predicate';

function parsePatterns(field: string, values: string[]): IA[] {
  return values.map((v) => {
    try {
      return parseIA(v);
    } catch {
      throw new FilterError(`${field}: invalid ISD-AS "${v}"`);
    }
  });
}

function matchesAny(patterns: IA[], text: string | undefined): boolean {
  if (!text) return false;
  let ia: IA;
  try {
    ia = parseIA(text);
  } catch {
    return false;
  }
  return patterns.some((p) => iaMatches(p, ia));
}

function byEnd(field: string, values: string[], get: (f: Flow) => string | undefined): Predicate {
  const patterns = parsePatterns(field, values);
  return (f) => matchesAny(patterns, get(f));
}

export const iaFilter: FilterBuilder = (ff) => {
  const out: Predicate[] = [];
  if (ff.srcIa.length) out.push(byEnd('src_ia', ff.srcIa, (f) => f.scionPath?.srcIa));
  if (ff.dstIa.length) out.push(byEnd('dst_ia', ff.dstIa, (f) => f.scionPath?.dstIa));
  if (ff.throughIa.length) {
    const patterns = parsePatterns('through_ia', ff.throughIa);
    out.push((f) => (f.scionPath?.hops ?? []).some((h) => matchesAny(patterns, h.isdAs)));
  }
  return out;
};
