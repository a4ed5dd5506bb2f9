// The predicate of a Cillion compliance attestation, and the tally that builds its totals.
// Export and verify run the same tally (over the store's flows, and over the evidence file)
// and the two must agree exactly; anything the tally sums is decidable from the evidence
// plus the path table in the predicate.
import type { Json } from './canonical_json';
import type { CanonicalFlow, FenceVerdictName } from './canonical_flow';

/**
 * What the tally reads of a flow: a canonical flow, or the same fields with the counts
 * still numbers (the export from stored columns has them so, and need not print and parse
 * them; verify reads short ones as numbers, which must then be integers below 2^52).
 */
export type TallyFlow = Pick<CanonicalFlow, 'time' | 'uuid' | 'path' | 'fence'> & {
  packets: string | bigint | number | null;
  bytes: string | bigint | number | null;
};

/** Documented in docs/attest.md. */
export const PREDICATE_TYPE = 'https://cillion.io/attestation/geofence-compliance/v1';

/** Sums over flows; packets and bytes are decimal strings because they exceed 2^53. */
export interface Counts {
  flows: number;
  packets: string;
  bytes: string;
}

export interface PredicateHop {
  isdAs: string;
  ingressInterface: number;
  egressInterface: number;
  /** ISO 3166-1 alpha-2; "" when the AS declared no location. */
  country: string;
  geo: { latitude: number; longitude: number; address: string } | null;
}

export interface ScionPathUse {
  fingerprint: string;
  srcIa: string;
  dstIa: string;
  knownToControlPlane: boolean;
  hops: PredicateHop[];
  counts: Counts;
}

/** One segment of an SRv6 path and the node the relay's SID catalogue says instantiates it. */
export interface Srv6PredicateHop {
  sid: string;
  /** "End", "End.X", "End.DT4", "End.DT6"; "" for a SID the catalogue does not know. */
  behavior: string;
  node: string;
  operator: string;
  asn: number;
  /** ISO 3166-1 alpha-2; "" when the catalogue declares no location. */
  country: string;
  geo: { latitude: number; longitude: number; address: string } | null;
}

/** What a relay made of an SRH's HMAC TLV (RFC 8754 section 2.1.2). */
export type Srv6HmacName = 'UNKNOWN' | 'ABSENT' | 'VERIFIED' | 'MISMATCH' | 'NO_KEY' | 'MALFORMED';

/**
 * An SRv6 path. Its key (`fingerprint`, the evidence lines' `path`) is "srv6:" and the
 * SHA-256 of the entry's other fields in canonical JSON, so a flow's line names its whole
 * entry: segment list, encapsulating source, tenant, hops and HMAC outcome.
 */
export interface Srv6PathUse {
  fingerprint: string;
  type: 'srv6';
  /** Travel order: the packet goes to segments[0] first, the last decapsulates it. */
  segments: string[];
  /** Srv6Path.fingerprint: SHA-256 over the segments' 16 bytes each, in travel order. */
  segmentsFingerprint: string;
  /** Outer IPv6 source: the edge that encapsulated the packet. */
  source: string;
  tenantId: number;
  tenant: string;
  knownToCatalogue: boolean;
  hmac: { status: Srv6HmacName; keyId: number };
  hops: Srv6PredicateHop[];
  counts: Counts;
}

export type PathUse = ScionPathUse | Srv6PathUse;

/** Omit over each member of a union (the built-in Omit keeps only the keys all members share). */
export type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A listed path's entry without its key (and counts): what a PathTable holds under the key. */
export function entryOf(p: OmitEach<PathUse, 'counts'> | PathUse): OmitEach<PathUse, 'counts' | 'fingerprint'> {
  const { fingerprint: _f, ...rest } = p as PathUse;
  delete (rest as Partial<PathUse>).counts;
  return rest as OmitEach<PathUse, 'counts' | 'fingerprint'>;
}

export const isSrv6Path = <T extends object>(p: T): p is Extract<T, { type: 'srv6' }> => (p as { type?: unknown }).type === 'srv6';

export interface FlowRef {
  /** Line number in the evidence file, from 0: the Merkle leaf index. */
  index: number;
  uuid: string;
  time: string;
  fence: string;
  reason: string;
}

export interface FenceUse {
  name: string;
  /** Its spec in canonical JSON and that text's SHA-256; null when the exporter did not have it. */
  spec: Json;
  specSha256: string | null;
  mode: string | null;
}

export interface Totals extends Counts {
  compliant: number;
  violation: number;
  unverified: number;
  /** Flows no geofence applied to. */
  unjudged: number;
}

