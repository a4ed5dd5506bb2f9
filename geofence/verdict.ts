// One fence against one path, hop by hop, with the meaning resources/geofence.ts
// gives a fence. A hop fails when deny names its ISD, its AS or its country, or when allow
// has AS rules (isds, ases: either may match) its AS misses, or allow has countries its
// country is not among. A hop is unknown when a rule needs something the hop lacks: its
// ISD-AS for AS rules, a country (from the metadata, else from its coordinates) for
// country rules. Geo is only needed when the fence has country rules.
//
// Precedence: a definite VIOLATION at any hop wins over an unknown hop anywhere (an unknown
// cannot make a path that provably leaves the fence acceptable); the first violating hop is
// named. Otherwise the first unknown hop makes the path UNVERIFIED. A path without hops is
// UNVERIFIED. Hop numbers in reasons are indexes into the hop list (0 = source AS), the
// same number offendingHop carries.
//
// SRv6 hops (segments) have no ISD-AS: ISD and AS rules do not apply to them, only country
// rules, by the country of the node the SID catalogue places the segment at. A segment the
// catalogue does not know has no country. A fence with no country rules therefore cannot
// judge an SRv6 path: UNVERIFIED, never a vacuous COMPLIANT.
import type { Geofence, GeofenceMode, GeofenceSpec } from '../resources/geofence';
import { COUNTRY_GROUPS } from '../geo/countries';
import { formatIA, isdOf, type IA } from '../scion/isdas';
import { defaultCountryLookup, type CountryLookup } from '../geo/country';
import type { Hop, HopSite } from './hops';

/** Whether a path kept to a fence (not the datapath's or Hubble's forwarded/dropped verdict). */
export type Compliance = 'COMPLIANT' | 'VIOLATION' | 'UNVERIFIED';

export interface Evaluation {
  readonly verdict: Compliance;
  /** Human-readable; names the hop on VIOLATION and UNVERIFIED. */
  readonly reason: string;
  /** Index into the hops of the first hop outside the fence; VIOLATION only. */
  readonly offendingHop?: number;
  /** That hop's ISD-AS when known; VIOLATION only. */
  readonly offendingIsdAs?: IA;
  /** That hop's country when known; VIOLATION only. */
  readonly offendingCountry?: string;
  /** That hop's SID when it is an SRv6 segment; VIOLATION only. */
  readonly offendingSid?: string;
}

/** An evaluation with the fence that made it, as a flow records it. */
export interface FenceVerdict extends Evaluation {
  readonly name: string;
  /** '' for the cluster-scoped Geofence. */
  readonly namespace: string;
  readonly mode: GeofenceMode;
}

interface Compiled {
  denyIsds: ReadonlySet<number>;
  denyAses: ReadonlySet<IA>;
  denyCountries: ReadonlySet<string>;
  allowIsds: ReadonlySet<number>;
  allowAses: ReadonlySet<IA>;
  allowCountries: ReadonlySet<string>;
  asRules: boolean;
  countryRules: boolean;
  allowedAses: string;
  allowedCountries: string;
}

/** Country lists read back with whole groups by name ("EU, CH"), largest group first. */
function describeCountries(codes: readonly string[]): string {
  const left = new Set(codes);
  const named: string[] = [];
  const groups = Object.entries(COUNTRY_GROUPS).sort((a, b) => b[1].length - a[1].length);
  for (const [name, members] of groups) {
    if (members.every((m) => left.has(m))) {
      named.push(name);
      for (const m of members) left.delete(m);
    }
  }
  return [...named, ...[...left].sort()].join(', ');
}

function describeAses(isds: readonly number[], ases: readonly IA[]): string {
  const parts: string[] = [];
  if (isds.length > 0) parts.push(`${isds.length === 1 ? 'ISD' : 'ISDs'} ${isds.join(', ')}`);
  if (ases.length > 0) parts.push(`${ases.length === 1 ? 'AS' : 'ASes'} ${ases.map((a) => formatIA(a)).join(', ')}`);
  return parts.join(' and ');
}

const compiledSpecs = new WeakMap<GeofenceSpec, Compiled>();

function compile(spec: GeofenceSpec): Compiled {
  let c = compiledSpecs.get(spec);
  if (c === undefined) {
    const { allow, deny } = spec;
    c = {
      denyIsds: new Set(deny.isds),
      denyAses: new Set(deny.ases),
      denyCountries: new Set(deny.countries),
      allowIsds: new Set(allow.isds),
      allowAses: new Set(allow.ases),
      allowCountries: new Set(allow.countries),
      asRules: allow.isds.length + allow.ases.length + deny.isds.length + deny.ases.length > 0,
      countryRules: allow.countries.length + deny.countries.length > 0,
      allowedAses: describeAses(allow.isds, allow.ases),
      allowedCountries: describeCountries(allow.countries),
    };
    compiledSpecs.set(spec, c);
  }
  return c;
}

function hopName(i: number, hop: Hop): string {
  const seg = hop.segment;
  if (seg !== undefined) return `segment ${i} ${seg.sid} (${seg.node === '' ? 'not in the SID catalogue' : seg.node})`;
  return `hop ${i} (${hop.isdAs === undefined ? 'ISD-AS unknown' : formatIA(hop.isdAs)})`;
}

function violation(i: number, hop: Hop, reason: string, country?: string): Evaluation {
  return {
    verdict: 'VIOLATION',
    reason,
    offendingHop: i,
    ...(hop.isdAs !== undefined ? { offendingIsdAs: hop.isdAs } : {}),
    ...(country !== undefined ? { offendingCountry: country } : {}),
    ...(hop.segment !== undefined ? { offendingSid: hop.segment.sid } : {}),
  };
}

