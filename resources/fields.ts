// Typed reads of untrusted fields. Each reader records a problem and returns undefined on
// a wrong type, so validators keep walking and report every bad field in one pass.
import { fieldPath, type Problems } from './problems';

export type Fields = Record<string, unknown>;

export function isRecord(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

/** The object at `path`, or undefined (with a problem) when it is anything else. */
export function asRecord(ps: Problems, v: unknown, path: string): Fields | undefined {
  if (isRecord(v)) return v;
  ps.add(path, `must be an object, not ${describe(v)}`);
  return undefined;
}

/**
 * Reports fields the schema does not know. Kubernetes prunes them silently; a YAML file
 * in directory mode has no such safety net, so a typo ("matchLabel") must be visible.
 */
export function rejectUnknown(ps: Problems, o: Fields, path: string, known: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) ps.add(fieldPath(path, k), `unknown field (expected one of ${known.join(', ')})`);
  }
}

export function reqField(ps: Problems, o: Fields, key: string, path: string): unknown {
  if (o[key] === undefined || o[key] === null) ps.add(fieldPath(path, key), 'is required');
  return o[key] ?? undefined;
}

export function str(ps: Problems, v: unknown, path: string): string | undefined {
  if (typeof v === 'string') return v;
  ps.add(path, `must be a string, not ${describe(v)}`);
  return undefined;
}

export function optStr(ps: Problems, o: Fields, key: string, path: string): string | undefined {
  const v = o[key];
  return v === undefined ? undefined : str(ps, v, fieldPath(path, key));
}

export function reqStr(ps: Problems, o: Fields, key: string, path: string): string | undefined {
  const v = reqField(ps, o, key, path);
  return v === undefined ? undefined : str(ps, v, fieldPath(path, key));
}

export function int(ps: Problems, v: unknown, path: string, min: number, max: number): number | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    ps.add(path, `must be an integer, not ${describe(v)}`);
    return undefined;
  }
  if (v < min || v > max) {
    ps.add(path, `must be between ${min} and ${max}, not ${v}`);
    return undefined;
  }
  return v;
}

export function optBool(ps: Problems, o: Fields, key: string, path: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || typeof v === 'boolean') return v;
  ps.add(fieldPath(path, key), `must be true or false, not ${describe(v)}`);
  return undefined;
}

export function list(ps: Problems, v: unknown, path: string): unknown[] | undefined {
  if (Array.isArray(v)) return v;
  ps.add(path, `must be a list, not ${describe(v)}`);
  return undefined;
}

export function enumOf<T extends string>(ps: Problems, v: unknown, path: string, values: readonly T[]): T | undefined {
  if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
  ps.add(path, `must be one of ${values.join(', ')}, not ${describe(v)}`);
  return undefined;
}

/**
 * Each string of a list, in order; wrong entries are reported and skipped. `check` returns
 * the problem with a string entry, if any (reported at the entry's own index).
 */
export function strings(ps: Problems, v: unknown, path: string, check?: (s: string) => string | undefined): string[] {
  const items = list(ps, v, path) ?? [];
  return items.flatMap((item, i) => {
    const s = str(ps, item, fieldPath(path, i));
    if (s === undefined) return [];
    const bad = check?.(s);
    if (bad) ps.add(fieldPath(path, i), bad);
    return [s];
  });
}

/** A string-to-string map such as matchLabels; non-string values are reported. */
export function stringMap(ps: Problems, v: unknown, path: string): Record<string, string> {
  const o = asRecord(ps, v, path);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o ?? {})) {
    const s = str(ps, val, fieldPath(path, k));
    if (s !== undefined) out[k] = s;
  }
  return out;
}

/**
 * Reports a repeated entry of a list (compared by `keyOf`) at its later position. `items`
 * is indexed like the raw list; undefined marks entries already reported as invalid.
 */
export function rejectDuplicates<T>(ps: Problems, items: readonly (T | undefined)[], path: string, keyOf: (t: T) => string): void {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    if (item === undefined) return;
    const k = keyOf(item);
    const first = seen.get(k);
    if (first === undefined) seen.set(k, i);
    else ps.add(fieldPath(path, i), `duplicates ${fieldPath(path, first)} (${k})`);
  });
}
