// RemoteCluster: another Cillion cluster by name, so a WANPathPolicy can say "to frankfurt"
// and the operator knows that means ISD-AS 65-2:0:20 and the pod prefixes behind it.
import type { IA } from '../scion/isdas';
import { parsePrefix } from './addresses';
import { rejectUnknown, reqField, strings, type Fields } from './fields';
import { readIA } from './isdas';
import { API_VERSION, readEnvelope, type Resource } from './meta';
import { fieldPath, Problems, type Problem, type Validation } from './problems';
import type { Destination } from './wanpathpolicy';

export interface RemoteClusterSpec {
  isdAS: IA;
  /** Pod (and service) prefixes reached through this cluster's AS. */
  prefixes: string[];
}

export type RemoteCluster = Resource<'RemoteCluster', RemoteClusterSpec>;

export function readRemoteClusterSpec(ps: Problems, o: Fields, path: string): RemoteClusterSpec | undefined {
  const before = ps.count;
  rejectUnknown(ps, o, path, ['isdAS', 'prefixes']);
  const rawIA = reqField(ps, o, 'isdAS', path);
  const isdAS = rawIA === undefined ? undefined : readIA(ps, rawIA, fieldPath(path, 'isdAS'));
  const at = fieldPath(path, 'prefixes');
  const raw = reqField(ps, o, 'prefixes', path);
  const prefixes = raw === undefined ? [] : strings(ps, raw, at, (p) => {
    const r = parsePrefix(p);
    return typeof r === 'string' ? r : undefined;
  });
  if (Array.isArray(raw) && raw.length === 0) ps.add(at, 'must list at least one prefix');
  return ps.count > before || isdAS === undefined ? undefined : { isdAS, prefixes };
}

export function validateRemoteCluster(obj: unknown): Validation<RemoteCluster> {
  const ps = new Problems();
  const { metadata, spec: raw } = readEnvelope(ps, obj, 'RemoteCluster');
  const spec = raw && readRemoteClusterSpec(ps, raw, 'spec');
  return ps.result(metadata && spec && { apiVersion: API_VERSION, kind: 'RemoteCluster', metadata, spec });
}

export interface ResolvedDestination {
  isdAS: IA;
  prefixes: string[];
  /** The RemoteCluster it came from, when given by name. */
  cluster?: string;
}

/**
 * Turns a policy's destinations into ISD-ASes and prefixes. A name with no RemoteCluster is
 * a problem at its field path (the policy waits for it rather than silently shrinking).
 */
export function resolveDestinations(
  destinations: readonly Destination[],
  clusters: readonly RemoteCluster[],
  path = 'spec.destinations',
): Validation<ResolvedDestination[]> {
  const byName = new Map(clusters.map((c) => [c.metadata.name, c]));
  const problems: Problem[] = [];
  const out: ResolvedDestination[] = [];
  destinations.forEach((d, i) => {
    if (!('cluster' in d)) {
      out.push({ isdAS: d.isdAS, prefixes: d.prefixes });
      return;
    }
    const c = byName.get(d.cluster);
    if (!c) problems.push({ path: fieldPath(fieldPath(path, i), 'cluster'), message: `no RemoteCluster named "${d.cluster}"` });
    else out.push({ isdAS: c.spec.isdAS, prefixes: c.spec.prefixes, cluster: d.cluster });
  });
  return problems.length ? { ok: false, problems } : { ok: true, value: out };
}
