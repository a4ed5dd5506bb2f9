// A SCION path policy (pathpol's Policy): end-AS rules, an ACL, a sequence and weighted
// options, applied in that order. Loaded from the plain object of its JSON/YAML form,
// with pathpol's field names; `extends` pulls unset parts from named policies, the last
// name listed taking precedence, as pathpol does.
import { pathFingerprint } from '../path/fingerprint';
import { Acl } from './acl';
import { PathPolicyError } from './errors';
import { LocalIsdAs, RemoteIsdAs } from './isdas_rules';
import type { PolicyPath } from './path';
import { Sequence } from './sequence';

export interface PolicyOption {
  weight: number;
  policy: Policy;
}

export class Policy {
  constructor(
    readonly parts: {
      acl?: Acl;
      sequence?: Sequence;
      localIsdAs?: LocalIsdAs;
      remoteIsdAs?: RemoteIsdAs;
      /** Sorted by weight, highest first. */
      options?: readonly PolicyOption[];
    },
  ) {}

  filter<P extends PolicyPath>(paths: readonly P[]): P[] {
    const { acl, sequence, localIsdAs, remoteIsdAs, options } = this.parts;
    let out = [...paths];
    if (localIsdAs) out = localIsdAs.filter(out);
    if (remoteIsdAs) out = remoteIsdAs.filter(out);
    if (acl) out = acl.filter(out);
    if (sequence) out = sequence.filter(out);
    if (options && options.length > 0) out = evalOptions(options, out);
    return out;
  }
}

/**
 * Paths chosen by the options of the highest weight that selects any path; options of
 * equal weight pool their paths. The input order is kept.
 */
function evalOptions<P extends PolicyPath>(options: readonly PolicyOption[], paths: P[]): P[] {
  const chosen = new Set<string>();
  let weight = options[0].weight;
  for (const o of options) {
    if (o.weight < weight && chosen.size > 0) break;
    weight = o.weight;
    for (const p of o.policy.filter(paths)) chosen.add(pathFingerprint(p.interfaces));
  }
  return paths.filter((p) => chosen.has(pathFingerprint(p.interfaces)));
}

const FIELDS = ['acl', 'sequence', 'local_isd_ases', 'remote_isd_ases', 'options', 'extends'];

type Named = ReadonlyMap<string, unknown>;

/** Builds a policy from its plain-object form; `named` resolves `extends`. */
export function parsePolicy(value: unknown, named: Named = new Map(), field = ''): Policy {
  return resolve(value, named, field, []);
}

/** Parses a set of named policies, each free to extend the others. */
export function parsePolicies(named: Named): Map<string, Policy> {
  return new Map([...named.keys()].map((name) => [name, resolve(named.get(name), named, name, [name])]));
}

function resolve(value: unknown, named: Named, field: string, stack: string[]): Policy {
  const at = (f: string): string => (field ? `${field}.${f}` : f);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PathPolicyError('BAD_POLICY', 'a policy is an object', field);
  }
  const o = value as Record<string, unknown>;
  const unknown = Object.keys(o).find((k) => !FIELDS.includes(k));
  if (unknown !== undefined) {
    throw new PathPolicyError('BAD_POLICY', `unknown field "${unknown}" (known: ${FIELDS.join(', ')})`, field);
  }
  const parts: Policy['parts'] & Record<string, unknown> = {};
  if (o.acl !== undefined) {
    if (!Array.isArray(o.acl)) throw new PathPolicyError('BAD_ACL', 'must be a list of entries', at('acl'));
    parts.acl = Acl.parse(o.acl, at('acl'));
  }
  if (o.sequence !== undefined) {
    if (typeof o.sequence !== 'string') throw new PathPolicyError('BAD_SEQUENCE', 'must be a string', at('sequence'));
    try {
      parts.sequence = new Sequence(o.sequence);
    } catch (e) {
      if (e instanceof PathPolicyError) throw new PathPolicyError(e.code, e.message, at('sequence'));
      throw e;
    }
  }
  if (o.local_isd_ases !== undefined) parts.localIsdAs = LocalIsdAs.parse(o.local_isd_ases, at('local_isd_ases'));
  if (o.remote_isd_ases !== undefined) parts.remoteIsdAs = RemoteIsdAs.parse(o.remote_isd_ases, at('remote_isd_ases'));
  if (o.options !== undefined) parts.options = parseOptions(o.options, named, at('options'), stack);
  for (const name of [...parseExtends(o.extends, at('extends'))].reverse()) {
    if (stack.includes(name)) {
      throw new PathPolicyError('POLICY_CYCLE', `extends form a cycle: ${[...stack, name].join(' → ')}`, at('extends'));
    }
    if (!named.has(name)) throw new PathPolicyError('UNKNOWN_POLICY', `extends unknown policy "${name}"`, at('extends'));
    const base = resolve(named.get(name), named, name, [...stack, name]).parts;
    parts.acl ??= base.acl;
    parts.sequence ??= base.sequence;
    parts.localIsdAs ??= base.localIsdAs;
    parts.remoteIsdAs ??= base.remoteIsdAs;
    if (!parts.options?.length) parts.options = base.options;
  }
  return new Policy(parts);
}

function parseExtends(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new PathPolicyError('BAD_POLICY', 'must be a list of policy names', field);
  }
  return value as string[];
}

function parseOptions(value: unknown, named: Named, field: string, stack: string[]): PolicyOption[] {
  if (!Array.isArray(value)) throw new PathPolicyError('BAD_POLICY', 'must be a list of {weight, policy}', field);
  const options = value.map((v: unknown, i) => {
    const f = `${field}[${i}]`;
    if (typeof v !== 'object' || v === null) throw new PathPolicyError('BAD_POLICY', 'must be {weight, policy}', f);
    const o = v as Record<string, unknown>;
    const extra = Object.keys(o).find((k) => k !== 'weight' && k !== 'policy');
    if (extra !== undefined) throw new PathPolicyError('BAD_POLICY', `unknown field "${extra}"`, f);
    if (!Number.isInteger(o.weight)) throw new PathPolicyError('BAD_POLICY', 'must be an integer', `${f}.weight`);
    return { weight: o.weight as number, policy: resolve(o.policy, named, `${f}.policy`, stack) };
  });
  return options.sort((a, b) => b.weight - a.weight);
}