/** A relay as attestations name it: its --name, its --cluster ("" without) and version. */
export interface RelayRef {
  name: string;
  cluster: string;
  version: string;
}

export interface StoreRef {
  kind: string;
  location: string;
  database: string;
}

/** Which relays' stores the evidence covers (docs/attest.md, "Across relays"). */
export interface Coverage {
  /**
   * Relays whose stores' selected flows are all in the evidence: the exporting relay first,
   * then its peers. A peer's name is the one this relay was configured with (--peer); its
   * cluster, version and store are as the peer reported them in its catalogue.
   */
  covered: (RelayRef & { store: StoreRef })[];
  /** Replicas sharing the exporting relay's store, so covered by it; none with own stores. */
  sharedStoreWith: string[];
  /** Relays of the set the evidence may lack flows of, in part or whole: the range is incomplete unless this is empty. */
  missing: { name: string; address: string; reason: string }[];
  /** Flows held by more than one relay (the same uuid, after a collector's failover), counted once. */
  duplicates: number;
  /** Copies of a flow whose line differed from the one kept (relays that judged it differently); a peer's copy differing from the exporting relay's own beyond that judgment fails that peer as invalid. */
  conflicts: number;
}

export interface AttestationPredicate {
  /** Flows with from <= time < to (RFC 3339, nine fraction digits). */
  window: { from: string; to: string };
  selector: string;
  query: Json;
  geofences: FenceUse[];
  paths: PathUse[];
  /** Flows that carried no WAN path (neither SCION nor SRv6). */
  noPath: Counts;
  /** Per country a path crosses: flows over a path count once for every country on it. */
  countries: { country: string; counts: Counts }[];
  /** Per AS a SCION path crosses, likewise (SRv6 hops name their node's ASN in the path entry, not here). */
  ases: { isdAs: string; counts: Counts }[];
  totals: Totals;
  violations: FlowRef[];
  unverified: FlowRef[];
  evidence: { name: string; mediaType: string; sha256: string; merkleRoot: string; flows: number };
  /** The relay that built the statement; signingKey: the id of the key it signs it with, null when its client signs. */
  relay: RelayRef & { signingKey: string | null };
  store: StoreRef;
  relays: Coverage;
  generatedAt: string;
}

/** Counts given as numbers are summed as numbers up to here, then carried into the bigint. */
const CARRY_FROM = 2 ** 52;

class Sum {
  flows = 0;
  private packetsBig = 0n;
  private bytesBig = 0n;
  // Exact while below 2^53: each number added is below 2^52 (TallyFlow), and these are carried from 2^52.
  private packetsSmall = 0;
  private bytesSmall = 0;

  get packets(): bigint {
    return this.packetsBig + BigInt(this.packetsSmall);
  }

  get bytes(): bigint {
    return this.bytesBig + BigInt(this.bytesSmall);
  }

  add(c: TallyFlow): void {
    this.flows++;
    const p = c.packets;
    if (typeof p === 'number') {
      if ((this.packetsSmall += p) >= CARRY_FROM) this.carry();
    } else if (p !== null) this.packetsBig += typeof p === 'bigint' ? p : BigInt(p);
    const b = c.bytes;
    if (typeof b === 'number') {
      if ((this.bytesSmall += b) >= CARRY_FROM) this.carry();
    } else if (b !== null) this.bytesBig += typeof b === 'bigint' ? b : BigInt(b);
  }

  private carry(): void {
    this.packetsBig += BigInt(this.packetsSmall);
    this.bytesBig += BigInt(this.bytesSmall);
    this.packetsSmall = 0;
    this.bytesSmall = 0;
  }

  addSum(s: SumPart): void {
    this.flows += s.flows;
    this.packetsBig += s.packets;
    this.bytesBig += s.bytes;
  }

  counts(): Counts {
    return { flows: this.flows, packets: this.packets.toString(), bytes: this.bytes.toString() };
  }
}

const byText = <T>(key: (t: T) => string) => (a: T, b: T): number => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

export type PathTable = Map<string, OmitEach<PathUse, 'counts' | 'fingerprint'>>;

/** A sum as plain data, to cross a worker boundary (structured clone keeps bigints, not classes). */
interface SumPart {
  flows: number;
  packets: bigint;
  bytes: bigint;
}

/** A tally of a run of flows as plain data; tallies of consecutive runs merge in order. */
export interface TallyPart {
  perPath: Map<string, SumPart>;
  noPath: SumPart;
  total: SumPart;
  verdicts: Record<FenceVerdictName | 'none', number>;
  violations: FlowRef[];
  unverified: FlowRef[];
  fences: string[];
}

