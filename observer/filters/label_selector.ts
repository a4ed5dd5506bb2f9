// Kubernetes label selector syntax ("app=web,tier!=db,env in (a,b),!canary,team") over
// Cilium's source-prefixed labels ("k8s:app=web"). A key may carry a source ("k8s:app");
// without one it matches the key from any source, as Hubble's "any:" does.
import { FilterError } from './error';

type Op = 'exists' | 'absent' | 'eq' | 'neq' | 'in' | 'notin' | 'gt' | 'lt';
interface Requirement { source: string | null; key: string; op: Op; values: string[] }
/** A parsed label selector string: every requirement must hold (resources/selector.ts has the CRDs' LabelSelector). */
export type LabelRequirements = Requirement[];

// A qualified name with an optional DNS-subdomain prefix (Kubernetes' label key rules).
const KEY = /^(?:[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const SOURCE = /^[a-z0-9-]+$/;

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

function parseKey(raw: string, selector: string): { source: string | null; key: string } {
  const colon = raw.indexOf(':');
  const source = colon < 0 ? null : raw.slice(0, colon);
  const key = colon < 0 ? raw : raw.slice(colon + 1);
  if ((source !== null && !SOURCE.test(source)) || !KEY.test(key)) {
    throw new FilterError(`label selector "${selector}": invalid key "${raw}"`);
  }
  return { source, key };
}

function checkValue(v: string, selector: string): string {
  if (!VALUE.test(v)) throw new FilterError(`label selector "${selector}": invalid value "${v}"`);
  return v;
}

function parseRequirement(text: string, selector: string): Requirement {
  const bad = (): never => {
    throw new FilterError(`label selector "${selector}": cannot parse "${text}"`);
  };
  if (text === '') bad();
  if (text.startsWith('!')) return { ...parseKey(text.slice(1).trim(), selector), op: 'absent', values: [] };
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(text);
  if (set) {
    const values = set[3].split(',').map((v) => checkValue(v.trim(), selector));
    return { ...parseKey(set[1], selector), op: set[2] as Op, values };
  }
  const cmp = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(.*)$/.exec(text);
  if (cmp) {
    const ops: Record<string, Op> = { '=': 'eq', '==': 'eq', '!=': 'neq', '>': 'gt', '<': 'lt' };
    const op = ops[cmp[2]];
    const value = cmp[3].trim();
    if ((op === 'gt' || op === 'lt') && !/^-?\d+$/.test(value)) bad();
    return { ...parseKey(cmp[1], selector), op, values: [checkValue(value, selector)] };
  }
  if (/\s/.test(text)) bad();
  return { ...parseKey(text, selector), op: 'exists', values: [] };
}

export function parseLabelSelector(selector: string): LabelRequirements {
  if (selector.trim() === '') throw new FilterError('label selector is empty');
  return splitTopLevel(selector).map((r) => parseRequirement(r, selector));
}

/** Cilium's "source:key=value" labels (value optional) as source -> key -> value. */
export function parseFlowLabels(labels: string[]): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const l of labels) {
    const colon = l.indexOf(':');
    const eq = l.indexOf('=', colon + 1);
    const source = colon < 0 ? 'unspec' : l.slice(0, colon);
    const key = eq < 0 ? l.slice(colon + 1) : l.slice(colon + 1, eq);
    const value = eq < 0 ? '' : l.slice(eq + 1);
    if (!out.has(source)) out.set(source, new Map());
    out.get(source)!.set(key, value);
  }
  return out;
}

function valuesOf(labels: Map<string, Map<string, string>>, r: Requirement): string[] {
  const found: string[] = [];
  for (const [source, keys] of labels) {
    if (r.source !== null && r.source !== 'any' && r.source !== source) continue;
    const v = keys.get(r.key);
    if (v !== undefined) found.push(v);
  }
  return found;
}

function satisfies(labels: Map<string, Map<string, string>>, r: Requirement): boolean {
  const vals = valuesOf(labels, r);
  switch (r.op) {
    case 'exists': return vals.length > 0;
    case 'absent': return vals.length === 0;
    case 'eq': return vals.includes(r.values[0]);
    case 'in': return vals.some((v) => r.values.includes(v));
    // Kubernetes: a missing key satisfies != and notin.
    case 'neq': return !vals.includes(r.values[0]);
    case 'notin': return !vals.some((v) => r.values.includes(v));
    case 'gt': return vals.some((v) => /^-?\d+$/.test(v) && Number(v) > Number(r.values[0]));
    case 'lt': return vals.some((v) => /^-?\d+$/.test(v) && Number(v) < Number(r.values[0]));
  }
}

export function selectorMatches(sel: LabelRequirements, labels: Map<string, Map<string, string>>): boolean {
  return sel.every((r) => satisfies(labels, r));
}
