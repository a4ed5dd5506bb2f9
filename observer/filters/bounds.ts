// How much a GetFlows request may ask for: filters per list and values over all of them.
// Every value becomes a predicate per flow and a condition in the store's SQL, so without a
// bound one request could hand the engine a query it cannot even parse.
import type { FlowFilter } from '../../proto/gen/flow/flow';
import { FilterError } from './error';

export interface FilterBounds {
  /** Filters in each of the allow and deny lists. */
  maxFilters: number;
  /** Values over every field of every filter of both lists. */
  maxFilterValues: number;
}

function valuesIn(v: unknown): number {
  if (Array.isArray(v)) return v.length;
  if (typeof v === 'string') return v === '' ? 0 : 1;
  if (v && typeof v === 'object') return Object.values(v).reduce((n: number, x) => n + valuesIn(x), 0);
  return 0;
}

/** Throws FilterError when the lists hold more filters or values than the bounds allow. */
export function checkFilterBounds(allow: readonly FlowFilter[], deny: readonly FlowFilter[], b: FilterBounds): void {
  for (const [name, list] of [['allow', allow], ['deny', deny]] as const) {
    if (list.length > b.maxFilters) throw new FilterError(`${list.length} ${name} filters; at most ${b.maxFilters}`);
  }
  let values = 0;
  for (const f of [...allow, ...deny]) {
    values += valuesIn(f);
    if (values > b.maxFilterValues) throw new FilterError(`more than ${b.maxFilterValues} filter values in one request`);
  }
}
