// FlowFilter -> SQL WHERE over the flows table, values always bound as query parameters.
// Enums compare by name (the columns are Enums of the proto names); labels are matched in
// `workloads` and hops in `path_headers`, and a flow is selected by the key it holds.
//
// A pushed-down condition is a necessary condition: it may let through flows the filter
// rejects (those are removed afterwards by flowMatcher), never the other way round. Allow
// filters therefore push down everything they can. A deny filter is negated, which is only
// sound when its SQL is exactly the filter, so deny filters push down only when every field
// they set translates exactly. "Exact" is claimed only where a column holds the field as it
// is and an absent field cannot be mistaken for a value (0 is both "unset" and a value).
import {
  DropReason, FlowFilter, GeofenceVerdict, TrafficDirection, Verdict, WanPathType,
} from '../../proto/gen/flow/flow';
import { PRESENT } from '../../columns/layout';
import { asOf, formatAS, formatIA, isdOf, parseIA } from '../../scion/isdas';

export class Params {
  readonly values: Record<string, unknown> = {};
  private next = 0;

  bind(value: unknown, type: string): string {
    const name = `p${this.next++}`;
    this.values[name] = value;
    return `{${name}:${type}}`;
  }
}

interface Piece {
  sql: string;
  exact: boolean;
}

type FieldName = keyof FlowFilter;
/** `db` names the database whose `workloads` and `path_headers` the subqueries read. */
type Translator = (values: never[], p: Params, db: string) => Piece | undefined;

const TRUE_INEXACT: Piece = { sql: '1', exact: false };
const NOTHING: Piece = { sql: '0', exact: true };

/**
 * WHERE clause for allow/deny lists with Hubble semantics (allow: any filter; deny: none),
 * or '1' when nothing can be pushed down.
 */
export function filtersWhere(allow: readonly FlowFilter[], deny: readonly FlowFilter[], p: Params, db: string): string {
  const parts: string[] = [];
  if (allow.length > 0) {
    const alts = allow.map((f) => filterPiece(f, p, db));
    if (!alts.some((a) => a.sql === '1')) parts.push(`(${alts.map((a) => `(${a.sql})`).join(' OR ')})`);
  }
  for (const f of deny) {
    const piece = filterPiece(f, p, db);
    if (piece.exact) parts.push(`NOT (${piece.sql})`);
  }
  return parts.length === 0 ? '1' : parts.join(' AND ');
}

/** True when filtersWhere captures these lists exactly, so no flow needs re-checking. */
export function pushdownIsExact(allow: readonly FlowFilter[], deny: readonly FlowFilter[]): boolean {
  const p = new Params();
  return [...allow, ...deny].every((f) => filterPiece(f, p, 'db').exact);
}

function filterPiece(f: FlowFilter, p: Params, db: string): Piece {
  const conds: string[] = [];
  let exact = true;
  for (const [key, value] of Object.entries(f) as [FieldName, unknown][]) {
    if (!isSet(value)) continue;
    const translate = TRANSLATORS[key];
    const piece = translate ? translate(value as never[], p, db) : undefined;
    if (!piece) {
      exact = false;
      continue;
    }
    exact &&= piece.exact;
    if (piece.sql !== '1') conds.push(piece.sql);
  }
  return conds.length === 0 ? { sql: '1', exact } : { sql: conds.join(' AND '), exact };
}

function isSet(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value && typeof value === 'object') return Object.values(value).some(isSet);
  return false;
}

