// What a relay sends a peer gathering evidence (evidence_only) besides the lines: each path
// the lines use, before the first line that uses it, and at the end a catalogue: the relay,
// its store, the geofences its lines applied with their specs, and the evidence's SHA-256
// and number of lines. Both are read here as a peer may have sent them (any JSON), and
// refused unless they have exactly the form the gathering relay's statement will carry.
import { createHash } from 'node:crypto';
import { canonicalJson, type Json } from './canonical_json';
import type { ListedPath } from './export';
import { srv6EntryProblem, type Srv6Entry } from './evidence_row';
import type { FenceUse, RelayRef, Srv6HmacName, StoreRef } from './predicate';

export interface StoreCatalogue {
  relay: RelayRef;
  store: StoreRef;
  geofences: FenceUse[];
  evidence: { sha256: string; flows: number };
}

export class StoreCatalogueError extends Error {}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function json(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new StoreCatalogueError(`${what} is not JSON: ${(e as Error).message}`);
  }
}

function hop(v: unknown): boolean {
  if (!isObj(v)) return false;
  const g = v.geo;
  return isStr(v.isdAs) && isUint(v.ingressInterface) && isUint(v.egressInterface) && isStr(v.country)
    && isGeo(g);
}

const geoOf = (g: unknown): { latitude: number; longitude: number; address: string } | null => {
  if (g === null) return null;
  const o = g as Obj;
  return { latitude: o.latitude as number, longitude: o.longitude as number, address: o.address as string };
};
const isGeo = (g: unknown): boolean => g === null || (isObj(g) && isNum(g.latitude) && isNum(g.longitude) && isStr(g.address));

function srv6Hop(v: unknown): boolean {
  return isObj(v) && isStr(v.sid) && isStr(v.behavior) && isStr(v.node) && isStr(v.operator) && isUint(v.asn) && isStr(v.country) && isGeo(v.geo);
}

const HMAC_NAMES = new Set(['UNKNOWN', 'ABSENT', 'VERIFIED', 'MISMATCH', 'NO_KEY', 'MALFORMED']);

/** An SRv6 path entry as a peer announced it: the form, then that its key is its digest. */
function srv6PathEntry(v: Obj): ListedPath {
  const h = v.hmac;
  if (!isStr(v.fingerprint) || !Array.isArray(v.segments) || !v.segments.every(isStr) || !isStr(v.segmentsFingerprint) || !isStr(v.source)
    || !isUint(v.tenantId) || !isStr(v.tenant) || typeof v.knownToCatalogue !== 'boolean' || !isObj(h) || !isStr(h.status) || !HMAC_NAMES.has(h.status)
    || !isUint(h.keyId) || !Array.isArray(v.hops) || !v.hops.every(srv6Hop)) {
    throw new StoreCatalogueError('an SRv6 path entry lacks a field or has one of the wrong type');
  }
  const entry: Srv6Entry = {
    type: 'srv6',
    segments: v.segments as string[],
    segmentsFingerprint: v.segmentsFingerprint,
    source: v.source,
    tenantId: v.tenantId,
    tenant: v.tenant,
    knownToCatalogue: v.knownToCatalogue,
    hmac: { status: h.status as Srv6HmacName, keyId: h.keyId },
    hops: (v.hops as Obj[]).map((x) => ({
      sid: x.sid as string, behavior: x.behavior as string, node: x.node as string, operator: x.operator as string,
      asn: x.asn as number, country: x.country as string, geo: geoOf(x.geo),
    })),
  };
  const problem = srv6EntryProblem(v.fingerprint, entry);
  if (problem) throw new StoreCatalogueError(problem);
  return { fingerprint: v.fingerprint, ...entry };
}

/** One path entry as a peer announced it. */
export function parsePathEntry(bytes: Buffer): ListedPath {
  const v = json(bytes, 'a path entry');
  if (isObj(v) && v.type === 'srv6') return srv6PathEntry(v);
  if (!isObj(v) || !isStr(v.fingerprint) || v.fingerprint === '' || !isStr(v.srcIa) || !isStr(v.dstIa) || typeof v.knownToControlPlane !== 'boolean'
    || !Array.isArray(v.hops) || !v.hops.every(hop)) {
    throw new StoreCatalogueError('a path entry lacks a field or has one of the wrong type');
  }
  const hops = (v.hops as Obj[]).map((h) => ({
    isdAs: h.isdAs as string,
    ingressInterface: h.ingressInterface as number,
    egressInterface: h.egressInterface as number,
    country: h.country as string,
    geo: geoOf(h.geo),
  }));
  return { fingerprint: v.fingerprint, srcIa: v.srcIa, dstIa: v.dstIa, knownToControlPlane: v.knownToControlPlane, hops };
}

export function pathEntryBytes(p: ListedPath): Buffer {
  return Buffer.from(canonicalJson(p as unknown as Json), 'utf8');
}

function fence(v: unknown): FenceUse {
  if (!isObj(v) || !isStr(v.name) || !(v.mode === null || isStr(v.mode)) || !(v.specSha256 === null || isStr(v.specSha256))) {
    throw new StoreCatalogueError('a geofence entry lacks a field or has one of the wrong type');
  }
  const spec = (v.spec ?? null) as Json;
  if (spec === null) return { name: v.name, spec: null, specSha256: null, mode: null };
  let digest;
  try {
    digest = createHash('sha256').update(canonicalJson(spec)).digest('hex');
  } catch {
    throw new StoreCatalogueError(`geofence ${v.name}: the spec cannot be written as canonical JSON`);
  }
  if (digest !== v.specSha256) throw new StoreCatalogueError(`geofence ${v.name}: spec digest ${String(v.specSha256)} is not the spec's (${digest})`);
  return { name: v.name, spec, specSha256: digest, mode: v.mode as string | null };
}

export function parseCatalogue(bytes: Buffer): StoreCatalogue {
  const v = json(bytes, 'the catalogue');
  if (!isObj(v)) throw new StoreCatalogueError('the catalogue is not a JSON object');
  const { relay, store, evidence, geofences } = v;
  if (!isObj(relay) || !isStr(relay.name) || !isStr(relay.cluster) || !isStr(relay.version)) throw new StoreCatalogueError('the catalogue names no relay');
  if (!isObj(store) || !isStr(store.kind) || !isStr(store.location) || !isStr(store.database)) throw new StoreCatalogueError('the catalogue names no store');
  if (!isObj(evidence) || !isStr(evidence.sha256) || !isUint(evidence.flows)) throw new StoreCatalogueError('the catalogue does not describe the evidence');
  if (!Array.isArray(geofences)) throw new StoreCatalogueError('the catalogue lists no geofences');
  return {
    relay: { name: relay.name, cluster: relay.cluster, version: relay.version },
    store: { kind: store.kind, location: store.location, database: store.database },
    geofences: geofences.map(fence),
    evidence: { sha256: evidence.sha256, flows: evidence.flows },
  };
}

export function catalogueBytes(c: StoreCatalogue): Buffer {
  return Buffer.from(canonicalJson(c as unknown as Json), 'utf8');
}
