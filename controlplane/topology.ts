// The embedded control plane's view of the WAN: ASes with their master keys, the links
// between their interfaces, and the static metadata (latency, bandwidth, MTU, geo) each AS
// would announce in SCION's static info extension. Loaded from a YAML file; every error
// names the offending field and, when it can, the line it sits on.
import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { formatIA, isWildcard, isdOf, parseIA, type IA } from '../scion/isdas';
import { deriveHopFieldKey } from '../scion/mac/keys';
import { expTimeFromSeconds, expTimeToSeconds } from '../scion/mac/expiry';

/** SCION link relation as written in the file; PARENT means side a is the parent of side b. */
export type LinkRelation = 'CORE' | 'PARENT' | 'PEER';
/** What the remote end of an interface is, seen from the interface's own AS (topology.json's link_to). */
export type LinkTo = 'CORE' | 'PARENT' | 'CHILD' | 'PEER';
/** The physical link type of static info metadata (daemon.v1 LinkType). */
export type LinkMedium = 'unspecified' | 'direct' | 'multihop' | 'opennet';

const LINK_MEDIA: readonly LinkMedium[] = ['unspecified', 'direct', 'multihop', 'opennet'];
const DEFAULT_MTU = 1472;
/** SCION's default hop-field lifetime: ExpTime 63, 6 hours. */
export const DEFAULT_EXP_TIME = 63;

export interface GeoLocation {
  latitude: number;
  longitude: number;
  /** Civic address as announced; may be empty. */
  address: string;
  /** ISO 3166-1 alpha-2 code when the file gives one; otherwise left to a later lookup. */
  country?: string;
}

export interface InterfaceRef {
  ia: IA;
  ifid: number;
}

export interface TopologyLink {
  a: InterfaceRef;
  b: InterfaceRef;
  type: LinkRelation;
  latencyMs: number;
  bandwidthKbps: number;
  mtu: number;
  medium: LinkMedium;
}

export interface TopologyInterface {
  ifid: number;
  linkTo: LinkTo;
  remote: InterfaceRef;
  link: TopologyLink;
  geo?: GeoLocation;
  /** Underlay address (ip:port) of the border router owning this interface, if known. */
  underlay?: string;
}

/** Intra-AS figures between two of its interfaces, as the AS announces them. */
export interface InternalHop {
  latencyMs?: number;
  bandwidthKbps?: number;
  hops?: number;
}

export interface TopologyAS {
  ia: IA;
  core: boolean;
  name: string;
  city?: string;
  country?: string;
  /** Free-text note the AS attaches to its static info. */
  note?: string;
  /** Underlay hint for the AS as a whole (for example its internal network), if given. */
  underlay?: string;
  mtu: number;
  masterKey: Uint8Array;
  /** Hop-field MAC key derived from the master key, as the AS's routers derive it. */
  hopKey: Uint8Array;
  interfaces: Map<number, TopologyInterface>;
  /** Figures announced between interface pairs (lower ifid first); see internalBetween. */
  internal: Map<string, InternalHop>;
  internalDefault: InternalHop;
}

export interface SegmentSettings {
  /** ExpTime written into every hop field. */
  expTime: number;
  /** Hop-field lifetime in seconds that expTime encodes. */
  lifetimeSeconds: number;
  /** Most AS entries in a core segment. */
  maxCoreAses: number;
  /** Most AS entries in an intra-ISD segment. */
  maxIntraAses: number;
  /** Segments kept per (origin, registering AS) pair, best first. */
  bestSetSize: number;
}

export interface Topology {
  ases: Map<IA, TopologyAS>;
  links: TopologyLink[];
  segments: SegmentSettings;
}

export class TopologyError extends Error {
  override readonly name = 'TopologyError';
  constructor(
    /** Dotted path of the offending field, e.g. "links[2].b"; '' for the file as a whole. */
    readonly field: string,
    message: string,
    /** Where the field sits, "file:line", when known. */
    readonly location?: string,
  ) {
    super(`${location ? `${location}: ` : ''}${field ? `${field}: ` : ''}${message}`);
  }
}

type Path = (string | number)[];

function fieldName(path: Path): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

