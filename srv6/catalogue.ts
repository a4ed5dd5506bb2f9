// The SID catalogue: which node instantiates a SID (longest locator prefix), its operator,
// AS number and location, the links between nodes with their latency, and the RFC 8754
// HMAC keys. Read from a YAML file (examples/srv6.yaml); every invalid field is reported
// with its YAML path and line.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { isCountryCode } from './country';
import { Srv6Error } from './errors';
import { inPrefix, mask, parsePrefix, parseSid, prefixText, SID_LEN, sidText, type Prefix } from './sid';

/** Endpoint behaviors a catalogue SID may have (RFC 8986 §4); bpf/abi.ts has the datapath's own list. */
export const SID_BEHAVIORS = ['End', 'End.X', 'End.DT4', 'End.DT6'] as const;
export type SidBehavior = (typeof SID_BEHAVIORS)[number];
export type SidNodeRole = 'provider' | 'edge';
/** The one HMAC algorithm RFC 8754 keys may name here. */
export const HMAC_ALGORITHM = 'hmac-sha256';
/** Shortest HMAC secret accepted, in bytes: half of SHA-256's output (RFC 2104 §3 asks for at least the output length L; below L/2 is refused). */
export const HMAC_SECRET_MIN = 16;

/** Where a node stands. The country is declared, not looked up: SRv6 segments are judged by it. */
export interface NodeGeo {
  latitude: number;
  longitude: number;
  /** Civic address; may be empty. */
  address: string;
  /** ISO 3166-1 alpha-2 code. */
  country: string;
}

export interface SidEntry {
  /** RFC 5952 text. */
  sid: string;
  bytes: Uint8Array;
  behavior: SidBehavior;
  /** End.DT4/End.DT6: the tenant (VRF id) it decapsulates into. */
  vrf?: number;
  /** End.X: the neighbour node of the adjacency it forwards over. */
  adjacency?: string;
}

export interface SidNode {
  name: string;
  role: SidNodeRole;
  operator: string;
  /** AS number of the operator; 0 when not given. */
  asn: number;
  /** Edge nodes: the Kubernetes cluster the node belongs to. */
  cluster?: string;
  /** Edge nodes: the outer IPv6 source it encapsulates with (inside its locator). */
  source?: string;
  locator: Prefix;
  /** The locator as text, "fc00:0:1::/48". */
  locatorText: string;
  geo?: NodeGeo;
  sids: SidEntry[];
}

export interface SidLink {
  a: string;
  b: string;
  latencyMs: number;
  latencyNs: number;
}

export interface SidLookup {
  node: SidNode;
  /** The SID when the node declares it; undefined for another address in its locator. */
  sid: SidEntry | undefined;
  locator: string;
}

export interface Neighbour {
  node: string;
  latencyNs: number;
}

export class SidCatalogue {
  readonly nodes: readonly SidNode[];
  readonly links: readonly SidLink[];
  readonly hmacKeys: Map<number, Buffer>;
  /** Derived from the file's content: equal for equal content, so a reload that changed nothing keeps caches. */
  readonly generation: number;
  private readonly byName = new Map<string, SidNode>();
  private readonly bySid = new Map<string, SidEntry>();
  /** Locator prefix lengths, longest first, each to its masked-address-hex -> node map. */
  private readonly byLocator: [number, Map<string, SidNode>][];
  private readonly adjacent = new Map<string, Neighbour[]>();
  private readonly bySource = new Map<string, SidNode>();

  constructor(nodes: SidNode[], links: SidLink[], hmacKeys: Map<number, Buffer>, generation: number) {
    this.nodes = nodes;
    this.links = links;
    this.hmacKeys = hmacKeys;
    this.generation = generation;
    const lens = new Map<number, Map<string, SidNode>>();
    for (const n of nodes) {
      this.byName.set(n.name, n);
      this.adjacent.set(n.name, []);
      if (n.source !== undefined) this.bySource.set(n.source, n);
      for (const s of n.sids) this.bySid.set(hex(s.bytes), s);
      let m = lens.get(n.locator.len);
      if (!m) lens.set(n.locator.len, (m = new Map()));
      m.set(hex(n.locator.addr), n);
    }
    this.byLocator = [...lens].sort((x, y) => y[0] - x[0]);
    for (const l of links) {
      this.adjacent.get(l.a)!.push({ node: l.b, latencyNs: l.latencyNs });
      this.adjacent.get(l.b)!.push({ node: l.a, latencyNs: l.latencyNs });
    }
    for (const list of this.adjacent.values()) list.sort((x, y) => (x.node < y.node ? -1 : x.node > y.node ? 1 : 0));
  }

