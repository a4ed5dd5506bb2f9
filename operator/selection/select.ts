// Path selection for one policy, destination and set of workloads: the path policy
// filters, every enforcing geofence that applies to the workloads removes what it
// forbids, the preference ranks, and the policy's mode takes one or N.
import type { Policy } from '../../scion/pathpol';
import { allowedForEnforcement } from '../../geofence/enforcement';
import type { FenceVerdict } from '../../geofence/verdict';
import type { ControlPlanePath } from '../../controlplane/combinator';
import type { Geofence } from '../../resources/geofence';
import type { WANPathPolicy } from '../../resources/wanpathpolicy';
import { rankPaths } from './rank';

export interface Forbidden {
  path: ControlPlanePath;
  /** The enforcing fence that refuses it, with the hop and reason. */
  blocking: FenceVerdict;
}

export type SelectionOutcome =
  /** Paths were selected. */
  | 'Selected'
  /** The control plane knows no path to the destination. */
  | 'NoPath'
  /** Paths exist, but the path policy accepts none. */
  | 'NoPathMatchesPolicy'
  /** The policy accepts paths, but enforcing geofences forbid every one of them. */
  | 'AllPathsForbidden';

export interface Selection {
  outcome: SelectionOutcome;
  /** Best first; empty unless outcome is 'Selected'. */
  selected: ControlPlanePath[];
  candidates: number;
  matchingPolicy: number;
  forbidden: Forbidden[];
}

/** How many paths the policy's mode asks for. */
export function pathCount(policy: WANPathPolicy): number {
  return policy.spec.mode === 'single' ? 1 : policy.spec.paths;
}

export function selectPaths(
  policy: WANPathPolicy,
  compiled: Policy,
  candidates: readonly ControlPlanePath[],
  fences: readonly Geofence[],
): Selection {
  const matching = compiled.filter(candidates);
  const forbidden: Forbidden[] = [];
  const allowed = matching.filter((path) => {
    const d = allowedForEnforcement(path, fences);
    if (!d.allowed) forbidden.push({ path, blocking: d.blocking });
    return d.allowed;
  });
  const selected = rankPaths(allowed, policy.spec.preference, policy.spec.weights).slice(0, pathCount(policy));
  const outcome: SelectionOutcome =
    candidates.length === 0 ? 'NoPath' : matching.length === 0 ? 'NoPathMatchesPolicy' : allowed.length === 0 ? 'AllPathsForbidden' : 'Selected';
  return { outcome, selected, candidates: candidates.length, matchingPolicy: matching.length, forbidden };
}
