// The hash route: `#/VIEW?key=value&...`. The query holds the filters, named as `cillion
// observe`'s flags, shared by every view; a repeated key is a repeated flag.
export const VIEWS = ['map', 'world', 'flows', 'compliance'] as const;
export type ViewName = (typeof VIEWS)[number];

/** Filter keys the filter bar edits, in the order they are applied. */
export const FILTER_KEYS = ['namespace', 'pod', 'label', 'verdict', 'geofence-verdict', 'geofence', 'through-ia', 'through-country', 'through-sid', 'path-type', 'since', 'until'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

export interface HashRoute {
  view: ViewName;
  /** [key, value] pairs in hash order. */
  filters: [string, string][];
}

export function parseHash(hash: string): HashRoute {
  const text = hash.replace(/^#\/?/, '');
  const q = text.indexOf('?');
  const path = q < 0 ? text : text.slice(0, q);
  const view = (VIEWS as readonly string[]).includes(path) ? (path as ViewName) : 'map';
  const filters: [string, string][] = [];
  if (q >= 0) for (const [k, v] of new URLSearchParams(text.slice(q + 1))) if (v !== '') filters.push([k, v]);
  return { view, filters };
}

export function formatHash(route: HashRoute): string {
  const q = new URLSearchParams(route.filters).toString();
  return `#/${route.view}${q ? `?${q}` : ''}`;
}

/** The first value of a filter key, or "". */
export function filterValue(route: HashRoute, key: string): string {
  return route.filters.find(([k]) => k === key)?.[1] ?? '';
}
