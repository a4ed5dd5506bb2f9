// The shape every filter dimension shares: from one FlowFilter, the tests a flow must pass
// (one per non-empty field; validation happens here, once, not per flow).
import type { Flow, FlowFilter } from '../../proto/gen/flow/flow';

export type Predicate = (flow: Flow) => boolean;
export type FilterBuilder = (filter: FlowFilter) => Predicate[];
