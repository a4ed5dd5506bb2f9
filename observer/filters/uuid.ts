// uuid: one flow by its identifier.
import type { FilterBuilder } from './predicate';

export const uuidFilter: FilterBuilder = (ff) => {
  if (!ff.uuid.length) return [];
  const want = new Set(ff.uuid);
  return [(f) => want.has(f.uuid)];
};
