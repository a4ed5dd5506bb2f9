// The operator's use of the same decision: before a path is programmed for a workload, every
// enforcing fence that applies to the workload must find the path COMPLIANT. UNVERIFIED is
// refused as firmly as VIOLATION, because enforce promises that traffic stays inside the
// fence, and a path whose hops cannot be placed gives no such assurance. Audit fences never
// keep a path out; the relay reports on them.
import type { ControlPlanePath } from '../controlplane/combinator';
import type { Geofence } from '../resources/geofence';
import { defaultCountryLookup, type CountryLookup } from '../geo/country';
import { hopsFromControlPlane } from './hops';
import { evaluate, fenceVerdict, strongest, type FenceVerdict } from './verdict';

export type EnforcementDecision =
  | { allowed: true }
  /** `blocking` is the enforcing fence that refuses the path, a VIOLATION preferred to an UNVERIFIED. */
  | { allowed: false; blocking: FenceVerdict };

/** Whether `path` may be installed under `fences` (those applying to the workload; audit ones are skipped). */
export function allowedForEnforcement(path: ControlPlanePath, fences: readonly Geofence[], countries: CountryLookup = defaultCountryLookup): EnforcementDecision {
  const enforcing = fences.filter((f) => f.spec.mode === 'enforce').sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  if (enforcing.length === 0) return { allowed: true };
  const hops = hopsFromControlPlane(path);
  const worst = strongest(enforcing.map((f) => fenceVerdict(f, evaluate(f.spec, hops, countries))))!;
  return worst.verdict === 'COMPLIANT' ? { allowed: true } : { allowed: false, blocking: worst };
}
