// verdict: the flow's datapath verdict, any of the listed.
import type { FilterBuilder } from './predicate';

export const verdictFilter: FilterBuilder = (ff) => {
  if (!ff.verdict.length) return [];
  const want = new Set(ff.verdict);
  return [(f) => want.has(f.verdict)];
};
