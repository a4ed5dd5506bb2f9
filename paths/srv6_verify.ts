// Rebuilds a flow's SRv6 path from its evidence alone: the Segment Routing Header bytes
// the datapath recorded and the outer IPv6 source. Everything else a flow says about its
// SRv6 path (segments, Segments Left, hops, nodes, countries, fingerprint, latency,
// known_to_catalogue, HMAC status, tenant) is replaced by what those bytes say, placed in
// the relay's own SID catalogue. The tenant's name is left to the caller (SRv6Tenant
// resources, geofence/judge.ts). SRv6 has no per-hop proof: the rebuilt path is the segment
// list the packet carried where it was seen, and its HMAC TLV, when there is one, is
// checked with the catalogue's key.
import { LRUCache } from 'lru-cache';
import { Srv6HmacStatus, type Srv6Hop, type Srv6Path } from '../proto/gen/flow/flow';
import { segmentsFingerprint } from '../srv6/fingerprint';
import { checkHmac, type Srv6HmacStatus as HmacOutcome } from '../srv6/hmac';
import { parseSid, sidText } from '../srv6/sid';
import { decodeSrh, travelOrder } from '../srv6/srh';

/** Where the catalogue places one SID. */
export interface SegmentPlace {
  node: string;
  operator: string;
  asn: number;
  /** The locator prefix the SID lies in, as text. */
  locator: string;
  /** The SID's behaviour ('End', 'End.X', 'End.DT4', 'End.DT6'); '' when the node declares no such SID. */
  behavior: string;
  /** The tenant (VRF id) an End.DT4/End.DT6 SID decapsulates into. */
  vrf?: number;
  geo?: { latitude: number; longitude: number; address?: string; country?: string };
}

/** The relay's view of SRv6 networks, which SRH evidence is placed in (see srv6Authority). */
export interface SidAuthority {
  /** For logs: what the segments are checked against. */
  readonly name: string;
  /** Changes whenever the catalogue does; rebuilt paths of an older generation are forgotten. */
  readonly generation: number;
  place(sid: Uint8Array): SegmentPlace | undefined;
  /** The node whose encapsulation source (or locator) this outer source address is. */
  nodeOfSource(source: Uint8Array): string | undefined;
  /** Latency of the link between two nodes in ns; undefined when they are not linked. */
  latencyNs(from: string, to: string): number | undefined;
  readonly hmacKeys: ReadonlyMap<number, Uint8Array>;
}

/** Why an SRv6 path could not be checked at all. */
export type Srv6Unverifiable = 'noSrh' | 'malformedSrh' | 'noCatalogue';

export interface VerifiedSrv6Path {
  path: Srv6Path;
  unverifiable?: Srv6Unverifiable;
  /** With malformedSrh: the decoder's error code. */
  detail?: string;
}

export interface Srv6PathVerifierOptions {
  /** Distinct (source, SRH) pairs whose rebuilt paths are remembered; default 16384. */
  maxCached?: number;
}

const HMAC_STATUS: Record<HmacOutcome, Srv6HmacStatus> = {
  ABSENT: Srv6HmacStatus.SRV6_HMAC_ABSENT,
  VERIFIED: Srv6HmacStatus.SRV6_HMAC_VERIFIED,
  MISMATCH: Srv6HmacStatus.SRV6_HMAC_MISMATCH,
  NO_KEY: Srv6HmacStatus.SRV6_HMAC_NO_KEY,
  MALFORMED: Srv6HmacStatus.SRV6_HMAC_MALFORMED,
};

const NO_KEYS: ReadonlyMap<number, Uint8Array> = new Map();

export class Srv6PathVerifier {
  private readonly known: LRUCache<string, VerifiedSrv6Path>;
  private generation: number;

  /** Without an authority every SRv6 path is rebuilt from its bytes alone and unverifiable. */
  constructor(
    readonly authority: SidAuthority | undefined,
    opts: Srv6PathVerifierOptions = {},
  ) {
    this.known = new LRUCache({ max: opts.maxCached ?? 16384 });
    this.generation = authority?.generation ?? 0;
  }