  /** The node whose locator holds the address (longest prefix), and the SID if declared. */
  lookup(sid: Uint8Array | string): SidLookup | undefined {
    const bytes = typeof sid === 'string' ? parseSid(sid) : sid;
    if (bytes.length !== SID_LEN) return undefined;
    for (const [len, m] of this.byLocator) {
      const node = m.get(hex(mask(bytes, len)));
      if (node) return { node, sid: this.bySid.get(hex(bytes)), locator: node.locatorText };
    }
    return undefined;
  }

  node(name: string): SidNode | undefined {
    return this.byName.get(name);
  }

  sidsOf(node: string): readonly SidEntry[] {
    return this.byName.get(node)?.sids ?? [];
  }

  /** The node's first End SID: what a segment list names to pass through it. */
  endSid(node: string): SidEntry | undefined {
    return this.sidsOf(node).find((s) => s.behavior === 'End');
  }

  dt4Sid(node: string, tenantId: number): SidEntry | undefined {
    return this.sidsOf(node).find((s) => s.behavior === 'End.DT4' && s.vrf === tenantId);
  }

  dt6Sid(node: string, tenantId: number): SidEntry | undefined {
    return this.sidsOf(node).find((s) => s.behavior === 'End.DT6' && s.vrf === tenantId);
  }

  /** Linked nodes, by name. */
  neighbours(node: string): readonly Neighbour[] {
    return this.adjacent.get(node) ?? [];
  }

  /** A cluster's edge nodes, by name. */
  edgeNodes(cluster: string): SidNode[] {
    return this.nodes.filter((n) => n.role === 'edge' && n.cluster === cluster).sort((x, y) => (x.name < y.name ? -1 : 1));
  }

  /** The edge node that encapsulates with this outer source, if any. */
  nodeBySource(source: Uint8Array | string): SidNode | undefined {
    const bytes = typeof source === 'string' ? parseSid(source) : source;
    return bytes.length === SID_LEN ? this.bySource.get(sidText(bytes)) : undefined;
  }
}

// ---- parsing

type Path = (string | number)[];

function fieldName(path: Path): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

const TOP_KEYS = ['hmacKeys', 'nodes', 'links'];
const NODE_KEYS = ['name', 'role', 'operator', 'asn', 'cluster', 'source', 'locator', 'geo', 'sids'];
const GEO_KEYS = ['latitude', 'longitude', 'address', 'country'];
const SID_KEYS = ['sid', 'behavior', 'vrf', 'adjacency'];
const LINK_KEYS = ['a', 'b', 'latencyMs'];
const KEY_KEYS = ['id', 'algorithm', 'secret'];
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

class Reader {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly source: string,
  ) {}

  fail(path: Path, message: string): never {
    throw new Srv6Error('BAD_CATALOGUE', message, fieldName(path), this.locate(path));
  }

  private locate(path: Path): string {
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
    const file = this.source || '<catalogue>';
    return range ? `${file}:${this.lines.linePos(range[0]).line}` : file;
  }

  object(v: unknown, path: Path, keys: readonly string[]): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'must be a mapping');
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!keys.includes(k)) this.fail([...path, k], `unknown field (expected one of ${keys.join(', ')})`);
    return o;
  }

  list(o: Record<string, unknown>, key: string, path: Path, optional = false): unknown[] {
    const v = o[key];
    if (v === undefined && optional) return [];
    if (!Array.isArray(v)) this.fail([...path, key], v === undefined ? 'is required' : 'must be a list');
    return v;
  }

  string(o: Record<string, unknown>, key: string, path: Path): string;
  string(o: Record<string, unknown>, key: string, path: Path, optional: true): string | undefined;
  string(o: Record<string, unknown>, key: string, path: Path, optional = false): string | undefined {
    const v = o[key];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string' || v.trim() === '') this.fail([...path, key], v === undefined ? 'is required' : 'must be a non-empty string');
    return v;
  }

  number(o: Record<string, unknown>, key: string, path: Path, opts: { min: number; max: number; integer?: boolean; optional?: boolean }): number | undefined {
    const v = o[key];
    if (v === undefined && opts.optional) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail([...path, key], v === undefined ? 'is required' : 'must be a number');
    if (opts.integer && !Number.isInteger(v)) this.fail([...path, key], `${v} must be an integer`);
    if (v < opts.min || v > opts.max) this.fail([...path, key], `${v} is outside ${opts.min}..${opts.max}`);
    return v;
  }

  sid(text: string, path: Path): Uint8Array {
    try {
      return parseSid(text);
    } catch (e) {
      return this.fail(path, (e as Error).message);
    }
  }

  prefix(text: string, path: Path): Prefix {
    try {
      return parsePrefix(text);
    } catch (e) {
      return this.fail(path, (e as Error).message);
    }
  }
}

