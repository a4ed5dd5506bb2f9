// A fence verdict as the flow.Flow message carries it.
import type { GeofenceMode } from '../resources/geofence';
import { GeofenceMode as ProtoMode, GeofenceVerdict, type Geofence } from '../proto/gen/flow/flow';
import { formatIA } from '../scion/isdas';
import type { FenceVerdict, Compliance } from './verdict';

const VERDICTS: Record<Compliance, GeofenceVerdict> = {
  COMPLIANT: GeofenceVerdict.GEOFENCE_COMPLIANT,
  VIOLATION: GeofenceVerdict.GEOFENCE_VIOLATION,
  UNVERIFIED: GeofenceVerdict.GEOFENCE_UNVERIFIED,
};

const MODES: Record<GeofenceMode, ProtoMode> = {
  enforce: ProtoMode.GEOFENCE_ENFORCE,
  audit: ProtoMode.GEOFENCE_AUDIT,
};

/** One message per verdict: verdicts are cached per path and fence set, and flows only read the message. */
const messages = new WeakMap<FenceVerdict, Geofence>();

export function toFlowGeofence(v: FenceVerdict): Geofence {
  let m = messages.get(v);
  if (m === undefined) {
    m = flowGeofence(v);
    messages.set(v, m);
  }
  return m;
}

function flowGeofence(v: FenceVerdict): Geofence {
  return {
    verdict: VERDICTS[v.verdict],
    name: v.name,
    namespace: v.namespace,
    mode: MODES[v.mode],
    reason: v.reason,
    offendingHop: v.offendingHop,
    offendingIsdAs: v.offendingIsdAs === undefined ? '' : formatIA(v.offendingIsdAs),
    offendingCountry: v.offendingCountry ?? '',
    offendingSid: v.offendingSid ?? '',
  };
}
