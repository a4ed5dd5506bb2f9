// source_identity, destination_identity: numeric security identities, exact.
import type { FilterBuilder, Predicate } from './predicate';

export const identityFilter: FilterBuilder = (ff) => {
  const out: Predicate[] = [];
  if (ff.sourceIdentity.length) {
    const ids = new Set(ff.sourceIdentity);
    out.push((f) => f.source !== undefined && ids.has(f.source.identity));
  }
  if (ff.destinationIdentity.length) {
    const ids = new Set(ff.destinationIdentity);
    out.push((f) => f.destination !== undefined && ids.has(f.destination.identity));
  }
  return out;
};
