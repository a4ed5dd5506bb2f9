// traffic_direction: ingress or egress as the datapath classified the flow.
import type { FilterBuilder } from './predicate';

export const trafficDirectionFilter: FilterBuilder = (ff) => {
  if (!ff.trafficDirection.length) return [];
  const want = new Set(ff.trafficDirection);
  return [(f) => want.has(f.trafficDirection)];
};
