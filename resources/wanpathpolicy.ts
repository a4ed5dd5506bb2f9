// WANPathPolicy: which SCION paths the selected workloads' traffic to the given
// destinations takes, how the candidates are ranked, and how many of them are used.
import type { IA } from '../scion/isdas';
import { parsePrefix } from './addresses';
import { asRecord, enumOf, int, list, rejectDuplicates, rejectUnknown, reqField, str, strings, type Fields } from './fields';
import { readIA } from './isdas';
import { API_VERSION, objectNameProblem, readEnvelope, type Resource } from './meta';
import { compilePathPolicy, readPathPolicy, type PathPolicySpec } from './pathpolicy';
import { fieldPath, Problems, type Validation } from './problems';
import { readWorkloadSelector, type WorkloadSelector } from './selector';

/** A destination by RemoteCluster name (its ISD-AS and prefixes come from there) or by ISD-AS and prefixes. */
export type Destination = { cluster: string } | { isdAS: IA; prefixes: string[] };

export const PREFERENCES = ['latency', 'bandwidth', 'hopCount', 'weighted'] as const;
export type Preference = (typeof PREFERENCES)[number];

/** Relative weights of the ranking criteria; each in [0, 1], summing to 1. */
export interface PreferenceWeights {
  latency: number;
  bandwidth: number;
  hopCount: number;
}

export const PATH_MODES = ['single', 'multipath'] as const;
export type PathMode = (typeof PATH_MODES)[number];

export const MAX_PATHS = 16;
export const DEFAULT_MULTIPATH_PATHS = 2;

export interface WANPathPolicySpec {
  workloadSelector: WorkloadSelector;
  destinations: Destination[];
  /** Plain object for the path policy engine; {} when the resource gives none. */
  pathPolicy: PathPolicySpec;
  preference: Preference;
  /** Normalised weights; for a single-criterion preference that criterion has weight 1. */
  weights: PreferenceWeights;
  mode: PathMode;
  /** Paths programmed: 1 for single, at least 2 for multipath. */
  paths: number;
}

export type WANPathPolicy = Resource<'WANPathPolicy', WANPathPolicySpec>;

const SPEC_FIELDS = ['workloadSelector', 'destinations', 'pathPolicy', 'preference', 'weights', 'mode', 'paths'];
const CRITERIA = ['latency', 'bandwidth', 'hopCount'] as const;

function readDestination(ps: Problems, v: unknown, path: string): Destination | undefined {
  const o = asRecord(ps, v, path);
  if (!o) return undefined;
  rejectUnknown(ps, o, path, ['cluster', 'isdAS', 'prefixes']);
  const before = ps.count;
  if (o.cluster !== undefined) {
    if (o.isdAS !== undefined || o.prefixes !== undefined) {
      ps.add(path, 'give either cluster, or isdAS with prefixes, not both');
      return undefined;
    }
    const at = fieldPath(path, 'cluster');
    const name = str(ps, o.cluster, at);
    const bad = name === undefined ? undefined : objectNameProblem(name);
    if (bad) ps.add(at, bad);
    return ps.count > before || name === undefined ? undefined : { cluster: name };
  }
  if (o.isdAS === undefined) {
    ps.add(path, 'needs cluster, or isdAS with prefixes');
    return undefined;
  }
  const isdAS = readIA(ps, o.isdAS, fieldPath(path, 'isdAS'));
  const prefixesAt = fieldPath(path, 'prefixes');
  const raw = reqField(ps, o, 'prefixes', path);
  const prefixes = raw === undefined ? [] : strings(ps, raw, prefixesAt, (p) => {
    const r = parsePrefix(p);
    return typeof r === 'string' ? r : undefined;
  });
  if (Array.isArray(raw) && raw.length === 0) ps.add(prefixesAt, 'must list at least one prefix');
  return ps.count > before || isdAS === undefined ? undefined : { isdAS, prefixes };
}