function readGeo(r: Reader, raw: unknown, path: Path): NodeGeo {
  const o = r.object(raw, path, GEO_KEYS);
  const latitude = r.number(o, 'latitude', path, { min: -90, max: 90 })!;
  const longitude = r.number(o, 'longitude', path, { min: -180, max: 180 })!;
  const address = r.string(o, 'address', path, true) ?? '';
  const country = r.string(o, 'country', path);
  if (!isCountryCode(country)) r.fail([...path, 'country'], `"${country}" is not an ISO 3166-1 alpha-2 code`);
  return { latitude, longitude, address, country };
}

function readNode(r: Reader, raw: unknown, path: Path): SidNode {
  const o = r.object(raw, path, NODE_KEYS);
  const name = r.string(o, 'name', path);
  const role = r.string(o, 'role', path);
  if (role !== 'provider' && role !== 'edge') r.fail([...path, 'role'], `"${role}" is not provider or edge`);
  const operator = r.string(o, 'operator', path);
  const asn = r.number(o, 'asn', path, { min: 0, max: 0xffffffff, integer: true, optional: true }) ?? 0;
  const locatorText = r.string(o, 'locator', path);
  const locator = r.prefix(locatorText, [...path, 'locator']);
  const node: SidNode = { name, role, operator, asn, locator, locatorText: prefixText(locator), sids: [] };
  const cluster = r.string(o, 'cluster', path, true);
  const source = r.string(o, 'source', path, true);
  if (role === 'edge') {
    if (cluster === undefined) r.fail([...path, 'cluster'], 'is required for an edge node');
    if (source === undefined) r.fail([...path, 'source'], 'is required for an edge node (the outer IPv6 source it encapsulates with)');
  }
  if (cluster !== undefined) node.cluster = cluster;
  if (source !== undefined) {
    const bytes = r.sid(source, [...path, 'source']);
    if (!inPrefix(bytes, locator)) r.fail([...path, 'source'], `${source} is outside the node's locator ${node.locatorText}`);
    node.source = sidText(bytes);
  }
  if (o.geo !== undefined) node.geo = readGeo(r, o.geo, [...path, 'geo']);
  r.list(o, 'sids', path).forEach((rawSid, j) => {
    const sp = [...path, 'sids', j];
    const so = r.object(rawSid, sp, SID_KEYS);
    const bytes = r.sid(r.string(so, 'sid', sp), [...sp, 'sid']);
    if (!inPrefix(bytes, locator)) r.fail([...sp, 'sid'], `${sidText(bytes)} is outside the node's locator ${node.locatorText}`);
    const behavior = r.string(so, 'behavior', sp) as SidBehavior;
    if (!SID_BEHAVIORS.includes(behavior)) r.fail([...sp, 'behavior'], `"${behavior}" is not one of ${SID_BEHAVIORS.join(', ')}`);
    const entry: SidEntry = { sid: sidText(bytes), bytes, behavior };
    const decap = behavior === 'End.DT4' || behavior === 'End.DT6';
    if (decap) {
      entry.vrf = r.number(so, 'vrf', sp, { min: 1, max: 0xffffffff, integer: true })!;
      if (node.sids.some((s) => s.behavior === behavior && s.vrf === entry.vrf)) {
        r.fail([...sp, 'vrf'], `${node.name} already has a ${behavior} SID for VRF ${entry.vrf}`);
      }
    } else if (so.vrf !== undefined) {
      r.fail([...sp, 'vrf'], `only End.DT4 and End.DT6 SIDs have a VRF`);
    }
    if (behavior === 'End.X') entry.adjacency = r.string(so, 'adjacency', sp);
    else if (so.adjacency !== undefined) r.fail([...sp, 'adjacency'], 'only End.X SIDs have an adjacency');
    node.sids.push(entry);
  });
  return node;
}

