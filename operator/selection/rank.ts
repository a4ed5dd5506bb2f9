// Orders a policy's candidate paths by its preference. Ties fall back to the control
// plane's own order (comparePaths), so the choice is stable from one refresh to the next.
import { comparePaths, type ControlPlanePath } from '../../controlplane/combinator';
import type { Preference, PreferenceWeights } from '../../resources/wanpathpolicy';

const hops = (p: ControlPlanePath): number => p.ases.length;

/** A path's cost under `preference`: lower is better. */
function costFn(preference: Preference, weights: PreferenceWeights, paths: readonly ControlPlanePath[]): (p: ControlPlanePath) => number {
  switch (preference) {
    case 'latency':
      return (p) => p.totalLatencyMs;
    case 'bandwidth':
      return (p) => -p.minBandwidthKbps;
    case 'hopCount':
      return hops;
    case 'weighted': {
      // Each criterion scaled to [0, 1] over the candidates, so the weights compare like with like.
      const maxLatency = Math.max(1e-9, ...paths.map((p) => p.totalLatencyMs));
      const maxBandwidth = Math.max(1, ...paths.map((p) => p.minBandwidthKbps));
      const maxHops = Math.max(1, ...paths.map(hops));
      return (p) =>
        weights.latency * (p.totalLatencyMs / maxLatency) +
        weights.hopCount * (hops(p) / maxHops) +
        weights.bandwidth * (1 - p.minBandwidthKbps / maxBandwidth);
    }
  }
}

export function rankPaths(paths: readonly ControlPlanePath[], preference: Preference, weights: PreferenceWeights): ControlPlanePath[] {
  const cost = costFn(preference, weights, paths);
  return [...paths].sort((a, b) => cost(a) - cost(b) || comparePaths(a, b));
}