function readWeights(ps: Problems, v: unknown, path: string): PreferenceWeights | undefined {
  const o: Fields | undefined = asRecord(ps, v, path);
  if (!o) return undefined;
  rejectUnknown(ps, o, path, CRITERIA);
  const before = ps.count;
  const w: PreferenceWeights = { latency: 0, bandwidth: 0, hopCount: 0 };
  for (const c of CRITERIA) {
    const x = o[c];
    if (x === undefined) continue;
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) ps.add(fieldPath(path, c), `must be a non-negative number, not ${JSON.stringify(x)}`);
    else w[c] = x;
  }
  const sum = w.latency + w.bandwidth + w.hopCount;
  if (ps.count > before) return undefined;
  if (sum === 0) {
    ps.add(path, 'needs at least one positive weight');
    return undefined;
  }
  return { latency: w.latency / sum, bandwidth: w.bandwidth / sum, hopCount: w.hopCount / sum };
}

export function readWANPathPolicySpec(ps: Problems, o: Fields, path: string): WANPathPolicySpec | undefined {
  const before = ps.count;
  rejectUnknown(ps, o, path, SPEC_FIELDS);
  const ws = reqField(ps, o, 'workloadSelector', path);
  const workloadSelector = readWorkloadSelector(ps, ws ?? {}, fieldPath(path, 'workloadSelector'));

  const destAt = fieldPath(path, 'destinations');
  const rawDest = reqField(ps, o, 'destinations', path);
  const destItems = rawDest === undefined ? [] : (list(ps, rawDest, destAt) ?? []);
  if (Array.isArray(rawDest) && rawDest.length === 0) ps.add(destAt, 'must list at least one destination');
  const dests = destItems.map((d, i) => readDestination(ps, d, fieldPath(destAt, i)));
  rejectDuplicates(ps, dests, destAt, (d) => ('cluster' in d ? `cluster ${d.cluster}` : `isdAS ${d.isdAS} ${[...d.prefixes].sort().join(',')}`));

  const beforePolicy = ps.count;
  const pathPolicy = o.pathPolicy === undefined ? {} : readPathPolicy(ps, o.pathPolicy, fieldPath(path, 'pathPolicy'));
  if (pathPolicy !== undefined && ps.count === beforePolicy) compilePathPolicy(ps, pathPolicy, fieldPath(path, 'pathPolicy'));

  const preference = o.preference === undefined ? 'latency' : enumOf(ps, o.preference, fieldPath(path, 'preference'), PREFERENCES);
  let weights: PreferenceWeights | undefined;
  if (preference === 'weighted') {
    const raw = reqField(ps, o, 'weights', path);
    weights = raw === undefined ? undefined : readWeights(ps, raw, fieldPath(path, 'weights'));
  } else if (o.weights !== undefined) {
    ps.add(fieldPath(path, 'weights'), `only applies with preference: weighted (preference is ${preference ?? 'invalid'})`);
  } else if (preference !== undefined) {
    weights = { latency: 0, bandwidth: 0, hopCount: 0 };
    weights[preference] = 1;
  }

  const mode = o.mode === undefined ? 'single' : enumOf(ps, o.mode, fieldPath(path, 'mode'), PATH_MODES);
  let paths: number | undefined;
  if (mode === 'single') {
    paths = o.paths === undefined ? 1 : int(ps, o.paths, fieldPath(path, 'paths'), 1, 1);
  } else if (mode === 'multipath') {
    paths = o.paths === undefined ? DEFAULT_MULTIPATH_PATHS : int(ps, o.paths, fieldPath(path, 'paths'), 2, MAX_PATHS);
  }

  if (ps.count > before || !pathPolicy || !preference || !weights || !mode || paths === undefined) return undefined;
  return { workloadSelector, destinations: dests as Destination[], pathPolicy, preference, weights, mode, paths };
}

export function validateWANPathPolicy(obj: unknown): Validation<WANPathPolicy> {
  const ps = new Problems();
  const { metadata, spec: raw } = readEnvelope(ps, obj, 'WANPathPolicy');
  const spec = raw && readWANPathPolicySpec(ps, raw, 'spec');
  return ps.result(metadata && spec && { apiVersion: API_VERSION, kind: 'WANPathPolicy', metadata, spec });
}
