// Export's rows straight from the stored columns (FlowReader.pages()), without a Flow per
// row: each selected row's evidence line is written from its columns, with the JSON of
// each workload, path and fence written once per key rather than once per flow, and the
// source label selector decided once per workload. A line is byte for byte what
// canonicalLine writes for the Flow the store rebuilds from the same row (stored_flow.ts
// blockFlows): the same helpers write each part, and the tests compare the two on every
// field evidence holds, endpoints and paths missing from their tables included.
//
// The rows come as the engine selected them (time window, geofence name, and the label
// selector as a necessary condition); the selector and the record choice are decided here.
import { scionObservationPointToJSON, verdictToJSON, WanPathType, type Endpoint, type Flow, type ScionPath } from '../../proto/gen/flow/flow';
import { L4, PRESENT } from '../../columns/layout';
import { parseFlowLabels, selectorMatches, type LabelRequirements } from '../../observer/filters/label_selector';
import { NativeFormatError, type NativeBlock } from '../store/native_reader';
import type { FlowPage } from '../store/query';
import { bigs, blockFlows, col, missingEndpoint, missingPath, nums, uuidBytes, uuidText, type PageRefs } from '../store/stored_flow';
import {
  canonicalEndpoint, endpointJson, fenceJson, fenceVerdictName, formatTime, lineJson, type CanonicalFlow,
} from './canonical_flow';
import { pathEntry, recordCounts, srv6Entry, srv6Key, type EvidenceRow, type RecordChoice } from './evidence_row';
import type { PathTable } from './predicate';

const str = JSON.stringify;

/** A workload as evidence writes it, and whether the selector takes it as a source. */
interface EndpointPart {
  json: string;
  selected: boolean;
}

/** A path as evidence writes it; `listed` once its fingerprint is in the path table. */
interface PathPart {
  fingerprint: string;
  json: string;
  path: ScionPath | undefined;
  listed: boolean;
}

interface FencePart {
  fence: NonNullable<CanonicalFlow['fence']>;
  json: string;
}

const HAS_IP = PRESENT.IP;
const HAS_L4 = PRESENT.L4;
const HAS_METER = PRESENT.METER;
const HAS_GEOFENCE = PRESENT.GEOFENCE;

/** Layer4 case names by the protocol column's number, as stored_flow.ts layer4 rebuilds them ('' for none). */
const PROTO_JSON = new Map<number, string>([[L4.TCP, 'TCP'], [L4.UDP, 'UDP'], [L4.SCTP, 'SCTP'], [L4.ICMPv4, 'ICMPv4'], [L4.ICMPv6, 'ICMPv6']]
  .map(([n, name]) => [n as number, str(name)]));
/** Protocols whose Layer4 has ports; the others' lines hold 0. */
const WITH_PORTS = new Set<number>([L4.TCP, L4.UDP, L4.SCTP]);
const NO_TEXT = str('');

/** An enum column's JSON name by value, written once per value (Enum8 values are -128..127). */
function enumJson(toJson: (v: number) => string): (v: number) => string {
  const memo = new Array<string | undefined>(256);
  return (v) => memo[v & 255] ?? (memo[v & 255] = str(toJson(v)));
}

/** A LowCardinality column as the JSON of its row's value, each distinct value written once per block. */
function textJson(b: NativeBlock, name: string): (i: number) => string {
  const c = col(b, name);
  if (c.kind !== 'dict') throw new NativeFormatError(`column ${name} is not a LowCardinality column`);
  const { dict, index } = c;
  const memo = new Array<string | undefined>(dict.length);
  return (i) => {
    const k = index[i];
    return memo[k] ?? (memo[k] = str(dict[k]));
  };
}

