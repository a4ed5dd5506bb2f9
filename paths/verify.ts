// Rebuilds a flow's SCION path from its evidence alone: the raw path bytes and the ends
// (ISD-ASes) and path type it names. The hop fields are matched against the paths a
// PathAuthority handed out; everything else a flow says about its path (fingerprint,
// hops, geo, country, latency, known_to_control_plane) is replaced by the authority's
// description, or, for hop fields it never handed out, by what the bytes say alone.
import { LRUCache } from 'lru-cache';
import type { ScionPath } from '../proto/gen/flow/flow';
import { tryParseIA, type IA } from '../scion/isdas';
import type { HopEvidence, PathAuthority } from './authority';
import { barePath, hopsOfWire, pathTypeNumber, pathTypeOf } from './describe';
import { PATH_TYPE_NUMBER } from '../scion/path/codec';
import { decodeHops } from './hopfields';

/** Why a path could not be checked at all; each has a fixed reason text. */
export type Unverifiable = 'noHopFields' | 'malformed';

export interface VerifiedPath {
  /** The path as rebuilt; the sent path id and raw bytes kept as evidence. */
  path: ScionPath;
  /** Set when there was nothing to match. */
  unverifiable?: Unverifiable;
}

export interface PathVerifierOptions {
  /** Distinct raw paths whose matches are remembered; default 16384. */
  maxCached?: number;
}

interface Parsed {
  cacheKey: string;
  pathType: number;
  src: IA;
  dst: IA;
}

export class PathVerifier {
  /** Matched paths by raw bytes and ends; only matches, so a daemon's later answer is never hidden. */
  private readonly known: LRUCache<string, ScionPath>;
  private generation: number;

  constructor(
    readonly authority: PathAuthority,
    opts: PathVerifierOptions = {},
  ) {
    this.known = new LRUCache({ max: opts.maxCached ?? 16384 });
    this.generation = authority.generation;
  }

  /** Lets the authority learn what it needs for these paths (see PathAuthority.prepare). */
  async prepare(paths: readonly (ScionPath | undefined)[]): Promise<void> {
    if (!this.authority.prepare) return;
    const evidence: HopEvidence[] = [];
    for (const p of paths) {
      if (p === undefined || p.raw.length === 0) continue;
      const parsed = this.parse(p, cacheKey(p));
      if (parsed === undefined || this.known.has(parsed.cacheKey)) continue;
      const hops = decodeHops(p.raw, parsed.pathType);
      if (hops.ok) evidence.push({ src: parsed.src, dst: parsed.dst, wire: hops.wire, key: hops.key });
    }
    if (evidence.length > 0) await this.authority.prepare(evidence);
  }

  /** The path `sent` really is, judged from its raw bytes and ends only. */
  verify(sent: ScionPath): VerifiedPath {
    if (this.generation !== this.authority.generation) {
      this.known.clear();
      this.generation = this.authority.generation;
    }
    const evidence = { pathId: sent.pathId, raw: sent.raw };
    const key = cacheKey(sent);
    const hit = this.known.get(key);
    if (hit !== undefined) {
      // A remembered match vouches only while its hop fields are valid; then the authority is asked again.
      if (!expired(hit)) return { path: { ...hit, ...evidence } };
      this.known.delete(key);
    }
    const parsed = this.parse(sent, key);
    if (parsed === undefined) {
      return { path: { ...barePath(0n, 0n, pathTypeNumber(sent.type)), srcIa: '', dstIa: '', ...evidence }, unverifiable: 'malformed' };
    }
    const { src, dst, pathType } = parsed;
    if (pathType === PATH_TYPE_NUMBER.Empty) {
      // A packet that never left its AS: nothing to cross, known exactly when both ends agree.
      return { path: { ...barePath(src, dst, pathType), knownToControlPlane: src === dst, ...evidence } };
    }
    if (sent.raw.length === 0) return { path: { ...barePath(src, dst, pathType), ...evidence }, unverifiable: 'noHopFields' };
    const hops = decodeHops(sent.raw, pathType);
    if (!hops.ok) {
      return { path: { ...barePath(src, dst, pathType), ...evidence }, ...(hops.why === 'malformed' ? { unverifiable: 'malformed' as const } : {}) };
    }
    const match = this.authority.match({ src, dst, wire: hops.wire, key: hops.key });
    if (match === undefined) {
      const bare = barePath(src, dst, pathType);
      return { path: { ...bare, hops: hopsOfWire(hops.wire, bare.srcIa, bare.dstIa), ...evidence } };
    }
    const type = pathTypeOf(pathType);
    const path = match.type === type ? match : { ...match, type };
    this.known.set(parsed.cacheKey, path);
    return { path: { ...path, ...evidence } };
  }

  private parse(p: ScionPath, key: string): Parsed | undefined {
    const pathType = pathTypeNumber(p.type);
    const src = tryParseIA(p.srcIa);
    const dst = tryParseIA(p.dstIa);
    if (pathType < 0 || src === undefined || dst === undefined) return undefined;
    return { pathType, src, dst, cacheKey: key };
  }
}

/** Whether the earliest hop field of a matched path has expired. */
function expired(p: ScionPath): boolean {
  return p.expiry !== undefined && Number(p.expiry.seconds) * 1000 < Date.now();
}

/** The evidence as a cache key: the ends as sent (a match was made for exactly these), type and bytes. */
function cacheKey(p: ScionPath): string {
  return `${p.type} ${p.srcIa} ${p.dstIa} ${Buffer.from(p.raw.buffer, p.raw.byteOffset, p.raw.byteLength).toString('base64')}`;
}
