// Segment-list selection: simple paths over the catalogue's link graph from the
// encapsulating node to the destination node, filtered by the policy's constraints and
// ranked by its preference. A path's segment list names the End SID of every provider node
// it crosses, then the destination's End.DT4/End.DT6 SID for the tenant (RFC 8986 §4).

import { DEFINES } from '../bpf/abi_layout.gen';
import type { SidCatalogue, SidNode } from './catalogue';
import { isCountryCode } from './country';
import { Srv6Error } from './errors';

/** The datapath's SRH template holds at most this many segments. */
export const MAX_SEGMENTS: number = DEFINES.CIL_SRV6_MAX_SEGMENTS;
/** Default bound on partial paths the search extends before it gives up with PATH_LIMIT. */
export const DEFAULT_EXPLORE_LIMIT = 100_000;

export type SegmentListPreference = 'latency' | 'hops';

export interface SegmentListPolicy {
  /** Each of these ISO 3166-1 alpha-2 codes must be the country of some node on the path. */
  throughCountries?: string[];
  /** No node on the path may stand in any of these countries, nor be without a location. */
  avoidCountries?: string[];
  /** Every one of these nodes must be on the path. */
  throughNodes?: string[];
  /** None of these nodes may be on the path. */
  avoidNodes?: string[];
  /** When non-empty: every provider node on the path must be run by one of these operators. */
  operators?: string[];
  preference: SegmentListPreference;
  /** At most this many segments (1..MAX_SEGMENTS); MAX_SEGMENTS when unset. */
  maxSegments?: number;
}

export interface SelectRequest {
  /** The node that encapsulates (H.Encaps). */
  from: string;
  /** The node that decapsulates into the tenant's table. */
  to: string;
  tenantId: number;
  policy: SegmentListPolicy;
  /** Inner packet family: End.DT4 (4, default) or End.DT6 (6) at the destination. */
  family?: 4 | 6;
  /** Bound on partial paths extended; DEFAULT_EXPLORE_LIMIT when unset. */
  exploreLimit?: number;
}

export interface SegmentListChoice {
  /** SIDs (16 bytes each) in travel order; the last is the destination's decapsulation SID. */
  segments: Uint8Array[];
  /** Every node on the path in travel order, `from` first: segments[i] belongs to nodes[i + 1]. */
  nodes: string[];
  /** Distinct countries of `nodes` in travel order; nodes without a country are left out. */
  countries: string[];
  /** Sum of the links' latencies along `nodes`. */
  latencyNs: number;
}

/** Candidates dropped during a selection, by reason. */
export interface RuledOut {
  /** A neighbour that cannot be a segment: an edge node, or a provider without an End SID. */
  noTransit: number;
  /** A node the policy avoids, by name or country; `from` or `to` avoided counts here too. */
  avoided: number;
  /** A provider whose operator the policy does not allow. */
  operator: number;
  /** A path that would need more than maxSegments segments. */
  tooManySegments: number;
  /** A complete path that misses a throughCountries or throughNodes entry. */
  missesThrough: number;
}

export interface SegmentListSelection {
  choices: SegmentListChoice[];
  ruledOut: RuledOut;
}

/**
 * Every segment list from `from` to `to` that satisfies the policy, best first; empty when
 * none does. Ties are broken by the other criterion, then by the node names, so the order
 * is deterministic. A policy naming unknown nodes or countries throws.
 */
export function selectSegmentLists(catalogue: SidCatalogue, req: SelectRequest): SegmentListChoice[] {
  return selectWithReasons(catalogue, req).choices;
}

/** Text for a selection that found nothing, e.g. "avoided 2, operator 1". */
export function describeRuledOut(r: RuledOut): string {
  const parts = Object.entries(r).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
  return parts.length ? parts.join(', ') : 'the nodes are not connected';
}

