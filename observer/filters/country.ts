// through_country: some hop of the SCION path, or the node of some segment of the SRv6
// path, declares one of these countries (ISO 3166-1 alpha-2, any case). A hop without a
// declared country matches none.
import { FilterError } from './error';
import type { FilterBuilder } from './predicate';

export const countryFilter: FilterBuilder = (ff) => {
  if (!ff.throughCountry.length) return [];
  const want = new Set(
    ff.throughCountry.map((c) => {
      if (!/^[A-Za-z]{2}$/.test(c)) throw new FilterError(`through_country: "${c}" is not an ISO 3166-1 alpha-2 code`);
      return c.toUpperCase();
    }),
  );
  const listed = (h: { country: string }) => h.country !== '' && want.has(h.country.toUpperCase());
  return [(f) => (f.scionPath?.hops ?? []).some(listed) || (f.srv6Path?.hops ?? []).some(listed)];
};