  /** The path `sent` really is, judged from its SRH bytes and outer source only. */
  verify(sent: Srv6Path): VerifiedSrv6Path {
    const generation = this.authority?.generation ?? 0;
    if (generation !== this.generation) {
      this.known.clear();
      this.generation = generation;
    }
    const raw = sent.raw;
    const source = sourceBytes(sent.source);
    const key = `${source === undefined ? '-' : Buffer.from(source).toString('hex')} ${Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64')}`;
    let v = this.known.get(key);
    if (v === undefined) {
      v = this.rebuild(raw, source);
      this.known.set(key, v);
    }
    // The id names the datapath's segment-list entry; it is kept as evidence, not checked.
    return { ...v, path: { ...v.path, pathId: sent.pathId } };
  }

  private rebuild(raw: Buffer, source: Uint8Array | undefined): VerifiedSrv6Path {
    const bare: Srv6Path = {
      segments: [],
      segmentsLeft: 0,
      source: source === undefined ? '' : sidText(source),
      tenantId: 0,
      tenant: '',
      hops: [],
      fingerprint: '',
      knownToCatalogue: false,
      hmac: undefined,
      raw,
      pathId: 0,
      latencyNs: undefined,
    };
    if (raw.length === 0) return { path: bare, unverifiable: 'noSrh' };
    const d = decodeSrh(raw);
    if (!d.ok) return { path: bare, unverifiable: 'malformedSrh', detail: d.code };
    // The datapath records exactly the header; bytes after it are no part of any SRH.
    if (d.length !== raw.length) return { path: bare, unverifiable: 'malformedSrh', detail: 'SRH_TRAILING_BYTES' };
    const srh = d.srh;
    const travel = travelOrder(srh);
    const a = this.authority;
    const places = travel.map((s) => a?.place(s));
    const hops: Srv6Hop[] = travel.map((s, i) => hopOf(sidText(s), places[i]));
    // Latency to each next segment's node, and from the encapsulating node to the first.
    let total: number | undefined = 0;
    const first = source === undefined ? undefined : a?.nodeOfSource(source);
    const toFirst = first !== undefined && places[0] !== undefined ? linkNs(a as SidAuthority, first, places[0].node) : undefined;
    if (toFirst === undefined) total = undefined;
    else total += toFirst;
    for (let i = 0; i < hops.length - 1; i++) {
      const from = places[i];
      const to = places[i + 1];
      const ns = from !== undefined && to !== undefined ? linkNs(a as SidAuthority, from.node, to.node) : undefined;
      if (ns !== undefined) hops[i].latencyNs = BigInt(Math.round(ns));
      total = ns === undefined || total === undefined ? undefined : total + ns;
    }
    const last = places[places.length - 1];
    const tenantId = last?.vrf ?? 0;
    const hmacStatus = srh.hmac === undefined ? 'ABSENT' : source === undefined ? undefined : checkHmac(srh, source, a?.hmacKeys ?? NO_KEYS);
    const path: Srv6Path = {
      ...bare,
      segments: hops.map((h) => h.sid),
      segmentsLeft: srh.segmentsLeft,
      tenantId,
      hops,
      fingerprint: segmentsFingerprint(travel),
      knownToCatalogue: a !== undefined && places.every((p) => p !== undefined && p.behavior !== ''),
      hmac: {
        status: hmacStatus === undefined ? Srv6HmacStatus.SRV6_HMAC_UNKNOWN : HMAC_STATUS[hmacStatus],
        keyId: srh.hmac?.keyId ?? 0,
      },
      latencyNs: total === undefined || a === undefined ? undefined : BigInt(Math.round(total)),
    };
    return a === undefined ? { path, unverifiable: 'noCatalogue' } : { path };
  }
}

/** Consecutive segments on one node cost nothing; otherwise the link between them. */
function linkNs(a: SidAuthority, from: string, to: string): number | undefined {
  return from === to ? 0 : a.latencyNs(from, to);
}

function sourceBytes(text: string): Uint8Array | undefined {
  if (text === '') return undefined;
  try {
    return parseSid(text);
  } catch {
    return undefined;
  }
}

function hopOf(sid: string, p: SegmentPlace | undefined): Srv6Hop {
  if (p === undefined) return { sid, behavior: '', node: '', operator: '', asn: 0, locator: '', geo: undefined, country: '', latencyNs: undefined };
  return {
    sid,
    behavior: p.behavior,
    node: p.node,
    operator: p.operator,
    asn: p.asn,
    locator: p.locator,
    geo: p.geo === undefined ? undefined : { latitude: p.geo.latitude, longitude: p.geo.longitude, address: p.geo.address ?? '' },
    country: p.geo?.country ?? '',
    latencyNs: undefined,
  };
}