const TRANSLATORS: Partial<Record<FieldName, Translator>> = {
  // The flow's uuid comes back as the column's canonical text.
  uuid: (v: string[], p) => ({ sql: `toString(uuid) IN ${p.bind(v, 'Array(String)')}`, exact: true }),
  sourceIp: (v: string[], p) => ipCondition('source_ip', v, p),
  destinationIp: (v: string[], p) => ipCondition('destination_ip', v, p),
  sourcePod: (v: string[], p, db) => podCondition('source', v, p, db),
  destinationPod: (v: string[], p, db) => podCondition('destination', v, p, db),
  sourceLabel: (v: string[], p, db) => labelCondition('source_workload', v, p, db),
  destinationLabel: (v: string[], p, db) => labelCondition('destination_workload', v, p, db),
  sourceClusterName: (v: string[], p) => inStrings('source_cluster', v, p, false),
  destinationClusterName: (v: string[], p) => inStrings('destination_cluster', v, p, false),
  trafficDirection: (v: number[], p) => enumCondition('traffic_direction', TrafficDirection, v, p),
  verdict: (v: number[], p) => enumCondition('verdict', Verdict, v, p),
  dropReasonDesc: (v: number[], p) => enumCondition('drop_reason', DropReason, v, p),
  protocol: (v: string[], p) => protocolCondition(v, p),
  sourcePort: (v: string[], p) => portCondition('source_port', v, p),
  destinationPort: (v: string[], p) => portCondition('destination_port', v, p),
  sourceIdentity: (v: number[], p, db) => identityCondition('source_workload', v, p, db),
  destinationIdentity: (v: number[], p, db) => identityCondition('destination_workload', v, p, db),
  nodeName: (v: string[], p) => nodeCondition(v, p),
  ipVersion: (v: number[], p) => ({ sql: `ip_version IN ${p.bind(v, 'Array(UInt8)')}`, exact: !v.includes(0) }),
  srcIa: (v: string[], p) => iaCondition('src_ia', v, p),
  dstIa: (v: string[], p) => iaCondition('dst_ia', v, p),
  throughIa: (v: string[], p, db) => throughIaCondition(v, p, db),
  throughIsd: (v: number[], p, db) =>
    v.includes(0) ? undefined : pathCondition(`hasAny(${HOP_ISDS}, ${p.bind(v, 'Array(UInt16)')})`, db),
  throughCountry: (v: string[], p, db) => {
    const countries = p.bind(v.map((c) => c.toUpperCase()).filter((c) => c !== ''), 'Array(String)');
    const scion = pathCondition(`hasAny(arrayMap(c -> upper(c), hops.country), ${countries})`, db);
    return { sql: `(${scion.sql} OR hasAny(splitByChar(',', upper(srv6_countries)), ${countries}))`, exact: false };
  },
  throughSid: (v: string[], p) => sidCondition(v, p),
  pathType: (v: number[], p) => enumCondition('path_type', WanPathType, v, p),
  pathFingerprint: (v: string[], p) => ({
    sql: `(${v.map((f) => `startsWith(path_fingerprint, ${p.bind(f.toLowerCase(), 'String')})`).join(' OR ')})`,
    exact: false,
  }),
  geofenceVerdict: (v: number[], p) => {
    const names = enumNames(GeofenceVerdict, v);
    return names.length === 0 ? NOTHING : { sql: `(${HAS_FENCE} AND geofence_verdict IN ${p.bind(names, 'Array(String)')})`, exact: true };
  },
  geofenceName: (v: string[], p) => geofenceNameCondition(v, p),
};

/** Only a flow with a Geofence has a fence verdict or name, whatever its columns hold. */
const HAS_FENCE = `bitAnd(present, ${PRESENT.GEOFENCE}) != 0`;

/** Names of the listed values the enum has; a number it lacks names nothing a stored flow can hold. */
function enumNames(e: Record<string, string | number>, values: number[]): string[] {
  const names = new Set<string>();
  for (const v of values) {
    const name = e[v];
    if (typeof name === 'string' && name !== 'UNRECOGNIZED') names.add(name);
  }
  return [...names];
}

/** An Enum column holds every value of its proto enum by name, so the comparison is the filter. */
function enumCondition(column: string, e: Record<string, string | number>, values: number[], p: Params): Piece {
  const names = enumNames(e, values);
  return names.length === 0 ? NOTHING : { sql: `${column} IN ${p.bind(names, 'Array(String)')}`, exact: true };
}

/** "fence" in any namespace or "namespace/fence"; anything else the matcher refuses before this runs. */
function geofenceNameCondition(values: string[], p: Params): Piece | undefined {
  const alts: string[] = [];
  for (const v of values) {
    const parts = v.split('/');
    if (parts.length > 2 || parts.some((x) => x === '')) return undefined;
    const name = `geofence_name = ${p.bind(parts[parts.length - 1], 'String')}`;
    alts.push(parts.length === 2 ? `(${name} AND geofence_namespace = ${p.bind(parts[0], 'String')})` : name);
  }
  return { sql: `(${HAS_FENCE} AND (${alts.join(' OR ')}))`, exact: true };
}

