// Hubble's filter semantics over flows: a flow passes when the allow list is empty or one
// allow filter matches, and no deny filter matches. Inside one FlowFilter every non-empty
// field must match; inside one field any value may.
import type { Flow, FlowFilter } from '../../proto/gen/flow/flow';
import { clusterFilter } from './cluster';
import { countryFilter } from './country';
import { FilterError } from './error';
import { eventTypeFilter } from './event_type';
import { geofenceFilter } from './geofence';
import { iaFilter } from './ia';
import { identityFilter } from './identity';
import { ipFilter } from './ip';
import { ipVersionFilter } from './ip_version';
import { isdFilter } from './isd';
import { labelFilter } from './label';
import { nodeNameFilter } from './node_name';
import { pathFingerprintFilter } from './path_fingerprint';
import { pathTypeFilter } from './path_type';
import { podFilter } from './pod';
import { portFilter } from './port';
import type { FilterBuilder, Predicate } from './predicate';
import { protocolFilter } from './protocol';
import { sidFilter } from './sid';
import { tcpFlagsFilter } from './tcp_flags';
import { trafficDirectionFilter } from './traffic_direction';
import { uuidFilter } from './uuid';
import { verdictFilter } from './verdict';

export { FilterError } from './error';

const builders: FilterBuilder[] = [
  uuidFilter, ipFilter, podFilter, labelFilter, clusterFilter, identityFilter, protocolFilter, portFilter, verdictFilter,
  eventTypeFilter, nodeNameFilter, trafficDirectionFilter, tcpFlagsFilter, ipVersionFilter,
  iaFilter, isdFilter, countryFilter, pathFingerprintFilter, geofenceFilter, sidFilter, pathTypeFilter,
];

// Fields Cillion's flows never fill (no L7 proxy, no FQDN or workload enrichment); a filter
// on them is refused rather than ignored, because ignoring would widen what it selects.
const unsupported: (keyof FlowFilter)[] = [
  'sourceFqdn', 'destinationFqdn', 'sourceWorkload', 'destinationWorkload', 'dropReasonDesc', 'interface', 'httpStatusCode', 'reply', 'dnsQuery',
  'httpMethod', 'httpPath', 'httpUrl', 'httpHeader', 'nodeLabels', 'traceId', 'ipTraceId', 'encrypted',
];

function compile(ff: FlowFilter): Predicate {
  for (const field of unsupported) {
    const v = ff[field];
    if (Array.isArray(v) && v.length > 0) throw new FilterError(`filter field ${field} is not supported by Cillion`);
  }
  if (ff.experimental && ff.experimental.celExpression.length > 0) {
    throw new FilterError('filter field experimental.cel_expression is not supported by Cillion');
  }
  const tests = builders.flatMap((b) => b(ff));
  return (flow) => tests.every((t) => t(flow));
}

export function flowMatcher(allow: FlowFilter[], deny: FlowFilter[]): (f: Flow) => boolean {
  const allows = allow.map(compile);
  const denies = deny.map(compile);
  return (flow) => (allows.length === 0 || allows.some((m) => m(flow))) && !denies.some((m) => m(flow));
}

/** Throws FilterError when any filter holds a value that cannot be a filter. */
export function validateFilters(allow: FlowFilter[], deny: FlowFilter[]): void {
  flowMatcher(allow, deny);
}