/** Per block: the fence of a row that has one, each distinct (verdict, name, reason) written once. */
function fenceParts(b: NativeBlock): (i: number) => FencePart | null {
  const verdict = nums(b, 'geofence_verdict');
  const name = col(b, 'geofence_name');
  const reason = col(b, 'geofence_reason');
  if (name.kind !== 'dict' || reason.kind !== 'dict') throw new NativeFormatError('geofence name and reason are not LowCardinality columns');
  const width = reason.dict.length;
  const memo = new Map<number, FencePart | null>();
  return (i) => {
    const key = (name.index[i] * width + reason.index[i]) * 256 + (verdict[i] & 255);
    let part = memo.get(key);
    if (part === undefined) {
      const v = fenceVerdictName(verdict[i]);
      const fence = v ? { verdict: v, name: name.dict[name.index[i]], reason: reason.dict[reason.index[i]] } : null;
      part = fence ? { fence, json: fenceJson(fence) } : null;
      memo.set(key, part);
    }
    return part;
  };
}

interface ColumnSelection {
  /** Over the source workload's labels. */
  selector: LabelRequirements;
  records: RecordChoice;
}

/**
 * Turns pages of one export into evidence rows. Parts of workloads and paths are kept by
 * the reference objects the store's cache hands out, so a key met again on a later page
 * costs a lookup.
 */
export class ColumnRows {
  private readonly endpointParts = new WeakMap<object, EndpointPart>();
  private readonly pathParts = new WeakMap<object, PathPart>();
  private readonly noEndpoint: EndpointPart;
  private readonly noPath: PathPart = { fingerprint: '', json: NO_TEXT, path: undefined, listed: true };
  private readonly counts: (point: number) => boolean;
  private readonly point = enumJson(scionObservationPointToJSON);
  private readonly verdict = enumJson(verdictToJSON);

  /** `pathTable` receives each path the selected rows carry, the first row's version of it. */
  constructor(
    private readonly selection: ColumnSelection,
    private readonly pathTable: PathTable,
  ) {
    this.noEndpoint = this.endpointPart(undefined);
    const counts = new Array<boolean>(256);
    for (let v = -128; v < 128; v++) counts[v & 255] = recordCounts(selection.records, v);
    this.counts = (point) => counts[point & 255];
  }

  /**
   * Hands each selected row of a page to `accept`, in the page's order, one by one: a row
   * taken at once dies young, where a page of rows held together would outlive the young
   * generation of the heap.
   */
  page(page: FlowPage, accept: (r: EvidenceRow) => void): void {
    // This page's keys: its refs say which of them resolved.
    const endpoints = new Map<bigint, EndpointPart | null>();
    const paths = new Map<bigint, PathPart | null>();
    for (const b of page.blocks) this.block(b, page.refs, endpoints, paths, accept);
  }

  private endpointPart(e: Endpoint | undefined): EndpointPart {
    const c = canonicalEndpoint(e);
    return { json: endpointJson(c), selected: selectorMatches(this.selection.selector, parseFlowLabels(e?.labels ?? [])) };
  }

  private pathPart(p: ScionPath): PathPart {
    const fingerprint = p.fingerprint.toLowerCase();
    return { fingerprint, json: str(fingerprint), path: p, listed: fingerprint === '' };
  }

  /** The part of a resolved key, or null when its row is gone from the table (the row's own columns describe it then). */
  private endpointOf(key: bigint, refs: PageRefs, seen: Map<bigint, EndpointPart | null>): EndpointPart | null {
    if (key === 0n) return this.noEndpoint;
    let part = seen.get(key);
    if (part !== undefined) return part;
    const e = refs.endpoints.get(key);
    if (e) {
      part = this.endpointParts.get(e);
      if (!part) this.endpointParts.set(e, (part = this.endpointPart(e)));
    } else part = null;
    seen.set(key, part);
    return part;
  }

  private pathOf(key: bigint, refs: PageRefs, seen: Map<bigint, PathPart | null>): PathPart | null {
    if (key === 0n) return this.noPath;
    let part = seen.get(key);
    if (part !== undefined) return part;
    const p = refs.paths.get(key);
    if (p) {
      part = this.pathParts.get(p);
      if (!part) this.pathParts.set(p, (part = this.pathPart(p)));
    } else part = null;
    seen.set(key, part);
    return part;
  }