export function internalKey(a: number, b: number): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}

/** The intra-AS figures between two interfaces: an explicit pair entry, else the AS default. */
export function internalBetween(as: TopologyAS, a: number, b: number): InternalHop {
  return { ...as.internalDefault, ...as.internal.get(internalKey(a, b)) };
}

export function formatInterface(ref: InterfaceRef): string {
  return `${formatIA(ref.ia)}#${ref.ifid}`;
}

class Reader {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly source: string,
  ) {}

  fail(path: Path, message: string): never {
    throw new TopologyError(fieldName(path), message, this.locate(path));
  }

  private locate(path: Path): string | undefined {
    // A missing field is reported at the closest enclosing node that exists.
    let node: unknown = this.doc.contents;
    for (const p of path) {
      let child: unknown;
      if (isMap(node)) {
        const pair = node.items.find((it) => String((it.key as { value?: unknown } | null)?.value ?? it.key) === String(p));
        child = pair ? (pair.value ?? pair.key) : undefined;
      } else if (isSeq(node) && typeof p === 'number') {
        child = node.items[p];
      }
      if (child === undefined || child === null) break;
      node = child;
    }
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (!range) return this.source || undefined;
    return `${this.source || '<topology>'}:${this.lines.linePos(range[0]).line}`;
  }

  object(v: unknown, path: Path): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'must be a mapping');
    return v as Record<string, unknown>;
  }

  known(obj: Record<string, unknown>, path: Path, keys: readonly string[]): void {
    for (const k of Object.keys(obj)) {
      if (!keys.includes(k)) this.fail([...path, k], `unknown field (expected one of ${keys.join(', ')})`);
    }
  }

  string(obj: Record<string, unknown>, key: string, path: Path): string;
  string(obj: Record<string, unknown>, key: string, path: Path, optional: true): string | undefined;
  string(obj: Record<string, unknown>, key: string, path: Path, optional = false): string | undefined {
    const v = obj[key];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string' || v === '') this.fail([...path, key], v === undefined ? 'is required' : 'must be a non-empty string');
    return v;
  }

  number(obj: Record<string, unknown>, key: string, path: Path, opts: { min?: number; max?: number; integer?: boolean }): number;
  number(obj: Record<string, unknown>, key: string, path: Path, opts: { min?: number; max?: number; integer?: boolean; optional: true }): number | undefined;
  number(
    obj: Record<string, unknown>,
    key: string,
    path: Path,
    opts: { min?: number; max?: number; integer?: boolean; optional?: boolean },
  ): number | undefined {
    const v = obj[key];
    if (v === undefined && opts.optional) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail([...path, key], v === undefined ? 'is required' : 'must be a number');
    if (opts.integer && !Number.isInteger(v)) this.fail([...path, key], `${v} must be an integer`);
    if (opts.min !== undefined && v < opts.min) this.fail([...path, key], `${v} is below the minimum ${opts.min}`);
    if (opts.max !== undefined && v > opts.max) this.fail([...path, key], `${v} is above the maximum ${opts.max}`);
    return v;
  }

  boolean(obj: Record<string, unknown>, key: string, path: Path): boolean {
    const v = obj[key];
    if (v === undefined) return false;
    if (typeof v !== 'boolean') this.fail([...path, key], 'must be true or false');
    return v;
  }

  ia(text: string, path: Path): IA {
    let ia: IA;
    try {
      ia = parseIA(text);
    } catch (e) {
      this.fail(path, `"${text}" is not an ISD-AS: ${(e as Error).message}`);
    }
    if (isWildcard(ia)) this.fail(path, `"${text}" is a wildcard, not an AS`);
    return ia;
  }

  ifid(v: unknown, path: Path): number {
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    // Interface 0 means "none" in hop fields, so no real interface may carry it.
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 0xffff) {
      this.fail(path, `interface ID ${JSON.stringify(v)} must be an integer 1-65535`);
    }
    return n;
  }

  country(obj: Record<string, unknown>, path: Path): string | undefined {
    const c = this.string(obj, 'country', path, true);
    if (c !== undefined && !/^[A-Z]{2}$/.test(c)) this.fail([...path, 'country'], `"${c}" is not an ISO 3166-1 alpha-2 code (two capital letters)`);
    return c;
  }

  underlay(obj: Record<string, unknown>, path: Path): string | undefined {
    const u = this.string(obj, 'underlay', path, true);
    if (u !== undefined && !/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\])(:\d{1,5})?$/.test(u)) {
      this.fail([...path, 'underlay'], `"${u}" is not an IPv4 address or [IPv6] address, with optional :port`);
    }
    return u;
  }
}