/** Each hop's ISD, as the matcher reads it from the hop's ISD-AS text (0 where there is none). */
const HOP_ISDS = `arrayMap(x -> toUInt16OrZero(splitByChar('-', x)[1]), hops.isd_as)`;

/** Flows whose path's header row satisfies `cond` (over its hops.*). */
function pathCondition(cond: string, db: string): Piece {
  return { sql: `path_key IN (SELECT key FROM ${db}.path_headers WHERE ${cond})`, exact: false };
}

function inStrings(column: string, values: string[], p: Params, exact: boolean): Piece {
  return { sql: `${column} IN ${p.bind(values, 'Array(String)')}`, exact };
}

/** Exact addresses compare as addresses (a /32 or /128 range), so spelling does not matter. */
function ipCondition(column: string, values: string[], p: Params): Piece | undefined {
  const ranges: string[] = [];
  for (const v of values) {
    if (v.includes('/')) ranges.push(v);
    else if (v.includes(':')) ranges.push(`${v}/128`);
    else if (v.includes('.')) ranges.push(`${v}/32`);
    else return undefined;
  }
  const valid = `(isIPv4String(${column}) OR isIPv6String(${column}))`;
  // A LowCardinality column is checked on its whole dictionary, "" included, which the range
  // check refuses: it sees "::" in place of anything that is no address (and `valid` fails).
  const any = ranges.map((r) => `isIPAddressInRange(if(${valid}, ${column}, '::'), ${p.bind(r, 'String')})`).join(' OR ');
  return { sql: `(${valid} AND (${any}))`, exact: false };
}

/**
 * Some segment of srv6_segments is the SID or lies in the prefix, compared as addresses.
 * Not claimed exact: the engine and the matcher parse IPv6 text each their own way.
 */
function sidCondition(values: string[], p: Params): Piece {
  const ranges = values.map((v) => p.bind(v.includes('/') ? v : `${v}/128`, 'String'));
  // "" (no SRv6 path) splits into one empty segment, which is no address: the range check
  // would refuse it, so it sees "::" instead, and isIPv6String rules it out.
  const inside = ranges.map((r) => `isIPAddressInRange(if(isIPv6String(s), s, '::'), ${r})`).join(' OR ');
  return { sql: `arrayExists(s -> isIPv6String(s) AND (${inside}), splitByChar(',', srv6_segments))`, exact: false };
}

/** Flows whose endpoint's workloads row satisfies `cond`. */
function workloadCondition(column: string, cond: string, db: string): string {
  return `${column} IN (SELECT key FROM ${db}.workloads WHERE ${cond})`;
}

/**
 * "namespace/pod-prefix", "namespace/" (the whole namespace) or "pod-prefix". The pod name
 * is the workloads row's (the flow holds its key); the namespace is also the flow's own.
 */
function podCondition(side: 'source' | 'destination', values: string[], p: Params, db: string): Piece {
  const alts = values.map((v) => {
    const slash = v.indexOf('/');
    const prefix = slash < 0 ? v : v.slice(slash + 1);
    const pod = workloadCondition(`${side}_workload`, `startsWith(pod_name, ${p.bind(prefix, 'String')})`, db);
    if (slash < 0) return pod;
    const namespace = `${side}_namespace = ${p.bind(v.slice(0, slash), 'String')}`;
    return prefix === '' ? namespace : `(${namespace} AND ${pod})`;
  });
  return { sql: `(${alts.join(' OR ')})`, exact: false };
}

/**
 * The identity is the workloads row's, which is the rebuilt flow's endpoint; a flow without
 * an endpoint (key 0, no row) has identity 0, so the condition is exact unless 0 is asked for.
 */
function identityCondition(column: string, values: number[], p: Params, db: string): Piece {
  return { sql: workloadCondition(column, `identity IN ${p.bind(values, 'Array(UInt32)')}`, db), exact: !values.includes(0) };
}

/**
 * Label selectors: each "key=value" (or "key==value") term, with or without a source prefix,
 * must appear as a label ending in ":key=value" or equal to "key=value" of the endpoint's
 * workloads row. Other terms (set operators, existence, negation) are left to the matcher.
 */
