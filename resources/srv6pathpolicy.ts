// SRv6PathPolicy: which segment lists the selected workloads' traffic to the given clusters
// is encapsulated with (H.Encaps), chosen from the SID catalogue's provider graph under
// constraints in the spirit of the SCION path policy: through or around countries, nodes
// and operators, ranked by latency or hop count. The tenant (VRF) is not chosen here: it is
// the SRv6Tenant of the workload's namespace.
import { expandCountry, COUNTRY_GROUPS } from '../geo/countries';
import { asRecord, enumOf, int, list, rejectDuplicates, rejectUnknown, reqField, str, strings, type Fields } from './fields';
import { API_VERSION, objectNameProblem, readEnvelope, type Resource } from './meta';
import { fieldPath, Problems, type Validation } from './problems';
import { readWorkloadSelector, type WorkloadSelector } from './selector';

/** CIL_MAX_PATH_SET: segment lists one egress entry may spread a flow hash over. */
export const MAX_SEGMENT_LISTS = 8;
/** CIL_SRV6_MAX_SEGMENTS: segments one SRH template holds. */
export const MAX_SEGMENTS = 8;
export const DEFAULT_MULTIPATH_LISTS = 2;
/** HMAC key ids are 32 bits on the wire (RFC 8754 §2.1.2); 0 is reserved for "no HMAC". */
export const HMAC_KEY_ID_MAX = 0xffffffff;

export const SRV6_PREFERENCES = ['latency', 'hops'] as const;
export type Srv6Preference = (typeof SRV6_PREFERENCES)[number];
export const SRV6_MODES = ['single', 'multipath'] as const;
export type Srv6Mode = (typeof SRV6_MODES)[number];

export interface Srv6PathConstraints {
  /** Every one of these countries must be crossed (ISO 3166-1 alpha-2). */
  throughCountries: string[];
  /** No segment's node may be in these (groups such as EU expanded). */
  avoidCountries: string[];
  /** Every one of these catalogue nodes must be crossed. */
  throughNodes: string[];
  avoidNodes: string[];
  /** When non-empty, every provider node must be run by one of these operators. */
  operators: string[];
  /** Segments at most, the decapsulating SID included. */
  maxSegments: number;
}

export interface SRv6PathPolicySpec {
  workloadSelector: WorkloadSelector;
  /** Destination clusters by name: their edge nodes in the catalogue, their prefixes from the RemoteCluster. */
  destinations: Array<{ cluster: string }>;
  pathPolicy: Srv6PathConstraints;
  preference: Srv6Preference;
  mode: Srv6Mode;
  /** Segment lists programmed: 1 for single, at least 2 for multipath. */
  lists: number;
  /** Add an HMAC TLV keyed with this catalogue key. */
  hmac?: { keyId: number };
}

export type SRv6PathPolicy = Resource<'SRv6PathPolicy', SRv6PathPolicySpec>;

const CONSTRAINT_FIELDS = ['throughCountries', 'avoidCountries', 'throughNodes', 'avoidNodes', 'operators', 'maxSegments'];
const SPEC_FIELDS = ['workloadSelector', 'destinations', 'pathPolicy', 'preference', 'mode', 'lists', 'hmac'];

const uniqueSorted = (xs: readonly string[]): string[] => [...new Set(xs)].sort();

function countries(ps: Problems, v: unknown, path: string, groups: boolean): string[] {
  const codes = strings(ps, v, path, (c) => {
    const expanded = expandCountry(c);
    if (!expanded) return `"${c}" is neither an ISO 3166-1 alpha-2 code (upper case) nor a group (${Object.keys(COUNTRY_GROUPS).join(', ')})`;
    // "Through EU" would mean through every member state; a group only makes sense to avoid.
    if (!groups && expanded.length !== 1) return `"${c}" is a group; name the countries to cross one by one`;
    return undefined;
  });
  return uniqueSorted(codes.flatMap((c) => expandCountry(c) ?? []));
}

function names(ps: Problems, v: unknown, path: string): string[] {
  return uniqueSorted(strings(ps, v, path, (s) => (s.trim() === '' ? 'must not be empty' : undefined)));
}