const unverified = (reason: string): Evaluation => ({ verdict: 'UNVERIFIED', reason });

function asJudgement(c: Compiled, i: number, hop: Hop, country: string | undefined): Evaluation | undefined {
  if (hop.segment !== undefined) return undefined;
  const ia = hop.isdAs;
  if (ia === undefined) return unverified(`${hopName(i, hop)} cannot be checked against the fence's ISD and AS rules`);
  const isd = isdOf(ia);
  if (c.denyIsds.has(isd)) return violation(i, hop, `${hopName(i, hop)} is in ISD ${isd}, which the fence denies`, country);
  if (c.denyAses.has(ia)) return violation(i, hop, `${hopName(i, hop)} is an AS the fence denies`, country);
  if ((c.allowIsds.size > 0 || c.allowAses.size > 0) && !c.allowIsds.has(isd) && !c.allowAses.has(ia)) {
    return violation(i, hop, `${hopName(i, hop)} is outside the allowed ${c.allowedAses}`, country);
  }
  return undefined;
}

interface SiteCountry {
  country?: string;
  /** How the country was found, for the reason; '' when the metadata named it. */
  source: string;
  /** Why there is no country. */
  missing?: string;
}

function siteCountry(site: Hop | HopSite, countries: CountryLookup): SiteCountry {
  if (site.country !== undefined) return { country: site.country, source: '' };
  if ('segment' in site && site.segment?.node === '') return { source: '', missing: 'is a SID no catalogue node owns' };
  if (site.latitude === undefined || site.longitude === undefined) return { source: '', missing: 'declares no location' };
  const at = `${site.latitude}, ${site.longitude}`;
  const country = countries.countryAt(site.latitude, site.longitude);
  if (country === undefined) return { source: '', missing: `is at ${at}, which lies in no country (at sea or not a valid position)` };
  return { country, source: ` by its coordinates (${at})` };
}

function countryJudgement(c: Compiled, i: number, hop: Hop, where: string, found: SiteCountry): Evaluation | undefined {
  if (found.country === undefined) return unverified(`${hopName(i, hop)}${where} ${found.missing}, so its country is unknown`);
  const cc = found.country;
  if (c.denyCountries.has(cc)) return violation(i, hop, `${hopName(i, hop)}${where} is in ${cc}${found.source}, which the fence denies`, cc);
  if (c.allowCountries.size > 0 && !c.allowCountries.has(cc)) {
    return violation(i, hop, `${hopName(i, hop)}${where} is in ${cc}${found.source}, outside allowed ${c.allowedCountries}`, cc);
  }
  return undefined;
}

/** The first violation of a hop, else its first unknown, else undefined (inside the fence). */
function judgeHop(c: Compiled, i: number, hop: Hop, countries: CountryLookup): Evaluation | undefined {
  let unknown: Evaluation | undefined;
  // Without country rules the hop's country is only reported, never looked up.
  let country = c.countryRules ? undefined : hop.country;
  if (c.countryRules) {
    const sites: [Hop | HopSite, string][] = [[hop, '']];
    if (hop.egressSite) sites.push([hop.egressSite, "'s egress border router"]);
    for (const [site, where] of sites) {
      const found = siteCountry(site, countries);
      country ??= found.country;
      const j = countryJudgement(c, i, hop, where, found);
      if (j?.verdict === 'VIOLATION') return j;
      unknown ??= j;
    }
  }
  if (c.asRules) {
    const j = asJudgement(c, i, hop, country);
    if (j?.verdict === 'VIOLATION') return j;
    unknown ??= j;
  }
  return unknown;
}

/** The verdict of one fence for one path; see the top of this file for the rules. */
export function evaluate(fence: GeofenceSpec, hops: readonly Hop[], countries: CountryLookup = defaultCountryLookup): Evaluation {
  if (hops.length === 0) return unverified('the path has no hops to check');
  const c = compile(fence);
  if (!c.countryRules && hops.every((h) => h.segment !== undefined)) {
    return unverified('the fence has only ISD and AS rules, which do not apply to SRv6 segments');
  }
  let unknown: Evaluation | undefined;
  for (let i = 0; i < hops.length; i++) {
    const j = judgeHop(c, i, hops[i], countries);
    if (j?.verdict === 'VIOLATION') return j;
    unknown ??= j;
  }
  if (unknown !== undefined) return unknown;
  const what = hops[0].segment !== undefined ? ['segment', 'segments'] : ['hop', 'hops'];
  return { verdict: 'COMPLIANT', reason: hops.length === 1 ? `the only ${what[0]} is inside the fence` : `all ${hops.length} ${what[1]} are inside the fence` };
}

export function fenceVerdict(fence: Geofence, e: Evaluation): FenceVerdict {
  return { ...e, name: fence.metadata.name, namespace: fence.metadata.namespace, mode: fence.spec.mode };
}

const RANK: Record<Compliance, number> = { COMPLIANT: 0, UNVERIFIED: 1, VIOLATION: 2 };

/**
 * How several fences on one flow combine: any VIOLATION makes the flow a VIOLATION, else
 * any UNVERIFIED makes it UNVERIFIED, else it is COMPLIANT. The verdict recorded is the
 * first of that kind in the order given, so callers order enforcing fences first.
 */
export function strongest<V extends { readonly verdict: Compliance }>(verdicts: readonly V[]): V | undefined {
  let best: V | undefined;
  for (const v of verdicts) if (best === undefined || RANK[v.verdict] > RANK[best.verdict]) best = v;
  return best;
}