function labelCondition(column: string, selectors: string[], p: Params, db: string): Piece {
  const alts: string[] = [];
  for (const selector of selectors) {
    const terms = splitTerms(selector)
      .map(equalityTerm)
      .filter((t): t is string => t !== undefined)
      .map((kv) => {
        const a = p.bind(kv, 'String');
        const b = p.bind(`:${kv}`, 'String');
        return `arrayExists(l -> l = ${a} OR endsWith(l, ${b}), labels)`;
      });
    if (terms.length === 0) return TRUE_INEXACT;
    alts.push(terms.join(' AND '));
  }
  return { sql: workloadCondition(column, alts.map((a) => `(${a})`).join(' OR '), db), exact: false };
}

function splitTerms(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  out.push(selector.slice(start));
  return out.map((t) => t.trim());
}

/** "key=value" for an equality term, stripped of its source prefix; undefined otherwise. */
function equalityTerm(term: string): string | undefined {
  const m = /^([^\s=!(),]+?)\s*==?\s*([^\s=!(),]*)$/.exec(term);
  if (!m) return undefined;
  const key = m[1].slice(m[1].indexOf(':') + 1);
  return key === '' ? undefined : `${key}=${m[2]}`;
}

const L4_PROTOCOLS: Record<string, string[]> = {
  tcp: ['TCP'],
  udp: ['UDP'],
  sctp: ['SCTP'],
  icmp: ['ICMPv4', 'ICMPv6'],
  icmpv4: ['ICMPv4'],
  icmpv6: ['ICMPv6'],
};

function protocolCondition(values: string[], p: Params): Piece | undefined {
  const cases: string[] = [];
  for (const v of values) {
    const mapped = L4_PROTOCOLS[v.toLowerCase()];
    if (!mapped) return undefined;
    cases.push(...mapped);
  }
  return { sql: `protocol IN ${p.bind(cases, 'Array(String)')}`, exact: false };
}

function portCondition(column: string, values: string[], p: Params): Piece | undefined {
  const ports: number[] = [];
  for (const v of values) {
    if (!/^\d+$/.test(v)) return undefined;
    const port = Number(v);
    if (port < 1 || port > 65535) return undefined;
    ports.push(port);
  }
  return { sql: `${column} IN ${p.bind(ports, 'Array(UInt16)')}`, exact: false };
}

/** Plain node names only; patterns with a cluster part or wildcards go to the matcher. */
function nodeCondition(values: string[], p: Params): Piece | undefined {
  if (values.some((v) => v.includes('*') || v.includes('/') || v === '')) return undefined;
  const names = p.bind(values, 'Array(String)');
  return {
    sql: `(node_name IN ${names} OR arrayExists(n -> endsWith(node_name, concat('/', n)), ${names}))`,
    exact: false,
  };
}

/** SQL over a canonical ISD-AS text column or lambda variable; undefined for "match all". */
function iaPredicate(target: string, text: string, p: Params): string | null | undefined {
  let ia: bigint;
  try {
    ia = parseIA(text);
  } catch {
    return undefined;
  }
  const isd = isdOf(ia);
  const as = asOf(ia);
  if (isd === 0 && as === 0n) return null;
  if (as === 0n) return `startsWith(${target}, ${p.bind(`${isd}-`, 'String')})`;
  if (isd === 0) return `endsWith(${target}, ${p.bind(`-${formatAS(as)}`, 'String')})`;
  return `${target} = ${p.bind(formatIA(ia), 'String')}`;
}

function iaCondition(column: string, values: string[], p: Params): Piece | undefined {
  const alts: string[] = [];
  for (const v of values) {
    const pred = iaPredicate(column, v, p);
    if (pred === undefined) return undefined;
    if (pred === null) return TRUE_INEXACT;
    alts.push(pred);
  }
  return { sql: `(${alts.join(' OR ')})`, exact: false };
}

function throughIaCondition(values: string[], p: Params, db: string): Piece | undefined {
  const alts: string[] = [];
  for (const v of values) {
    const pred = iaPredicate('x', v, p);
    if (pred === undefined) return undefined;
    if (pred === null) alts.push('notEmpty(hops.isd_as)');
    else if (pred.startsWith('x = ')) alts.push(`has(hops.isd_as, ${pred.slice(4)})`);
    else alts.push(`arrayExists(x -> ${pred}, hops.isd_as)`);
  }
  return pathCondition(alts.join(' OR '), db);
}