const AS_KEYS = ['ia', 'core', 'name', 'city', 'country', 'note', 'underlay', 'mtu', 'masterKey', 'interfaces', 'internal', 'internalLatencyMs', 'internalBandwidthKbps'];
const IF_KEYS = ['latitude', 'longitude', 'address', 'country', 'underlay'];
const INTERNAL_KEYS = ['between', 'latencyMs', 'bandwidthKbps', 'hops'];
const LINK_KEYS = ['a', 'b', 'type', 'latencyMs', 'bandwidthKbps', 'mtu', 'linkType'];
const SEGMENT_KEYS = ['expTime', 'lifetimeSeconds', 'maxCoreAses', 'maxIntraAses', 'bestSetSize'];

interface RawInterface {
  geo?: GeoLocation;
  underlay?: string;
  path: Path;
}

function readAS(r: Reader, raw: unknown, path: Path): { as: TopologyAS; ifaces: Map<number, RawInterface> } {
  const o = r.object(raw, path);
  r.known(o, path, AS_KEYS);
  const ia = r.ia(r.string(o, 'ia', path), [...path, 'ia']);
  const keyText = r.string(o, 'masterKey', path);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyText) || keyText.length % 4 !== 0) {
    r.fail([...path, 'masterKey'], 'is not valid base64');
  }
  const masterKey = new Uint8Array(Buffer.from(keyText, 'base64'));
  // SCION master keys are 16 random bytes; shorter ones are guessable.
  if (masterKey.length < 16) r.fail([...path, 'masterKey'], `decodes to ${masterKey.length} bytes; at least 16 are required`);

  const ifaces = new Map<number, RawInterface>();
  if (o.interfaces !== undefined) {
    const ip = [...path, 'interfaces'];
    const m = r.object(o.interfaces, ip);
    for (const [k, v] of Object.entries(m)) {
      const p = [...ip, k];
      const ifid = r.ifid(k, p);
      const io = r.object(v ?? {}, p);
      r.known(io, p, IF_KEYS);
      let geo: GeoLocation | undefined;
      if (io.latitude !== undefined || io.longitude !== undefined) {
        geo = {
          latitude: r.number(io, 'latitude', p, { min: -90, max: 90 }),
          longitude: r.number(io, 'longitude', p, { min: -180, max: 180 }),
          address: r.string(io, 'address', p, true) ?? '',
        };
        const country = r.country(io, p);
        if (country) geo.country = country;
      } else if (io.address !== undefined || io.country !== undefined) {
        r.fail(p, 'address and country need latitude and longitude');
      }
      ifaces.set(ifid, { geo, underlay: r.underlay(io, p), path: p });
    }
  }

  const as: TopologyAS = {
    ia,
    core: r.boolean(o, 'core', path),
    name: r.string(o, 'name', path, true) ?? formatIA(ia),
    city: r.string(o, 'city', path, true),
    country: r.country(o, path),
    note: r.string(o, 'note', path, true),
    underlay: r.underlay(o, path),
    mtu: r.number(o, 'mtu', path, { min: 1280, max: 65535, integer: true, optional: true }) ?? DEFAULT_MTU,
    masterKey,
    hopKey: deriveHopFieldKey(masterKey),
    interfaces: new Map(),
    internal: new Map(),
    internalDefault: {
      latencyMs: r.number(o, 'internalLatencyMs', path, { min: 0, optional: true }),
      bandwidthKbps: r.number(o, 'internalBandwidthKbps', path, { min: 1, integer: true, optional: true }),
    },
  };
  if (o.internal !== undefined) {
    const ip = [...path, 'internal'];
    if (!Array.isArray(o.internal)) r.fail(ip, 'must be a list');
    o.internal.forEach((e, i) => {
      const p = [...ip, i];
      const io = r.object(e, p);
      r.known(io, p, INTERNAL_KEYS);
      const between = io.between;
      if (!Array.isArray(between) || between.length !== 2) r.fail([...p, 'between'], 'must list exactly two interface IDs');
      const [x, y] = between.map((b, j) => r.ifid(b, [...p, 'between', j]));
      if (x === y) r.fail([...p, 'between'], 'names the same interface twice');
      for (const [j, id] of [x, y].entries()) {
        if (!ifaces.has(id)) r.fail([...p, 'between', j], `interface ${id} is not listed under interfaces`);
      }
      const key = internalKey(x, y);
      if (as.internal.has(key)) r.fail([...p, 'between'], `pair ${key} is listed twice`);
      as.internal.set(key, {
        latencyMs: r.number(io, 'latencyMs', p, { min: 0, optional: true }),
        bandwidthKbps: r.number(io, 'bandwidthKbps', p, { min: 1, integer: true, optional: true }),
        hops: r.number(io, 'hops', p, { min: 0, integer: true, optional: true }),
      });
    });
  }
  return { as, ifaces };
}

