// path_type: the kind of WAN path the flow took (SCION, SRv6, or none known).
import { WanPathType } from '../../proto/gen/flow/flow';
import { FilterError } from './error';
import type { FilterBuilder } from './predicate';

export const pathTypeFilter: FilterBuilder = (ff) => {
  if (!ff.pathType.length) return [];
  const want = new Set<WanPathType>(
    ff.pathType.map((t) => {
      if (typeof WanPathType[t] !== 'string' || t === WanPathType.UNRECOGNIZED) throw new FilterError(`path_type: ${t} is no WAN path type`);
      return t;
    }),
  );
  return [(f) => want.has(f.pathType)];
};
