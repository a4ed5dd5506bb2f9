// Workload selection with Kubernetes LabelSelector semantics (matchLabels AND
// matchExpressions; an empty selector matches everything), once for the namespace and once
// for the pod, so policies and fences pick workloads the way NetworkPolicies do.
import { asRecord, enumOf, list, rejectUnknown, reqField, str, strings, stringMap, type Fields } from './fields';
import { fieldPath, type Problems } from './problems';
import type { WorkloadLabels } from '../identity/workload_labels';

export const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
export type SelectorOperator = (typeof SELECTOR_OPERATORS)[number];

export interface LabelExpression {
  key: string;
  operator: SelectorOperator;
  /** Non-empty for In and NotIn, empty for Exists and DoesNotExist. */
  values: string[];
}

export interface LabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: LabelExpression[];
}

export interface WorkloadSelector {
  /** Matched against the namespace's labels (Kubernetes sets kubernetes.io/metadata.name on every namespace). */
  namespaceSelector: LabelSelector;
  podSelector: LabelSelector;
}

const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes label key: optional DNS-subdomain prefix and '/', then a name of at most 63 characters. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `label key prefix "${prefix}" must be a DNS subdomain of at most 253 characters`;
  }
  if (name.length === 0 || name.length > 63 || !NAME_PART.test(name)) {
    return `label key name "${name}" must be 1-63 characters of alphanumerics, '-', '_' or '.', starting and ending alphanumeric`;
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !NAME_PART.test(value)) {
    return `label value "${value}" must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending alphanumeric`;
  }
  return undefined;
}

function readExpression(ps: Problems, v: unknown, path: string): LabelExpression | undefined {
  const o = asRecord(ps, v, path);
  if (!o) return undefined;
  rejectUnknown(ps, o, path, ['key', 'operator', 'values']);
  const before = ps.count;
  const rawKey = reqField(ps, o, 'key', path);
  const key = rawKey === undefined ? undefined : str(ps, rawKey, fieldPath(path, 'key'));
  if (key !== undefined) {
    const bad = labelKeyProblem(key);
    if (bad) ps.add(fieldPath(path, 'key'), bad);
  }
  const rawOperator = reqField(ps, o, 'operator', path);
  const operator = rawOperator === undefined ? undefined : enumOf(ps, rawOperator, fieldPath(path, 'operator'), SELECTOR_OPERATORS);
  const values = o.values === undefined ? [] : strings(ps, o.values, fieldPath(path, 'values'), labelValueProblem);
  if (operator === 'In' || operator === 'NotIn') {
    if (values.length === 0) ps.add(fieldPath(path, 'values'), `must be non-empty for operator ${operator}`);
  } else if (operator !== undefined && values.length > 0) {
    ps.add(fieldPath(path, 'values'), `must be empty for operator ${operator}`);
  }
  if (ps.count > before || key === undefined || operator === undefined) return undefined;
  return { key, operator, values };
}

export function readLabelSelector(ps: Problems, v: unknown, path: string): LabelSelector {
  const o: Fields = asRecord(ps, v, path) ?? {};
  rejectUnknown(ps, o, path, ['matchLabels', 'matchExpressions']);
  const matchLabels = o.matchLabels === undefined ? {} : stringMap(ps, o.matchLabels, fieldPath(path, 'matchLabels'));
  for (const [k, val] of Object.entries(matchLabels)) {
    const at = fieldPath(fieldPath(path, 'matchLabels'), k);
    const bad = labelKeyProblem(k) ?? labelValueProblem(val);
    if (bad) ps.add(at, bad);
  }
  const exprPath = fieldPath(path, 'matchExpressions');
  const raw = o.matchExpressions === undefined ? [] : (list(ps, o.matchExpressions, exprPath) ?? []);
  const matchExpressions = raw.flatMap((e, i) => readExpression(ps, e, fieldPath(exprPath, i)) ?? []);
  return { matchLabels, matchExpressions };
}

/** A missing namespace or pod selector selects all; write `{}` to say so explicitly. */
export function readWorkloadSelector(ps: Problems, v: unknown, path: string): WorkloadSelector {
  const o: Fields = asRecord(ps, v, path) ?? {};
  rejectUnknown(ps, o, path, ['namespaceSelector', 'podSelector']);
  const all = (): LabelSelector => ({ matchLabels: {}, matchExpressions: [] });
  return {
    namespaceSelector: o.namespaceSelector === undefined ? all() : readLabelSelector(ps, o.namespaceSelector, fieldPath(path, 'namespaceSelector')),
    podSelector: o.podSelector === undefined ? all() : readLabelSelector(ps, o.podSelector, fieldPath(path, 'podSelector')),
  };
}

export function matchesSelector(sel: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels)) if (labels[k] !== v) return false;
  return sel.matchExpressions.every((e) => {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case 'In':
        return has && e.values.includes(labels[e.key]!);
      case 'NotIn':
        return !has || !e.values.includes(labels[e.key]!);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
  });
}

export function matchesWorkload(sel: WorkloadSelector, w: WorkloadLabels): boolean {
  return matchesSelector(sel.namespaceSelector, w.namespaceLabels) && matchesSelector(sel.podSelector, w.podLabels);
}
