// What export takes from the store for each selected flow, whichever way it read it (one
// Flow at a time, flow_rows.ts, or straight from the stored columns, column_rows.ts): the
// evidence line and the fields the tally sums. Both ways select the same flows the same
// way, and write the same line for each.
import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { ScionObservationPoint, srv6HmacStatusToJSON, type ScionPath, type Srv6Path } from '../../proto/gen/flow/flow';
import { canonicalJson, type Json } from './canonical_json';
import type { OmitEach, PathTable, Srv6HmacName, Srv6PathUse, TallyFlow } from './predicate';

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

/** An SRv6 path entry without its key and counts. */
export type Srv6Entry = OmitEach<Srv6PathUse, 'counts' | 'fingerprint'>;

const HMAC_NAMES = new Set<string>(['UNKNOWN', 'ABSENT', 'VERIFIED', 'MISMATCH', 'NO_KEY', 'MALFORMED']);

/** The evidence name of an HMAC status: the proto name without its SRV6_HMAC_ prefix. */
export function hmacName(status: number): Srv6HmacName {
  const name = srv6HmacStatusToJSON(status).replace(/^SRV6_HMAC_/, '');
  return (HMAC_NAMES.has(name) ? name : 'UNKNOWN') as Srv6HmacName;
}

/** The predicate's entry for an SRv6 path, from the path the relay rebuilt for a flow. */
export function srv6Entry(p: Srv6Path): Srv6Entry {
  return {
    type: 'srv6',
    segments: [...p.segments],
    segmentsFingerprint: p.fingerprint.toLowerCase(),
    source: p.source,
    tenantId: p.tenantId,
    tenant: p.tenant,
    knownToCatalogue: p.knownToCatalogue,
    hmac: { status: hmacName(p.hmac?.status ?? 0), keyId: p.hmac?.keyId ?? 0 },
    hops: p.hops.map((h) => ({
      sid: h.sid,
      behavior: h.behavior,
      node: h.node,
      operator: h.operator,
      asn: h.asn,
      country: h.country,
      geo: h.geo ? { latitude: h.geo.latitude, longitude: h.geo.longitude, address: h.geo.address } : null,
    })),
  };
}

/** An SRv6 entry's key: "srv6:" and the SHA-256 of its canonical JSON. */
export function srv6Key(e: Srv6Entry): string {
  return `srv6:${createHash('sha256').update(canonicalJson(e as unknown as Json)).digest('hex')}`;
}

/** SHA-256 over the segments' 16-byte addresses in travel order (srv6/fingerprint.ts's definition); undefined when one is no IPv6 address. */
export function segmentsFingerprint(segments: string[]): string | undefined {
  const h = createHash('sha256');
  for (const s of segments) {
    if (!ipaddr.IPv6.isValid(s)) return undefined;
    h.update(Uint8Array.from(ipaddr.IPv6.parse(s).toByteArray()));
  }
  return h.digest('hex');
}

/**
 * Why an SRv6 entry cannot stand under `key` in a predicate, or undefined when it can: the
 * key is its digest, its segment fingerprint is its segments', and each hop is its segment's.
 */
export function srv6EntryProblem(key: string, e: Srv6Entry): string | undefined {
  if (srv6Key(e) !== key) return `SRv6 path ${key}: the key is not the digest of its entry`;
  if (segmentsFingerprint(e.segments) !== e.segmentsFingerprint) return `SRv6 path ${key}: segmentsFingerprint is not the SHA-256 of its segments`;
  if (e.hops.length !== e.segments.length || e.hops.some((h, i) => h.sid !== e.segments[i])) return `SRv6 path ${key}: its hops are not its segments`;
  return undefined;
}