function readConstraints(ps: Problems, v: unknown, path: string): Srv6PathConstraints | undefined {
  const o = asRecord(ps, v, path);
  if (!o) return undefined;
  rejectUnknown(ps, o, path, CONSTRAINT_FIELDS);
  const before = ps.count;
  const at = (k: string): string => fieldPath(path, k);
  const c: Srv6PathConstraints = {
    throughCountries: o.throughCountries === undefined ? [] : countries(ps, o.throughCountries, at('throughCountries'), false),
    avoidCountries: o.avoidCountries === undefined ? [] : countries(ps, o.avoidCountries, at('avoidCountries'), true),
    throughNodes: o.throughNodes === undefined ? [] : names(ps, o.throughNodes, at('throughNodes')),
    avoidNodes: o.avoidNodes === undefined ? [] : names(ps, o.avoidNodes, at('avoidNodes')),
    operators: o.operators === undefined ? [] : names(ps, o.operators, at('operators')),
    maxSegments: o.maxSegments === undefined ? MAX_SEGMENTS : (int(ps, o.maxSegments, at('maxSegments'), 1, MAX_SEGMENTS) ?? MAX_SEGMENTS),
  };
  const both = c.throughCountries.find((x) => c.avoidCountries.includes(x));
  if (both) ps.add(path, `country ${both} is both to cross and to avoid`);
  const node = c.throughNodes.find((x) => c.avoidNodes.includes(x));
  if (node) ps.add(path, `node ${node} is both to cross and to avoid`);
  return ps.count > before ? undefined : c;
}

function readDestination(ps: Problems, v: unknown, path: string): { cluster: string } | undefined {
  const o = asRecord(ps, v, path);
  if (!o) return undefined;
  rejectUnknown(ps, o, path, ['cluster']);
  const raw = reqField(ps, o, 'cluster', path);
  const at = fieldPath(path, 'cluster');
  const name = raw === undefined ? undefined : str(ps, raw, at);
  const bad = name === undefined ? undefined : objectNameProblem(name);
  if (bad) ps.add(at, bad);
  return name === undefined || bad ? undefined : { cluster: name };
}

function readHmac(ps: Problems, v: unknown, path: string): { keyId: number } | undefined {
  const o = asRecord(ps, v, path);
  if (!o) return undefined;
  rejectUnknown(ps, o, path, ['keyId']);
  const raw = reqField(ps, o, 'keyId', path);
  const keyId = raw === undefined ? undefined : int(ps, raw, fieldPath(path, 'keyId'), 1, HMAC_KEY_ID_MAX);
  return keyId === undefined ? undefined : { keyId };
}

export function readSRv6PathPolicySpec(ps: Problems, o: Fields, path: string): SRv6PathPolicySpec | undefined {
  const before = ps.count;
  rejectUnknown(ps, o, path, SPEC_FIELDS);
  const ws = reqField(ps, o, 'workloadSelector', path);
  const workloadSelector = readWorkloadSelector(ps, ws ?? {}, fieldPath(path, 'workloadSelector'));

  const destAt = fieldPath(path, 'destinations');
  const rawDest = reqField(ps, o, 'destinations', path);
  const destItems = rawDest === undefined ? [] : (list(ps, rawDest, destAt) ?? []);
  if (Array.isArray(rawDest) && rawDest.length === 0) ps.add(destAt, 'must list at least one destination');
  const dests = destItems.map((d, i) => readDestination(ps, d, fieldPath(destAt, i)));
  rejectDuplicates(ps, dests, destAt, (d) => `cluster ${d.cluster}`);

  const pathPolicy = o.pathPolicy === undefined ? readConstraints(ps, {}, fieldPath(path, 'pathPolicy')) : readConstraints(ps, o.pathPolicy, fieldPath(path, 'pathPolicy'));
  const preference = o.preference === undefined ? 'latency' : enumOf(ps, o.preference, fieldPath(path, 'preference'), SRV6_PREFERENCES);
  const mode = o.mode === undefined ? 'single' : enumOf(ps, o.mode, fieldPath(path, 'mode'), SRV6_MODES);
  let lists: number | undefined;
  if (mode === 'single') lists = o.lists === undefined ? 1 : int(ps, o.lists, fieldPath(path, 'lists'), 1, 1);
  else if (mode === 'multipath') lists = o.lists === undefined ? DEFAULT_MULTIPATH_LISTS : int(ps, o.lists, fieldPath(path, 'lists'), 2, MAX_SEGMENT_LISTS);
  const hmac = o.hmac === undefined ? undefined : readHmac(ps, o.hmac, fieldPath(path, 'hmac'));

  if (ps.count > before || !pathPolicy || !preference || !mode || lists === undefined) return undefined;
  return {
    workloadSelector, destinations: dests as Array<{ cluster: string }>, pathPolicy, preference, mode, lists,
    ...(hmac ? { hmac } : {}),
  };
}

export function validateSRv6PathPolicy(obj: unknown): Validation<SRv6PathPolicy> {
  const ps = new Problems();
  const { metadata, spec: raw } = readEnvelope(ps, obj, 'SRv6PathPolicy');
  const spec = raw && readSRv6PathPolicySpec(ps, raw, 'spec');
  return ps.result(metadata && spec && { apiVersion: API_VERSION, kind: 'SRv6PathPolicy', metadata, spec });
}
