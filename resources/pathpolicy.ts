// The SCION path policy inside a WANPathPolicy, in the JSON shape of SCION's path policy
// language (field names acl, sequence, local_isd_ases, remote_isd_ases, options, extends)
// so a policy written for SCION tools reads the same here. This file checks the shape and
// the ISD-AS fields; compilePathPolicy then has the path policy engine (scion/pathpol)
// check what ACL entries and sequences mean.
import { parsePolicy, PathPolicyError } from '../scion/pathpol';
import { asRecord, int, list, optBool, rejectUnknown, reqField, str, strings, type Fields } from './fields';
import { readIA } from './isdas';
import { objectNameProblem } from './meta';
import { fieldPath, type Problems } from './problems';

export interface RemoteIsdAsRule {
  isd_as: string;
  reject?: boolean;
}

export interface PathPolicyOption {
  weight: number;
  policy: PathPolicySpec;
}

export interface PathPolicySpec {
  /** ACL entries such as "+ 64-2:0:10#1", "- 66", "+"; the last must match every hop. */
  acl?: string[];
  /** Hop-predicate sequence, e.g. "0* 66 0*". */
  sequence?: string;
  /** Paths must start in one of these ASes. */
  local_isd_ases?: string[];
  /** First matching rule decides on the path's destination AS; no match rejects. */
  remote_isd_ases?: RemoteIsdAsRule[];
  /** Sub-policies; the paths of the highest-weighted options that match any path win. */
  options?: PathPolicyOption[];
  /** Names of other WANPathPolicies whose pathPolicy fills the fields this one leaves unset. */
  extends?: string[];
}

export const PATH_POLICY_FIELDS = ['acl', 'sequence', 'local_isd_ases', 'remote_isd_ases', 'options', 'extends'] as const;

const MAX_WEIGHT = 2 ** 31 - 1;

const notBlank = (s: string): string | undefined => (s.trim() === '' ? 'must not be empty' : undefined);

function readRule(ps: Problems, v: unknown, path: string): RemoteIsdAsRule | undefined {
  const o = asRecord(ps, v, path);
  if (!o) return undefined;
  rejectUnknown(ps, o, path, ['isd_as', 'reject']);
  const raw = reqField(ps, o, 'isd_as', path);
  const ia = raw === undefined ? undefined : readIA(ps, raw, fieldPath(path, 'isd_as'), { wildcard: true });
  const reject = optBool(ps, o, 'reject', path);
  if (ia === undefined) return undefined;
  return { isd_as: raw as string, ...(reject !== undefined ? { reject } : {}) };
}

function readOption(ps: Problems, v: unknown, path: string): PathPolicyOption | undefined {
  const o = asRecord(ps, v, path);
  if (!o) return undefined;
  rejectUnknown(ps, o, path, ['weight', 'policy']);
  const rawWeight = reqField(ps, o, 'weight', path);
  const weight = rawWeight === undefined ? undefined : int(ps, rawWeight, fieldPath(path, 'weight'), -MAX_WEIGHT - 1, MAX_WEIGHT);
  const rawPolicy = reqField(ps, o, 'policy', path);
  const policy = rawPolicy === undefined ? undefined : readPathPolicy(ps, rawPolicy, fieldPath(path, 'policy'));
  return weight === undefined || policy === undefined ? undefined : { weight, policy };
}

/** Reads a path policy object; every field is optional and an empty policy accepts every path. */
export function readPathPolicy(ps: Problems, v: unknown, path: string): PathPolicySpec | undefined {
  const o: Fields | undefined = asRecord(ps, v, path);
  if (!o) return undefined;
  rejectUnknown(ps, o, path, PATH_POLICY_FIELDS);
  const out: PathPolicySpec = {};
  if (o.acl !== undefined) {
    const acl = strings(ps, o.acl, fieldPath(path, 'acl'), notBlank);
    if (Array.isArray(o.acl) && o.acl.length === 0) ps.add(fieldPath(path, 'acl'), 'must have at least one entry (a default such as "+" last)');
    out.acl = acl;
  }
  if (o.sequence !== undefined) {
    const seq = str(ps, o.sequence, fieldPath(path, 'sequence'));
    if (seq !== undefined && seq.trim() === '') ps.add(fieldPath(path, 'sequence'), 'must not be empty');
    if (seq !== undefined) out.sequence = seq;
  }
  if (o.local_isd_ases !== undefined) {
    const at = fieldPath(path, 'local_isd_ases');
    const items = list(ps, o.local_isd_ases, at) ?? [];
    items.forEach((item, i) => readIA(ps, item, fieldPath(at, i), { wildcard: true }));
    out.local_isd_ases = items.filter((x): x is string => typeof x === 'string');
  }
  if (o.remote_isd_ases !== undefined) {
    const at = fieldPath(path, 'remote_isd_ases');
    out.remote_isd_ases = (list(ps, o.remote_isd_ases, at) ?? []).flatMap((r, i) => readRule(ps, r, fieldPath(at, i)) ?? []);
  }
  if (o.options !== undefined) {
    const at = fieldPath(path, 'options');
    out.options = (list(ps, o.options, at) ?? []).flatMap((r, i) => readOption(ps, r, fieldPath(at, i)) ?? []);
  }
  if (o.extends !== undefined) {
    const at = fieldPath(path, 'extends');
    out.extends = strings(ps, o.extends, at, objectNameProblem);
  }
  return out;
}

/**
 * Compiles a well-formed path policy with scion/pathpol and records what it rejects (an
 * ACL without a default, a sequence that does not parse) as problems under `path`.
 * `extends` names other WANPathPolicies, resolved when paths are selected, so here every
 * name stands for an empty policy.
 */
export function compilePathPolicy(ps: Problems, spec: PathPolicySpec, path: string): void {
  const anyName: ReadonlyMap<string, unknown> = { has: () => true, get: () => ({}) } as unknown as ReadonlyMap<string, unknown>;
  try {
    parsePolicy(spec, anyName);
  } catch (e) {
    if (!(e instanceof PathPolicyError)) throw e;
    ps.add(e.field ? `${path}.${e.field}` : path, e.message.slice(e.field ? e.field.length + 2 : 0));
  }
}