function readRef(r: Reader, o: Record<string, unknown>, key: 'a' | 'b', path: Path): InterfaceRef {
  const text = r.string(o, key, path);
  const hash = text.lastIndexOf('#');
  if (hash < 0) r.fail([...path, key], `"${text}" must be ISD-AS#interface, e.g. 64-2:0:9#1`);
  return { ia: r.ia(text.slice(0, hash), [...path, key]), ifid: r.ifid(text.slice(hash + 1), [...path, key]) };
}

function readLink(r: Reader, raw: unknown, path: Path): TopologyLink {
  const o = r.object(raw, path);
  r.known(o, path, LINK_KEYS);
  const type = r.string(o, 'type', path);
  if (type !== 'CORE' && type !== 'PARENT' && type !== 'PEER') r.fail([...path, 'type'], `"${type}" must be CORE, PARENT or PEER`);
  const medium = r.string(o, 'linkType', path, true) ?? 'unspecified';
  if (!LINK_MEDIA.includes(medium as LinkMedium)) r.fail([...path, 'linkType'], `"${medium}" must be one of ${LINK_MEDIA.join(', ')}`);
  return {
    a: readRef(r, o, 'a', path),
    b: readRef(r, o, 'b', path),
    type,
    latencyMs: r.number(o, 'latencyMs', path, { min: 0 }),
    bandwidthKbps: r.number(o, 'bandwidthKbps', path, { min: 1, integer: true }),
    mtu: r.number(o, 'mtu', path, { min: 1280, max: 65535, integer: true, optional: true }) ?? DEFAULT_MTU,
    medium: medium as LinkMedium,
  };
}

function readSegments(r: Reader, raw: unknown): SegmentSettings {
  const path: Path = ['segments'];
  const o = raw === undefined ? {} : r.object(raw, path);
  r.known(o, path, SEGMENT_KEYS);
  if (o.expTime !== undefined && o.lifetimeSeconds !== undefined) r.fail(path, 'give expTime or lifetimeSeconds, not both');
  let expTime = r.number(o, 'expTime', path, { min: 0, max: 255, integer: true, optional: true });
  const lifetime = r.number(o, 'lifetimeSeconds', path, { min: expTimeToSeconds(0), max: expTimeToSeconds(255), optional: true });
  if (lifetime !== undefined) expTime = expTimeFromSeconds(lifetime);
  expTime ??= DEFAULT_EXP_TIME;
  return {
    expTime,
    lifetimeSeconds: expTimeToSeconds(expTime),
    maxCoreAses: r.number(o, 'maxCoreAses', path, { min: 2, max: 16, integer: true, optional: true }) ?? 5,
    maxIntraAses: r.number(o, 'maxIntraAses', path, { min: 2, max: 16, integer: true, optional: true }) ?? 8,
    bestSetSize: r.number(o, 'bestSetSize', path, { min: 1, max: 1000, integer: true, optional: true }) ?? 8,
  };
}

