// through_isd: some hop of the SCION path lies in one of these ISDs.
import { isdOf, parseIA } from '../../scion/isdas';
import { FilterError } from './error';
import type { FilterBuilder } from './predicate';

function isdOfHop(text: string): number | null {
  try {
    return isdOf(parseIA(text));
  } catch {
    return null;
  }
}

export const isdFilter: FilterBuilder = (ff) => {
  if (!ff.throughIsd.length) return [];
  for (const isd of ff.throughIsd) {
    if (!Number.isInteger(isd) || isd < 1 || isd > 0xffff) throw new FilterError(`through_isd: invalid ISD ${isd}`);
  }
  const want = new Set(ff.throughIsd);
  return [(f) => (f.scionPath?.hops ?? []).some((h) => want.has(isdOfHop(h.isdAs) ?? -1))];
};
