// Geofence verdicts as the page names them (observe's filter words, one table in
// observer/filters/flags.ts) and how bad each is, for colouring a link that flows with
// different verdicts share.
import { GEOFENCE_VERDICT_WORDS, type GeofenceVerdictWord } from '../../observer/filters/flags';
import type { Flow } from '../../proto/gen/flow/flow';

export type PathVerdict = GeofenceVerdictWord | 'none';

const WORD_OF = new Map(Object.entries(GEOFENCE_VERDICT_WORDS).map(([w, v]) => [v as number, w as GeofenceVerdictWord]));

export function pathVerdict(flow: Flow): PathVerdict {
  const v = flow.geofence?.verdict;
  return (v !== undefined && WORD_OF.get(v)) || 'none';
}

const RANK: Record<PathVerdict, number> = { none: 0, compliant: 1, unverified: 2, violation: 3 };

/** The worse of two verdicts: a link one violating flow crosses is shown violating. */
export function worseVerdict(a: PathVerdict, b: PathVerdict): PathVerdict {
  return RANK[b] > RANK[a] ? b : a;
}
