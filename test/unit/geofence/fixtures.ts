// Fences as users write them (validated by the operator's own validator, so groups such as
// EU arrive expanded) and real places, for the geofence tests.
import { validateGeofence, type Geofence } from '../../../resources/geofence';
import type { Hop } from '../../../geofence/hops';
import { parseIA } from '../../../scion/isdas';

export function fence(name: string, spec: Record<string, unknown>): Geofence {
  const v = validateGeofence({
    apiVersion: 'cillion.io/v1alpha1',
    kind: 'Geofence',
    metadata: { name },
    spec: { workloadSelector: {}, mode: 'enforce', ...spec },
  });
  if (!v.ok) throw new Error(`fixture ${name}: ${JSON.stringify(v.problems)}`);
  return v.value;
}

/** City-centre coordinates (latitude, longitude) as public gazetteers give them. */
export const PLACES = {
  zurich: { latitude: 47.3769, longitude: 8.5417 },
  frankfurt: { latitude: 50.1109, longitude: 8.6821 },
  amsterdam: { latitude: 52.3676, longitude: 4.9041 },
  paris: { latitude: 48.8566, longitude: 2.3522 },
  ashburn: { latitude: 39.0438, longitude: -77.4874 },
  singapore: { latitude: 1.3521, longitude: 103.8198 },
  /** Mid North Atlantic, about 1000 km from the nearest land (the Azores). */
  atlantic: { latitude: 45.0, longitude: -40.0 },
} as const;

/** A hop of `ia` with the given position and metadata country. */
export function hop(ia: string, where: { latitude?: number; longitude?: number; country?: string } = {}): Hop {
  return { isdAs: parseIA(ia), ingress: 1, egress: 2, ...where };
}