const part = (s: Sum): SumPart => ({ flows: s.flows, packets: s.packets, bytes: s.bytes });

/** Sums flows into the predicate's totals; paths must be known (from the store or the predicate). */
export class PredicateTally {
  private readonly perPath = new Map<string, Sum>();
  private readonly noPath = new Sum();
  private readonly total = new Sum();
  private readonly verdicts: Record<FenceVerdictName | 'none', number> = { COMPLIANT: 0, VIOLATION: 0, UNVERIFIED: 0, none: 0 };
  readonly violations: FlowRef[] = [];
  readonly unverified: FlowRef[] = [];
  readonly fences = new Set<string>();

  add(c: TallyFlow, index: number): void {
    this.total.add(c);
    if (c.path === '') this.noPath.add(c);
    else {
      let s = this.perPath.get(c.path);
      if (!s) this.perPath.set(c.path, (s = new Sum()));
      s.add(c);
    }
    this.verdicts[c.fence?.verdict ?? 'none']++;
    if (!c.fence) return;
    this.fences.add(c.fence.name);
    // No closure per flow here: this runs for every flow of export and verify.
    const list = c.fence.verdict === 'VIOLATION' ? this.violations : c.fence.verdict === 'UNVERIFIED' ? this.unverified : undefined;
    list?.push({ index, uuid: c.uuid, time: c.time, fence: c.fence.name, reason: c.fence.reason });
  }

  /** This tally as plain data, for merge() in another thread. */
  part(): TallyPart {
    return {
      perPath: new Map([...this.perPath].map(([k, v]) => [k, part(v)])),
      noPath: part(this.noPath),
      total: part(this.total),
      verdicts: { ...this.verdicts },
      violations: this.violations,
      unverified: this.unverified,
      fences: [...this.fences],
    };
  }

  /** Adds the tally of the flows right after the ones added so far. */
  merge(p: TallyPart): void {
    for (const [k, v] of p.perPath) {
      let s = this.perPath.get(k);
      if (!s) this.perPath.set(k, (s = new Sum()));
      s.addSum(v);
    }
    this.noPath.addSum(p.noPath);
    this.total.addSum(p.total);
    for (const k of Object.keys(this.verdicts) as (keyof PredicateTally['verdicts'])[]) this.verdicts[k] += p.verdicts[k];
    for (const r of p.violations) this.violations.push(r);
    for (const r of p.unverified) this.unverified.push(r);
    for (const f of p.fences) this.fences.add(f);
  }

  /** Fingerprints seen, sorted. */
  pathsSeen(): string[] {
    return [...this.perPath.keys()].sort();
  }

  /** Everything of the predicate that is a function of the flows and the path table. */
  summary(paths: PathTable): Pick<AttestationPredicate, 'paths' | 'noPath' | 'countries' | 'ases' | 'totals' | 'violations' | 'unverified'> {
    const countries = new Map<string, Sum>();
    const ases = new Map<string, Sum>();
    const bump = (m: Map<string, Sum>, k: string, s: Sum): void => {
      let t = m.get(k);
      if (!t) m.set(k, (t = new Sum()));
      t.addSum(s);
    };
    const uses: PathUse[] = [];
    for (const fp of this.pathsSeen()) {
      const p = paths.get(fp);
      if (!p) throw new Error(`path ${fp} is not in the path table`);
      const s = this.perPath.get(fp) as Sum;
      uses.push({ fingerprint: fp, ...p, counts: s.counts() });
      for (const c of new Set(p.hops.map((h) => h.country))) bump(countries, c, s);
      if (!isSrv6Path(p)) for (const a of new Set(p.hops.map((h) => h.isdAs))) bump(ases, a, s);
    }
    return {
      paths: uses,
      noPath: this.noPath.counts(),
      countries: [...countries].map(([country, s]) => ({ country, counts: s.counts() })).sort(byText((x) => x.country)),
      ases: [...ases].map(([isdAs, s]) => ({ isdAs, counts: s.counts() })).sort(byText((x) => x.isdAs)),
      totals: {
        ...this.total.counts(),
        compliant: this.verdicts.COMPLIANT,
        violation: this.verdicts.VIOLATION,
        unverified: this.verdicts.UNVERIFIED,
        unjudged: this.verdicts.none,
      },
      violations: this.violations,
      unverified: this.unverified,
    };
  }
}
