// Access control lists ("+ 1-ff00:0:110", "- 2", "+"): every interface of a path is looked
// up in order, the first matching entry decides, and one denied interface drops the path.
// As in pathpol, the list must end in exactly one match-all entry, so nothing is undecided.
import { PathPolicyError } from './errors';
import { formatHopPredicate, matchesAll, matchesInterface, parseHopPredicate, type HopPredicate } from './hop_predicate';
import type { PolicyPath } from './path';

export interface AclEntry {
  allow: boolean;
  /** null: matches every interface. */
  rule: HopPredicate | null;
}

export class Acl {
  private constructor(readonly entries: readonly AclEntry[]) {}

  static parse(lines: readonly string[], field = 'acl'): Acl {
    const entries = lines.map((line, i) => parseEntry(line, `${field}[${i}]`));
    const defaultAt = entries.findIndex((e) => matchesAll(e.rule));
    if (defaultAt < 0) throw new PathPolicyError('BAD_ACL', 'needs a final match-all entry ("+" or "-")', field);
    if (defaultAt !== entries.length - 1) {
      throw new PathPolicyError('BAD_ACL', `entry ${defaultAt} matches everything, so the entries after it never apply`, field);
    }
    return new Acl(entries);
  }

  allows(path: PolicyPath): boolean {
    // Interfaces alternate egress, ingress, egress, ...: odd indices are ingress interfaces.
    return path.interfaces.every((pi, i) => this.decide(pi, i % 2 === 1));
  }

  filter<P extends PolicyPath>(paths: readonly P[]): P[] {
    return paths.filter((p) => this.allows(p));
  }

  toStrings(): string[] {
    return this.entries.map((e) => (e.allow ? '+' : '-') + (e.rule === null ? '' : ` ${formatHopPredicate(e.rule)}`));
  }

  private decide(pi: PolicyPath['interfaces'][number], ingress: boolean): boolean {
    for (const e of this.entries) {
      if (e.rule === null || matchesInterface(e.rule, pi, ingress)) return e.allow;
    }
    return false;
  }
}

function parseEntry(line: unknown, field: string): AclEntry {
  if (typeof line !== 'string') throw new PathPolicyError('BAD_ACL', 'an ACL entry is a string like "+ 1-ff00:0:110"', field);
  const parts = line.trim().split(/\s+/);
  if (parts.length > 2 || (parts[0] !== '+' && parts[0] !== '-')) {
    throw new PathPolicyError('BAD_ACL', `"${line}" is not "+|- [hop predicate]"`, field);
  }
  try {
    return { allow: parts[0] === '+', rule: parts.length === 2 ? parseHopPredicate(parts[1]) : null };
  } catch (e) {
    if (e instanceof PathPolicyError) throw new PathPolicyError('BAD_ACL', e.message, field);
    throw e;
  }
}