/** selectSegmentLists with the count of candidates each constraint ruled out, for status messages. */
export function selectWithReasons(catalogue: SidCatalogue, req: SelectRequest): SegmentListSelection {
  const { policy } = req;
  const from = need(catalogue, req.from, 'from');
  const to = need(catalogue, req.to, 'to');
  if (from === to) throw new Srv6Error('BAD_ARGUMENT', `from and to are the same node ${from.name}`);
  if (policy.preference !== 'latency' && policy.preference !== 'hops') {
    throw new Srv6Error('BAD_ARGUMENT', `preference "${String(policy.preference)}" is not latency or hops`);
  }
  const maxSegments = policy.maxSegments ?? MAX_SEGMENTS;
  if (!Number.isInteger(maxSegments) || maxSegments < 1 || maxSegments > MAX_SEGMENTS) {
    throw new Srv6Error('BAD_ARGUMENT', `maxSegments ${maxSegments} outside 1..${MAX_SEGMENTS} (the datapath's SRH limit)`);
  }
  const exploreLimit = req.exploreLimit ?? DEFAULT_EXPLORE_LIMIT;
  if (!Number.isInteger(exploreLimit) || exploreLimit < 1) throw new Srv6Error('BAD_ARGUMENT', `exploreLimit ${exploreLimit} must be a positive integer`);
  const family = req.family ?? 4;
  const decap = family === 6 ? catalogue.dt6Sid(to.name, req.tenantId) : catalogue.dt4Sid(to.name, req.tenantId);
  if (!decap) throw new Srv6Error('NO_DECAP_SID', `${to.name} has no End.DT${family} SID for tenant ${req.tenantId}`);

  // Groups such as EU are expanded by the caller (resources/srv6pathpolicy.ts does): one
  // entry here is one country.
  const through = (policy.throughCountries ?? []).map(country);
  const avoid = new Set((policy.avoidCountries ?? []).map(country));
  const throughNodes = (policy.throughNodes ?? []).map((n) => need(catalogue, n, 'throughNodes').name);
  const avoidNodes = new Set((policy.avoidNodes ?? []).map((n) => need(catalogue, n, 'avoidNodes').name));
  const operators = new Set(policy.operators ?? []);

  const ruledOut: RuledOut = { noTransit: 0, avoided: 0, operator: 0, tooManySegments: 0, missesThrough: 0 };
  // A node of unknown location might stand in an avoided country: on the safe side, it is avoided.
  const avoided = (n: SidNode) => avoidNodes.has(n.name) || (avoid.size > 0 && (n.geo === undefined || avoid.has(n.geo.country)));
  const transitRuledOut = (n: SidNode): keyof RuledOut | undefined => {
    // Edge nodes and providers without an End SID cannot be named as a segment.
    if (n.role !== 'provider' || !catalogue.endSid(n.name)) return 'noTransit';
    if (avoided(n)) return 'avoided';
    if (operators.size > 0 && !operators.has(n.operator)) return 'operator';
    return undefined;
  };
  if (avoided(from) || avoided(to)) {
    ruledOut.avoided++;
    return { choices: [], ruledOut };
  }

  const found: SegmentListChoice[] = [];
  const path: SidNode[] = [from];
  const onPath = new Set([from.name]);
  let explored = 0;
  const dfs = (at: SidNode, latencyNs: number): void => {
    for (const nb of catalogue.neighbours(at.name)) {
      if (onPath.has(nb.node)) continue;
      if (++explored > exploreLimit) {
        throw new Srv6Error('PATH_LIMIT', `more than ${exploreLimit} partial paths from ${from.name} to ${to.name}; narrow the policy or raise the limit`);
      }
      const next = catalogue.node(nb.node)!;
      if (next === to) {
        consider([...path, to], latencyNs + nb.latencyNs);
        continue;
      }
      const out = transitRuledOut(next);
      if (out) {
        ruledOut[out]++;
        continue;
      }
      // providers so far + this one + the decapsulation SID
      if (path.length + 1 > maxSegments) {
        ruledOut.tooManySegments++;
        continue;
      }
      path.push(next);
      onPath.add(next.name);
      dfs(next, latencyNs + nb.latencyNs);
      path.pop();
      onPath.delete(next.name);
    }
  };
  const consider = (nodes: SidNode[], latencyNs: number): void => {
    const cs = uniq(nodes.flatMap((n) => (n.geo ? [n.geo.country] : [])));
    const names = nodes.map((n) => n.name);
    if (!through.every((c) => cs.includes(c)) || !throughNodes.every((n) => names.includes(n))) {
      ruledOut.missesThrough++;
      return;
    }
    // copies: a caller may change its choice without changing the catalogue
    const segments = nodes.slice(1, -1).map((n) => Uint8Array.from(catalogue.endSid(n.name)!.bytes));
    segments.push(Uint8Array.from(decap.bytes));
    found.push({ segments, nodes: names, countries: cs, latencyNs });
  };
  dfs(from, 0);

  const byName = (a: SegmentListChoice, b: SegmentListChoice) => {
    const x = a.nodes.join(' ');
    const y = b.nodes.join(' ');
    return x < y ? -1 : x > y ? 1 : 0;
  };
  found.sort(policy.preference === 'latency'
    ? (a, b) => a.latencyNs - b.latencyNs || a.segments.length - b.segments.length || byName(a, b)
    : (a, b) => a.segments.length - b.segments.length || a.latencyNs - b.latencyNs || byName(a, b));
  return { choices: found, ruledOut };
}

function need(catalogue: SidCatalogue, name: string, what: string): SidNode {
  const n = catalogue.node(name);
  if (!n) throw new Srv6Error('UNKNOWN_NODE', `${what}: "${name}" is not a node of the SID catalogue`);
  return n;
}

function country(code: string): string {
  if (!isCountryCode(code)) throw new Srv6Error('BAD_ARGUMENT', `"${code}" is no ISO 3166-1 alpha-2 country code (expand groups such as EU first)`);
  return code;
}

function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
