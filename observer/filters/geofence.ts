// geofence_verdict, geofence_name: the relay's geofence check. A name is "fence" (any
// namespace) or "namespace/fence".
import { FilterError } from './error';
import type { FilterBuilder, Predicate } from './predicate';

export const geofenceFilter: FilterBuilder = (ff) => {
  const out: Predicate[] = [];
  if (ff.geofenceVerdict.length) {
    const want = new Set(ff.geofenceVerdict);
    out.push((f) => f.geofence !== undefined && want.has(f.geofence.verdict));
  }
  if (ff.geofenceName.length) {
    const names = ff.geofenceName.map((n) => {
      const parts = n.split('/');
      if (parts.length > 2 || parts.some((p) => p === '')) throw new FilterError(`geofence_name: want [namespace/]name, got "${n}"`);
      return parts.length === 2 ? { ns: parts[0], name: parts[1] } : { ns: null, name: parts[0] };
    });
    out.push((f) => {
      const g = f.geofence;
      return !!g && g.name !== '' && names.some((n) => n.name === g.name && (n.ns === null || n.ns === g.namespace));
    });
  }
  return out;
};
