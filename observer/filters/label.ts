// source_label, destination_label: Kubernetes label selectors over the endpoint's labels;
// any one selector of the list may match (Hubble).
import type { Endpoint } from '../../proto/gen/flow/flow';
import { parseFlowLabels, parseLabelSelector, selectorMatches } from './label_selector';
import type { FilterBuilder, Predicate } from './predicate';

function bySelectors(values: string[], get: (f: { source?: Endpoint; destination?: Endpoint }) => Endpoint | undefined): Predicate {
  const selectors = values.map(parseLabelSelector);
  return (flow) => {
    const labels = parseFlowLabels(get(flow)?.labels ?? []);
    return selectors.some((s) => selectorMatches(s, labels));
  };
}

export const labelFilter: FilterBuilder = (ff) => {
  const out: Predicate[] = [];
  if (ff.sourceLabel.length) out.push(bySelectors(ff.sourceLabel, (f) => f.source));
  if (ff.destinationLabel.length) out.push(bySelectors(ff.destinationLabel, (f) => f.destination));
  return out;
};
