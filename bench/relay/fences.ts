// The relay bench's geofences, as a --resources directory: fences in enforce and audit
// mode over five of the corpus's ten namespaces, by country, by ISD and by denial, so
// about half the flows are judged and every kind of verdict occurs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FENCES: ReadonlyArray<{ name: string; namespace: string; mode: 'enforce' | 'audit'; rules: string }> = [
  { name: 'payments-ch', namespace: 'payments', mode: 'enforce', rules: 'allow:\n    countries: [CH]' },
  { name: 'shop-eu-ch', namespace: 'shop', mode: 'enforce', rules: 'allow:\n    countries: [EU, CH]' },
  { name: 'analytics-eu-ch-audit', namespace: 'analytics', mode: 'audit', rules: 'allow:\n    countries: [EU, CH]' },
  { name: 'identity-no-us', namespace: 'identity', mode: 'enforce', rules: 'deny:\n    countries: [US]' },
  { name: 'ml-isd-64-65', namespace: 'ml', mode: 'audit', rules: 'allow:\n    isds: [64, 65]' },
];

/** Writes the fences into `dir` (which must exist); how many. */
export function writeFences(dir: string): number {
  const docs = FENCES.map(
    (f) =>
      `apiVersion: cillion.io/v1alpha1\nkind: Geofence\nmetadata:\n  name: ${f.name}\nspec:\n  workloadSelector:\n    namespaceSelector:\n      matchLabels:\n        kubernetes.io/metadata.name: ${f.namespace}\n  ${f.rules}\n  mode: ${f.mode}\n`,
  );
  writeFileSync(join(dir, 'geofences.yaml'), docs.join('---\n'));
  return FENCES.length;
}
