// Text forms the flows table stores and filters compare against, shared by the writer and
// the reader.
import type { Endpoint } from '../../proto/gen/flow/flow';
import { formatIA, parseIA } from '../../scion/isdas';

/** Label keys whose value names the workload's app, most specific first. */
const APP_LABEL_KEYS = ['app.kubernetes.io/name', 'app', 'k8s-app'];

/** Canonical forms already computed; a cluster sees few distinct ASes. */
const canonicalCache = new Map<string, string>();
const CANONICAL_CACHE_LIMIT = 10_000;

/** The text form filters compare against; text that is no valid ISD-AS is kept as it is. */
export function canonicalIA(text: string): string {
  if (text === '') return '';
  let out = canonicalCache.get(text);
  if (out !== undefined) return out;
  try {
    out = formatIA(parseIA(text));
  } catch {
    out = text;
  }
  if (canonicalCache.size >= CANONICAL_CACHE_LIMIT) canonicalCache.clear();
  canonicalCache.set(text, out);
  return out;
}

export function appOf(ep: Endpoint | undefined): string {
  if (!ep) return '';
  for (const key of APP_LABEL_KEYS) {
    for (const label of ep.labels) {
      const eq = label.indexOf('=');
      if (eq < 0) continue;
      const colon = label.lastIndexOf(':', eq);
      if (label.slice(colon + 1, eq) === key) return label.slice(eq + 1);
    }
  }
  return '';
}
