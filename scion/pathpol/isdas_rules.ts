// The end-AS rules of a path policy (pathpol's LocalISDAS and RemoteISDAS): the source AS
// must be one of a list; the destination is matched against ordered allow/reject rules
// with wildcards, the first match deciding and no match rejecting.
import { formatIA, iaMatches, parseIA, type IA } from '../isdas';
import { PathPolicyError } from './errors';
import type { PolicyPath } from './path';

export class LocalIsdAs {
  constructor(readonly allowed: readonly IA[]) {}

  static parse(value: unknown, field = 'local_isd_ases'): LocalIsdAs {
    if (!Array.isArray(value)) throw new PathPolicyError('BAD_ISD_AS_RULE', 'must be a list of ISD-AS', field);
    return new LocalIsdAs(value.map((v, i) => parseRuleIA(v, `${field}[${i}]`)));
  }

  /** A path that stays inside one AS has no local hop to judge and is dropped, as in pathpol. */
  filter<P extends PolicyPath>(paths: readonly P[]): P[] {
    return paths.filter((p) => p.src !== p.dst && this.allowed.includes(p.src));
  }

  toJSON(): string[] {
    return this.allowed.map((ia) => formatIA(ia));
  }
}

export interface RemoteRule {
  ia: IA;
  reject: boolean;
}

export class RemoteIsdAs {
  constructor(readonly rules: readonly RemoteRule[]) {}

  static parse(value: unknown, field = 'remote_isd_ases'): RemoteIsdAs {
    if (!Array.isArray(value)) throw new PathPolicyError('BAD_ISD_AS_RULE', 'must be a list of {isd_as, reject}', field);
    return new RemoteIsdAs(
      value.map((v: unknown, i) => {
        const f = `${field}[${i}]`;
        if (typeof v !== 'object' || v === null) throw new PathPolicyError('BAD_ISD_AS_RULE', 'must be {isd_as, reject}', f);
        const o = v as Record<string, unknown>;
        const unknown = Object.keys(o).filter((k) => k !== 'isd_as' && k !== 'reject');
        if (unknown.length > 0) throw new PathPolicyError('BAD_ISD_AS_RULE', `unknown field "${unknown[0]}"`, f);
        if (o.reject !== undefined && typeof o.reject !== 'boolean') {
          throw new PathPolicyError('BAD_ISD_AS_RULE', 'must be true or false', `${f}.reject`);
        }
        return { ia: o.isd_as === undefined ? 0n : parseRuleIA(o.isd_as, `${f}.isd_as`), reject: o.reject === true };
      }),
    );
  }

  filter<P extends PolicyPath>(paths: readonly P[]): P[] {
    return paths.filter((p) => {
      if (p.interfaces.length === 0) return false;
      const rule = this.rules.find((r) => iaMatches(r.ia, p.dst));
      return rule !== undefined && !rule.reject;
    });
  }

  toJSON(): { isd_as: string; reject?: boolean }[] {
    return this.rules.map((r) => ({ isd_as: formatIA(r.ia), ...(r.reject ? { reject: true } : {}) }));
  }
}

function parseRuleIA(v: unknown, field: string): IA {
  if (typeof v !== 'string') throw new PathPolicyError('BAD_ISD_AS_RULE', 'must be an ISD-AS string', field);
  try {
    return parseIA(v);
  } catch (e) {
    throw new PathPolicyError('BAD_ISD_AS_RULE', (e as Error).message, field);
  }
}
