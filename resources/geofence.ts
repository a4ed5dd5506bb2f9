// Geofence: where the selected workloads' traffic may travel, by ISD, AS and country.
//
// Meaning, for every hop of a path: the hop is inside the fence when nothing in `deny`
// matches it (its ISD, its AS, or the country of its border router) and, for `allow`, its
// AS matches allow.isds or allow.ases (when either is non-empty) and its country is in
// allow.countries (when non-empty). Deny wins over allow. `enforce` keeps paths that leave
// the fence out of the datapath; `audit` programs them and reports the violations.
import type { IA } from '../scion/isdas';
import { expandCountry, COUNTRY_GROUPS } from '../geo/countries';
import { asRecord, enumOf, int, list, rejectUnknown, reqField, strings, type Fields } from './fields';
import { readIA } from './isdas';
import { API_VERSION, readEnvelope, type Resource } from './meta';
import { fieldPath, Problems, type Validation } from './problems';
import { readWorkloadSelector, type WorkloadSelector } from './selector';

export interface GeofenceRules {
  isds: number[];
  ases: IA[];
  /** ISO 3166-1 alpha-2 codes with groups expanded; sorted, without repeats. */
  countries: string[];
}

export const GEOFENCE_MODES = ['enforce', 'audit'] as const;
export type GeofenceMode = (typeof GEOFENCE_MODES)[number];

export interface GeofenceSpec {
  workloadSelector: WorkloadSelector;
  allow: GeofenceRules;
  deny: GeofenceRules;
  mode: GeofenceMode;
}

export type Geofence = Resource<'Geofence', GeofenceSpec>;

const RULE_FIELDS = ['isds', 'ases', 'countries'];

function emptyRules(): GeofenceRules {
  return { isds: [], ases: [], countries: [] };
}

function readRules(ps: Problems, v: unknown, path: string): GeofenceRules {
  const o: Fields = asRecord(ps, v, path) ?? {};
  rejectUnknown(ps, o, path, RULE_FIELDS);
  const out = emptyRules();
  if (o.isds !== undefined) {
    const at = fieldPath(path, 'isds');
    // ISD 0 is SCION's wildcard; a fence names real ISDs.
    const isds = (list(ps, o.isds, at) ?? []).map((x, i) => int(ps, x, fieldPath(at, i), 1, 0xffff));
    out.isds = [...new Set(isds.filter((x): x is number => x !== undefined))].sort((a, b) => a - b);
  }
  if (o.ases !== undefined) {
    const at = fieldPath(path, 'ases');
    const ases = (list(ps, o.ases, at) ?? []).map((x, i) => readIA(ps, x, fieldPath(at, i)));
    out.ases = [...new Set(ases.filter((x): x is IA => x !== undefined))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
  if (o.countries !== undefined) {
    const at = fieldPath(path, 'countries');
    const codes = strings(ps, o.countries, at, (c) =>
      expandCountry(c) ? undefined : `"${c}" is neither an ISO 3166-1 alpha-2 code (upper case) nor a group (${Object.keys(COUNTRY_GROUPS).join(', ')})`,
    );
    out.countries = [...new Set(codes.flatMap((c) => expandCountry(c) ?? []))].sort();
  }
  return out;
}

function isEmpty(r: GeofenceRules): boolean {
  return r.isds.length === 0 && r.ases.length === 0 && r.countries.length === 0;
}

export function readGeofenceSpec(ps: Problems, o: Fields, path: string): GeofenceSpec | undefined {
  const before = ps.count;
  rejectUnknown(ps, o, path, ['workloadSelector', 'allow', 'deny', 'mode']);
  const ws = reqField(ps, o, 'workloadSelector', path);
  const workloadSelector = readWorkloadSelector(ps, ws ?? {}, fieldPath(path, 'workloadSelector'));
  const allow = o.allow === undefined ? emptyRules() : readRules(ps, o.allow, fieldPath(path, 'allow'));
  const deny = o.deny === undefined ? emptyRules() : readRules(ps, o.deny, fieldPath(path, 'deny'));
  const rawMode = reqField(ps, o, 'mode', path);
  const mode = rawMode === undefined ? undefined : enumOf(ps, rawMode, fieldPath(path, 'mode'), GEOFENCE_MODES);
  if (ps.count === before && isEmpty(allow) && isEmpty(deny)) ps.add(path, 'a geofence needs at least one allow or deny rule');
  if (ps.count > before || mode === undefined) return undefined;
  return { workloadSelector, allow, deny, mode };
}

export function validateGeofence(obj: unknown): Validation<Geofence> {
  const ps = new Problems();
  const { metadata, spec: raw } = readEnvelope(ps, obj, 'Geofence');
  const spec = raw && readGeofenceSpec(ps, raw, 'spec');
  return ps.result(metadata && spec && { apiVersion: API_VERSION, kind: 'Geofence', metadata, spec });
}
