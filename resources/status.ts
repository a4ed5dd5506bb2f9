// Resource status as the operator writes it: Kubernetes-style conditions (metav1.Condition
// fields) and, for path policies, the paths programmed right now.
import type { ControlPlanePath } from '../controlplane/combinator';
import { formatIA } from '../scion/isdas';

export const CONDITION_TYPES = ['Valid', 'Programmed', 'Compliant'] as const;
/** Valid: the spec parsed and resolved. Programmed: the datapath carries it. Compliant: no geofence violation. */
export type ConditionType = (typeof CONDITION_TYPES)[number];
export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: ConditionType;
  status: ConditionStatus;
  /** CamelCase, machine-readable (metav1.Condition's reason rules). */
  reason: string;
  message: string;
  /** RFC 3339, when status last changed. */
  lastTransitionTime: string;
  /** The metadata.generation this condition was computed from. */
  observedGeneration: number;
}

export interface PathHop {
  isdAS: string;
  /** Interface the path enters the AS by; 0 at the source. */
  ingress: number;
  /** Interface the path leaves the AS by; 0 at the destination. */
  egress: number;
}

export interface SelectedPath {
  /** Destination ISD-AS in text form. */
  destination: string;
  /** snet-compatible path fingerprint; '' for the empty path. */
  fingerprint: string;
  hops: PathHop[];
  /** Sum of announced latencies, when every hop announced one. */
  latencyMs?: number;
  /** RFC 3339 expiry of the path's first hop field. */
  expires?: string;
}

/** An SRv6 segment list the operator programmed, as an SRv6PathPolicy's status shows it. */
export interface SelectedSegmentList {
  /** The destination cluster. */
  destination: string;
  /** The VRF the list decapsulates into. */
  tenant: number;
  /** SIDs in travel order, the decapsulating SID last. */
  segments: string[];
  /** The catalogue node of each segment. */
  nodes: string[];
  /** Countries crossed, in travel order, without repeats. */
  countries: string[];
  /** Sum of the catalogue's link latencies, when every link has one. */
  latencyMs?: number;
  hmacKeyId?: number;
}

export interface ResourceStatus {
  observedGeneration: number;
  conditions: Condition[];
  paths?: SelectedPath[];
  segmentLists?: SelectedSegmentList[];
}

const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
const MAX_REASON = 1024;

export type ConditionUpdate = Omit<Condition, 'lastTransitionTime'>;

/**
 * Returns `conditions` with `update` applied. lastTransitionTime moves to `now` only when
 * the status changes (or the condition is new), so "since when" survives re-reconciles.
 */
export function setCondition(conditions: readonly Condition[], update: ConditionUpdate, now: Date): Condition[] {
  if (!REASON.test(update.reason) || update.reason.length > MAX_REASON) {
    throw new RangeError(`condition reason "${update.reason}" is not CamelCase`);
  }
  const prev = conditions.find((c) => c.type === update.type);
  const lastTransitionTime = prev && prev.status === update.status ? prev.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const next: Condition = { ...update, lastTransitionTime };
  return prev ? conditions.map((c) => (c === prev ? next : c)) : [...conditions, next];
}

export function getCondition(conditions: readonly Condition[], type: ConditionType): Condition | undefined {
  return conditions.find((c) => c.type === type);
}

/** The status entry for a path the operator programmed. */
export function selectedPath(p: ControlPlanePath): SelectedPath {
  const ifs = p.interfaces;
  const hops: PathHop[] =
    ifs.length === 0
      ? [{ isdAS: formatIA(p.src), ingress: 0, egress: 0 }]
      : [
          { isdAS: formatIA(ifs[0]!.ia), ingress: 0, egress: ifs[0]!.ifid },
          ...Array.from({ length: (ifs.length - 2) / 2 }, (_, k) => ({
            isdAS: formatIA(ifs[2 * k + 1]!.ia),
            ingress: ifs[2 * k + 1]!.ifid,
            egress: ifs[2 * k + 2]!.ifid,
          })),
          { isdAS: formatIA(ifs[ifs.length - 1]!.ia), ingress: ifs[ifs.length - 1]!.ifid, egress: 0 },
        ];
  return {
    destination: formatIA(p.dst),
    fingerprint: p.fingerprint,
    hops,
    ...(p.latencyComplete ? { latencyMs: p.totalLatencyMs } : {}),
    expires: new Date(Math.floor(p.expiry) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}