/** Parses and validates a SID catalogue; `source` names the file in error messages. */
export function parseSidCatalogue(text: string, source = ''): SidCatalogue {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new Srv6Error('BAD_CATALOGUE', `YAML syntax: ${e.message.split('\n')[0]}`, '', `${source || '<catalogue>'}:${lines.linePos(e.pos[0]).line}`);
  }
  const r = new Reader(doc, lines, source);
  const top = r.object(doc.toJS(), [], TOP_KEYS);

  const hmacKeys = new Map<number, Buffer>();
  r.list(top, 'hmacKeys', [], true).forEach((raw, i) => {
    const p: Path = ['hmacKeys', i];
    const o = r.object(raw, p, KEY_KEYS);
    const id = r.number(o, 'id', p, { min: 1, max: 0xffffffff, integer: true })!;
    if (hmacKeys.has(id)) r.fail([...p, 'id'], `key id ${id} is listed twice`);
    const algorithm = r.string(o, 'algorithm', p);
    if (algorithm !== HMAC_ALGORITHM) r.fail([...p, 'algorithm'], `"${algorithm}" is not supported (only ${HMAC_ALGORITHM})`);
    const secret = r.string(o, 'secret', p);
    if (!BASE64.test(secret)) r.fail([...p, 'secret'], 'is not base64');
    const key = Buffer.from(secret, 'base64');
    if (key.length < HMAC_SECRET_MIN) r.fail([...p, 'secret'], `${key.length} bytes; at least ${HMAC_SECRET_MIN} are required`);
    hmacKeys.set(id, key);
  });

  const nodes: SidNode[] = [];
  const names = new Set<string>();
  const sidOwner = new Map<string, string>();
  const rawNodes = r.list(top, 'nodes', []);
  if (rawNodes.length === 0) r.fail(['nodes'], 'must list at least one node');
  rawNodes.forEach((raw, i) => {
    const node = readNode(r, raw, ['nodes', i]);
    if (names.has(node.name)) r.fail(['nodes', i, 'name'], `"${node.name}" is listed twice`);
    node.sids.forEach((s, j) => {
      if (sidOwner.has(s.sid)) r.fail(['nodes', i, 'sids', j, 'sid'], `${s.sid} is listed twice`);
      sidOwner.set(s.sid, node.name);
    });
    names.add(node.name);
    nodes.push(node);
  });

  const overlap = firstOverlap(nodes);
  if (overlap) {
    const [i, j] = overlap;
    r.fail(['nodes', i, 'locator'], `${nodes[i].locatorText} overlaps ${nodes[j].name}'s locator ${nodes[j].locatorText}`);
  }

  const links: SidLink[] = [];
  const pairs = new Set<string>();
  r.list(top, 'links', [], true).forEach((raw, i) => {
    const p: Path = ['links', i];
    const o = r.object(raw, p, LINK_KEYS);
    const a = r.string(o, 'a', p);
    const b = r.string(o, 'b', p);
    for (const [side, n] of [['a', a], ['b', b]] as const) if (!names.has(n)) r.fail([...p, side], `"${n}" is not a node of the catalogue`);
    if (a === b) r.fail(p, `links ${a} to itself`);
    const pair = a < b ? `${a}\n${b}` : `${b}\n${a}`;
    if (pairs.has(pair)) r.fail(p, `${a} and ${b} are linked twice`);
    pairs.add(pair);
    const latencyMs = r.number(o, 'latencyMs', p, { min: 0, max: 60_000 })!;
    links.push({ a, b, latencyMs, latencyNs: Math.round(latencyMs * 1e6) });
  });

  nodes.forEach((n, i) =>
    n.sids.forEach((s, j) => {
      if (s.adjacency === undefined) return;
      const pair = n.name < s.adjacency ? `${n.name}\n${s.adjacency}` : `${s.adjacency}\n${n.name}`;
      if (!pairs.has(pair)) r.fail(['nodes', i, 'sids', j, 'adjacency'], `${n.name} has no link to "${s.adjacency}"`);
    }),
  );

  const generation = createHash('sha256').update(text).digest().readUIntBE(0, 6);
  return new SidCatalogue(nodes, links, hmacKeys, generation);
}

/**
 * Two nodes whose locators overlap, as [later, earlier] file index: of all pairs a sweep finds,
 * the one whose later node comes first. Prefixes are nested or disjoint, so sorted by first
 * address (shorter first) each one overlaps exactly the prefixes still open on a stack:
 * O(n log n) for catalogues of many nodes.
 */
function firstOverlap(nodes: readonly SidNode[]): [number, number] | undefined {
  const spans = nodes
    .map((n, i) => ({ i, len: n.locator.len, first: hex(n.locator.addr), last: hex(lastAddress(n.locator)) }))
    .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : a.len - b.len || a.i - b.i));
  const open: typeof spans = [];
  let best: [number, number] | undefined;
  for (const s of spans) {
    while (open.length > 0 && open[open.length - 1].last < s.first) open.pop();
    const outer = open[open.length - 1];
    if (outer) {
      const pair: [number, number] = outer.i > s.i ? [outer.i, s.i] : [s.i, outer.i];
      if (!best || pair[0] < best[0] || (pair[0] === best[0] && pair[1] < best[1])) best = pair;
    }
    open.push(s);
  }
  return best;
}

function lastAddress(p: Prefix): Uint8Array {
  const out = Uint8Array.from(p.addr);
  for (let i = 0; i < SID_LEN; i++) {
    const bits = Math.max(0, Math.min(8, p.len - i * 8));
    out[i] |= 0xff >> bits;
  }
  return out;
}

/** Reads and parses a SID catalogue file. */
export function loadSidCatalogue(file: string): SidCatalogue {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Srv6Error('CATALOGUE_IO', `cannot read ${file}: ${(e as Error).message}`);
  }
  return parseSidCatalogue(text, file);
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