function linkTo(type: LinkRelation, side: 'a' | 'b'): LinkTo {
  if (type === 'PARENT') return side === 'a' ? 'CHILD' : 'PARENT';
  return type;
}

/** Parses and validates a topology document; `source` names the file in error messages. */
export function parseTopology(text: string, source = ''): Topology {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new TopologyError('', `YAML syntax: ${e.message.split('\n')[0]}`, `${source || '<topology>'}:${lines.linePos(e.pos[0]).line}`);
  }
  const r: Reader = new Reader(doc, lines, source);
  const top = r.object(doc.toJS(), []);
  r.known(top, [], ['ases', 'links', 'segments']);
  if (!Array.isArray(top.ases) || top.ases.length === 0) r.fail(['ases'], 'must be a non-empty list');
  if (!Array.isArray(top.links)) r.fail(['links'], 'must be a list');

  const ases = new Map<IA, TopologyAS>();
  const rawIfaces = new Map<IA, Map<number, RawInterface>>();
  top.ases.forEach((raw: unknown, i: number) => {
    const { as, ifaces } = readAS(r, raw, ['ases', i]);
    if (ases.has(as.ia)) r.fail(['ases', i, 'ia'], `${formatIA(as.ia)} is listed twice`);
    ases.set(as.ia, as);
    rawIfaces.set(as.ia, ifaces);
  });

  const links: TopologyLink[] = [];
  top.links.forEach((raw: unknown, i: number) => {
    const path: Path = ['links', i];
    const link = readLink(r, raw, path);
    if (link.a.ia === link.b.ia) r.fail(path, `links ${formatIA(link.a.ia)} to itself`);
    for (const side of ['a', 'b'] as const) {
      const ref = link[side];
      const as = ases.get(ref.ia);
      if (!as) r.fail([...path, side], `AS ${formatIA(ref.ia)} is not listed under ases`);
      if (as.interfaces.has(ref.ifid)) r.fail([...path, side], `interface ${formatInterface(ref)} is already used by another link`);
    }
    const a = ases.get(link.a.ia)!;
    const b = ases.get(link.b.ia)!;
    if (link.type === 'CORE' && !(a.core && b.core)) r.fail([...path, 'type'], 'CORE links join two core ASes');
    if (link.type === 'PARENT') {
      if (b.core) r.fail([...path, 'b'], `${formatIA(b.ia)} is core and cannot have a parent`);
      if (isdOf(a.ia) !== isdOf(b.ia)) r.fail([...path, 'type'], 'PARENT links stay inside one ISD');
    }
    for (const side of ['a', 'b'] as const) {
      const ref = link[side];
      const raw = rawIfaces.get(ref.ia)!.get(ref.ifid);
      ases.get(ref.ia)!.interfaces.set(ref.ifid, {
        ifid: ref.ifid,
        linkTo: linkTo(link.type, side),
        remote: side === 'a' ? link.b : link.a,
        link,
        ...(raw?.geo ? { geo: raw.geo } : {}),
        ...(raw?.underlay ? { underlay: raw.underlay } : {}),
      });
    }
    links.push(link);
  });

  top.ases.forEach((_: unknown, i: number) => {
    const as = [...ases.values()][i];
    for (const [ifid, raw] of rawIfaces.get(as.ia)!) {
      if (!as.interfaces.has(ifid)) r.fail(raw.path, `interface ${ifid} of ${formatIA(as.ia)} is not used by any link`);
    }
    if (!as.core && ![...as.interfaces.values()].some((f) => f.linkTo === 'PARENT')) {
      r.fail(['ases', i, 'core'], `${formatIA(as.ia)} is not core and has no PARENT link, so it cannot reach its ISD's core`);
    }
  });
  for (const isd of new Set([...ases.keys()].map(isdOf))) {
    if (![...ases.values()].some((as) => as.core && isdOf(as.ia) === isd)) {
      r.fail(['ases'], `ISD ${isd} has no core AS`);
    }
  }
  return { ases, links, segments: readSegments(r, top.segments) };
}

export function loadTopology(file: string): Topology {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TopologyError('', `cannot read topology file: ${(e as Error).message}`, file);
  }
  return parseTopology(text, file);
}