  private block(b: NativeBlock, refs: PageRefs, endpoints: Map<bigint, EndpointPart | null>, paths: Map<bigint, PathPart | null>, accept: (r: EvidenceRow) => void): void {
    const timeS = bigs(b, 'time_s');
    const timeN = nums(b, 'time_ns');
    const node = textJson(b, 'node_name');
    const uuids = uuidBytes(b);
    const present = nums(b, 'present');
    const verdict = nums(b, 'verdict');
    const point = nums(b, 'scion_observation_point');
    const srcIp = textJson(b, 'source_ip');
    const dstIp = textJson(b, 'destination_ip');
    const proto = nums(b, 'protocol');
    const sport = nums(b, 'source_port');
    const dport = nums(b, 'destination_port');
    const srcKey = bigs(b, 'source_workload');
    const dstKey = bigs(b, 'destination_workload');
    const pathKey = bigs(b, 'path_key');
    const packets = bigs(b, 'packets');
    const bytes = bigs(b, 'bytes');
    const fenceOf = fenceParts(b);
    const goneEndpoint = missingEndpoint(b);
    const gonePath = missingPath(b);
    const pathType = b.columns.has('path_type') ? nums(b, 'path_type') : undefined;
    let flowAt: ((i: number) => Flow) | undefined;

    for (let i = 0; i < b.rows; i++) {
      if (!this.counts(point[i])) continue;
      const src = this.endpointOf(srcKey[i], refs, endpoints) ?? this.goneEndpoint(goneEndpoint('source', i));
      if (!src.selected) continue;
      const dst = this.endpointOf(dstKey[i], refs, endpoints) ?? this.goneEndpoint(goneEndpoint('destination', i));
      // An SRv6 row's path is its Srv6Path as the store rebuilds it: written per row, SRv6
      // rows are the few.
      const path = pathType !== undefined && pathType[i] === WanPathType.WAN_PATH_SRV6
        ? this.srv6Part((flowAt ??= blockFlows(b, refs))(i))
        : this.pathOf(pathKey[i], refs, paths) ?? this.pathPart(gonePath(i));
      if (!path.listed) {
        if (!this.pathTable.has(path.fingerprint)) this.pathTable.set(path.fingerprint, pathEntry(path.path as ScionPath));
        path.listed = true;
      }
      const p = present[i];
      const ip = (p & HAS_IP) !== 0;
      const l4 = (p & HAS_L4) !== 0 ? proto[i] : L4.NONE;
      const ports = WITH_PORTS.has(l4);
      const metered = (p & HAS_METER) !== 0;
      const fence = (p & HAS_GEOFENCE) !== 0 ? fenceOf(i) : null;
      const time = formatTime(timeS[i], timeN[i]);
      const uuid = uuidText(uuids, i * 16);
      const rowPackets = metered ? packets[i] : null;
      const rowBytes = metered ? bytes[i] : null;
      accept({
        // Times and uuids are digits, letters and punctuation JSON leaves as they are.
        line: lineJson(
          rowBytes === null ? 'null' : `"${rowBytes}"`, dst.json, ip ? dstIp(i) : NO_TEXT, ports ? dport[i] : 0,
          fence === null ? 'null' : fence.json, node(i), rowPackets === null ? 'null' : `"${rowPackets}"`, path.json,
          this.point(point[i]), PROTO_JSON.get(l4) ?? NO_TEXT, src.json, ip ? srcIp(i) : NO_TEXT, ports ? sport[i] : 0,
          `"${time}"`, `"${uuid}"`, this.verdict(verdict[i]),
        ),
        time,
        uuid,
        path: path.fingerprint,
        packets: rowPackets,
        bytes: rowBytes,
        fence: fence === null ? null : fence.fence,
      });
    }
  }

  private srv6Part(f: Flow): PathPart {
    if (!f.srv6Path) return this.noPath;
    const entry = srv6Entry(f.srv6Path);
    const key = srv6Key(entry);
    if (!this.pathTable.has(key)) this.pathTable.set(key, entry);
    return { fingerprint: key, json: str(key), path: undefined, listed: true };
  }

  /** A workload whose row is gone: written per flow, it is rare. Its labels are none, as for a flow without one. */
  private goneEndpoint(e: Endpoint): EndpointPart {
    return { json: endpointJson(canonicalEndpoint(e)), selected: this.noEndpoint.selected };
  }
}
