// Geofence verdicts as the page names them (the filter's words) and how bad each is, for
// colouring a link that flows with different verdicts share.
import { GeofenceVerdict, type Flow } from '../../proto/gen/flow/flow';

export type PathVerdict = 'compliant' | 'violation' | 'unverified' | 'none';

export function pathVerdict(flow: Flow): PathVerdict {
  switch (flow.geofence?.verdict) {
    case GeofenceVerdict.GEOFENCE_COMPLIANT:
      return 'compliant';
    case GeofenceVerdict.GEOFENCE_VIOLATION:
      return 'violation';
    case GeofenceVerdict.GEOFENCE_UNVERIFIED:
      return 'unverified';
    default:
      return 'none';
  }
}

const RANK: Record<PathVerdict, number> = { none: 0, compliant: 1, unverified: 2, violation: 3 };

/** The worse of two verdicts: a link one violating flow crosses is shown violating. */
export function worseVerdict(a: PathVerdict, b: PathVerdict): PathVerdict {
  return RANK[b] > RANK[a] ? b : a;
}
