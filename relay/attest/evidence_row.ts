// What export takes from the store for each selected flow, whichever way it read it (one
// Flow at a time, flow_rows.ts, or straight from the stored columns, column_rows.ts): the
// evidence line and the fields the tally sums. Both ways select the same flows the same
// way, and write the same line for each.
import { ScionObservationPoint, type ScionPath } from '../../proto/gen/flow/flow';
import type { PathTable, TallyFlow } from './predicate';

/**
 * Which records of a flow count. A flow crossing the WAN is reported at the sending edge
 * (encap) and again at the receiving edge (decap), and transit routers report it too;
 * `sent` keeps every record except decap and router ones, so each flow counts once, at its
 * source, and traffic that never entered SCION still shows.
 */
export const RECORD_CHOICES = ['sent', 'received', 'all'] as const;
export type RecordChoice = (typeof RECORD_CHOICES)[number];

/** Whether a record seen at SCION observation point `point` counts under `choice`. */
export function recordCounts(choice: RecordChoice, point: number): boolean {
  if (choice === 'all') return true;
  if (choice === 'received') return point === ScionObservationPoint.SCION_EDGE_DECAP;
  return point !== ScionObservationPoint.SCION_EDGE_DECAP && point !== ScionObservationPoint.SCION_ROUTER_FORWARD;
}

export interface EvidenceRow extends TallyFlow {
  /** The canonical evidence line, without its newline. */
  line: string;
}

/** The predicate's entry for a path, from the path a flow carried. */
export function pathEntry(p: ScionPath): PathTable extends Map<string, infer V> ? V : never {
  return {
    srcIa: p.srcIa,
    dstIa: p.dstIa,
    knownToControlPlane: p.knownToControlPlane,
    hops: p.hops.map((h) => ({
      isdAs: h.isdAs,
      ingressInterface: h.ingressInterface,
      egressInterface: h.egressInterface,
      country: h.country,
      geo: h.geo ? { latitude: h.geo.latitude, longitude: h.geo.longitude, address: h.geo.address } : null,
    })),
  };
}
