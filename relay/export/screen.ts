// Flow by flow, what the relay refuses to store from a column batch: a flow whose time the
// store cannot hold (ClickHouse DateTime64(9): after 1970 and before 2262-04-11), whose
// enum values the store's Enum columns do not name, which references a table entry over
// the limits (a long string, an endpoint with too many labels, a path with too many hops or
// an SRv6 path with too many segments),
// or whose uuid was stored already. A refused flow is refused alone; the rest of its batch
// is stored. Table entries are checked once each; a flow pays only for its own columns.
//
// Uuids are stored once per node within a window: a flow is refused when its node's uuid
// appears earlier in the same batch or among the last `uuidWindow` flows the relay accepted
// (including batches still being stored). Keyed by node (the certificate's), so that a node
// that learned another node's uuids cannot get that node's flows refused by sending them
// first. The window lives in memory; a starting relay fills it with the uuids of the newest
// flows in the store, so a uuid sent before a restart is still caught if its flow is among
// the `uuidWindow` newest by capture time. A retried batch is never stored twice either way
// (the store deduplicates by session and sequence).
import { randomFillSync } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ColumnBatch } from '../../columns/batch';
import { L4, type ColumnKey } from '../../columns/layout';
import { DropReason, FlowType, IdentityCheck, ScionObservationPoint, TraceObservationPoint, TrafficDirection, Verdict, type Endpoint, type ScionPath, type Srv6Path } from '../../proto/gen/flow/flow';
import { SRH_MAX_BYTES } from '../../srv6/srh';
import { pathTypeNumber } from '../../paths/describe';
import { decodeHops } from '../../paths/hopfields';
import type { RelayLimits } from '../limits';
import { sentPathKey } from './path_cache';

/** Largest time DateTime64(9) holds, in ns (int64: 2262-04-11T23:47:16Z). */
const MAX_NS = 9_223_372_035_000_000_000n;

export interface Screened {
  /** Indexes of the flows to store, ascending; undefined when every flow is. */
  keep: Uint32Array | undefined;
  rejected: number;
  /** Why the first refused flow was refused; '' when none was. */
  reason: string;
  duplicates: number;
  /** The window keys of the kept flows, to forget if the batch is not stored. */
  keys: string[];
}

/**
 * Builds window keys of one node: its name (UTF-8, then NUL) and a uuid's 16 bytes, read as
 * latin1, so that each key is one flat string (a key of two joined strings was three
 * objects per flow, kept as long as the window remembers the flow).
 */
function nodeKeys(nodeName: string): (uuids: Uint8Array, at: number) => string {
  const node = Buffer.from(`${nodeName}\0`, 'utf8');
  const scratch = Buffer.allocUnsafe(node.length + 16);
  node.copy(scratch);
  return (uuids, at) => {
    scratch.set(uuids.subarray(at, at + 16), node.length);
    return scratch.toString('latin1');
  };
}

/**
 * The window's key of a flow (its node and its uuid's 16 bytes), from a function that builds
 * each node's key prefix once: a relay starting refills the window with up to its size of them.
 */
export function uuidKeys(): (nodeName: string, uuid: Uint8Array) => string {
  const byNode = new Map<string, (uuids: Uint8Array, at: number) => string>();
  return (nodeName, uuid) => {
    let keyOf = byNode.get(nodeName);
    if (!keyOf) byNode.set(nodeName, (keyOf = nodeKeys(nodeName)));
    return keyOf(uuid, 0);
  };
}

/** A uuid's 16 bytes from its text form (8-4-4-4-12 hex). */
export function uuidBytes(text: string): Uint8Array {
  return Buffer.from(text.replace(/-/g, ''), 'hex');
}

/**
 * Remembers accepted (node, uuid) keys, oldest forgotten first beyond `size`: a ring of keys
 * in arrival order beside a map of each key to its place in the ring, so that adding and
 * forgetting cost the same however full the window is.
 */
export class UuidWindow {
  private readonly at = new Map<string, number>();
  private readonly ring: (string | undefined)[];
  /** Keys added so far; the next goes to ring[added % size]. */
  private added = 0;

  constructor(readonly size: number) {
    this.ring = new Array<string | undefined>(size);
  }

  has(key: string): boolean {
    return this.at.has(key);
  }

  add(key: string): void {
    const slot = this.added % this.size;
    const old = this.ring[slot];
    // The oldest key leaves, unless it was forgotten and added again since (a newer place).
    if (old !== undefined && this.at.get(old) === this.added - this.size) this.at.delete(old);
    this.ring[slot] = key;
    this.at.set(key, this.added);
    this.added++;
  }

  /** Drops the keys of a batch the store did not take, so its retry is not refused as a duplicate. */
  forget(keys: Iterable<string>): void {
    for (const k of keys) this.at.delete(k);
  }
}

/** Valid values of an enum column, as a lookup table. */
function valid(e: Record<string, string | number>, size: number): Uint8Array {
  const t = new Uint8Array(size);
  for (const v of Object.values(e)) if (typeof v === 'number' && v >= 0 && v < size) t[v] = 1;
  return t;
}

/** The columns stored as ClickHouse Enums: a value outside the enum would fail the whole insert. */
const ENUM_COLUMNS: ReadonlyArray<{ key: ColumnKey; name: string; ok: Uint8Array; wide: boolean }> = [
  { key: 'verdict', name: 'verdict', ok: valid(Verdict, 256), wide: false },
  { key: 'dropReasonDesc', name: 'drop reason', ok: valid(DropReason, 65536), wide: true },
  { key: 'flowType', name: 'flow type', ok: valid(FlowType, 256), wide: false },
  { key: 'trafficDirection', name: 'traffic direction', ok: valid(TrafficDirection, 256), wide: false },
  { key: 'traceObservationPoint', name: 'trace observation point', ok: valid(TraceObservationPoint, 256), wide: false },
  { key: 'scionObservationPoint', name: 'SCION observation point', ok: valid(ScionObservationPoint, 256), wide: false },
  { key: 'identityCheck', name: 'identity check', ok: valid(IdentityCheck, 256), wide: false },
  { key: 'l4Protocol', name: 'layer 4 protocol', ok: valid(L4, 256), wide: false },
];

/** The string columns, whose values index the string table. */
const STRING_COLUMNS: readonly ColumnKey[] = ['emitterName', 'emitterVersion', 'interfaceName', 'sourceIp', 'destinationIp', 'identityCluster', 'dropReasonName', 'ingressDeniedBy', 'egressDeniedBy'];

function endpointProblem(ep: Endpoint, limits: RelayLimits): string | undefined {
  if (ep.labels.length > limits.maxLabels) return `endpoint with ${ep.labels.length} labels; at most ${limits.maxLabels}`;
  for (const l of ep.labels) if (l.length > limits.maxLabelLength) return `label of ${l.length} characters; at most ${limits.maxLabelLength}`;
  if (ep.workloads.length > limits.maxLabels) return `endpoint with ${ep.workloads.length} workloads; at most ${limits.maxLabels}`;
  for (const s of [ep.clusterName, ep.namespace, ep.podName, ...ep.workloads.flatMap((w) => [w.name, w.kind])]) {
    if (s.length > limits.maxStringLength) return `field of ${s.length} characters; at most ${limits.maxStringLength}`;
  }
  return undefined;
}

/** The longest SCION path header of this many hop fields: meta header, three info fields, the hops, an EPIC prefix. */
const rawPathBytes = (hops: number): number => 4 + 3 * 8 + 12 * hops + 16;

/** A path's bounds: its hop fields (what the relay rebuilds hops from), raw bytes and texts. */
function pathProblem(p: ScionPath, limits: RelayLimits): string | undefined {
  for (const s of [p.srcIa, p.dstIa, p.fingerprint]) if (s.length > limits.maxStringLength) return `field of ${s.length} characters; at most ${limits.maxStringLength}`;
  const maxRaw = rawPathBytes(limits.maxHops);
  if (p.raw.length > maxRaw) return `raw path of ${p.raw.length} bytes; at most ${maxRaw} (${limits.maxHops} hops)`;
  const hops = decodeHops(p.raw, pathTypeNumber(p.type));
  const n = hops.ok ? hops.wire.hopFields.length : p.hops.length;
  if (n > limits.maxHops) return `flow with ${n} hops; at most ${limits.maxHops}`;
  return undefined;
}

/**
 * An SRv6 path's bounds: its SRH no longer than RFC 8754 allows, and no more segments
 * than a SCION path may have hops (Last Entry read from the header; whether the rest of it
 * decodes is the verifier's to say, as a verdict, not a refusal).
 */
function srv6Problem(p: Srv6Path, limits: RelayLimits): string | undefined {
  if (p.source.length > limits.maxStringLength) return `field of ${p.source.length} characters; at most ${limits.maxStringLength}`;
  if (p.raw.length > SRH_MAX_BYTES) return `SRv6 header of ${p.raw.length} bytes; an SRH is at most ${SRH_MAX_BYTES}`;
  const segments = p.raw.length >= 5 ? p.raw[4] + 1 : 0;
  if (segments > limits.maxHops) return `SRv6 path with ${segments} segments; at most ${limits.maxHops}`;
  return undefined;
}

/**
 * pathProblem of paths seen before, for one relay's limits: batches name the same paths
 * again and again, and decoding a path's hop fields is most of what checking it costs.
 */
export class PathChecks {
  private readonly cache = new LRUCache<string, { problem: string | undefined }>({ max: 16_384 });

  constructor(readonly limits: RelayLimits) {}

  problem(p: ScionPath): string | undefined {
    const key = sentPathKey(p);
    let hit = this.cache.get(key);
    if (hit === undefined) {
      hit = { problem: pathProblem(p, this.limits) };
      this.cache.set(key, hit);
    }
    return hit.problem;
  }
}

/** Problems of table entries, by index (index 0, "none", never has one). */
function tableProblems<T>(table: readonly (T | undefined)[], check: (x: T) => string | undefined): (string | undefined)[] | undefined {
  let out: (string | undefined)[] | undefined;
  for (let i = 1; i < table.length; i++) {
    const p = check(table[i] as T);
    if (p === undefined) continue;
    out ??= [];
    out[i] = p;
  }
  return out;
}

/** Every flow's reason to be refused, before uuids; undefined where a flow is fine. */
function problems(batch: ColumnBatch, limits: RelayLimits, paths: PathChecks): (string | undefined)[] {
  const n = batch.count;
  const out: (string | undefined)[] = new Array(n);
  const time = batch.i64('timeNs');
  for (let i = 0; i < n; i++) {
    const t = time[i];
    if (t === 0n) out[i] = 'flow without a capture time';
    else if (t < 0n || t > MAX_NS) out[i] = `flow time ${t} ns is outside what the store holds (after 1970, before 2262-04-11)`;
  }
  for (const c of ENUM_COLUMNS) {
    const v = c.wide ? batch.u16(c.key) : batch.u8(c.key);
    for (let i = 0; i < n; i++) if (c.ok[v[i]] === 0 && out[i] === undefined) out[i] = `${c.name} ${v[i]} is not one the store knows`;
  }
  const longStrings = tableProblems(batch.strings, (s) => (s.length > limits.maxStringLength ? `field of ${s.length} characters; at most ${limits.maxStringLength}` : undefined));
  if (longStrings) {
    for (const key of STRING_COLUMNS) {
      const v = batch.u32(key);
      for (let i = 0; i < n; i++) if (out[i] === undefined && longStrings[v[i]] !== undefined) out[i] = longStrings[v[i]];
    }
  }
  const badEndpoints = tableProblems(batch.endpoints, (ep) => endpointProblem(ep, limits));
  if (badEndpoints) {
    for (const key of ['sourceEndpoint', 'destinationEndpoint'] as const) {
      const v = batch.u32(key);
      for (let i = 0; i < n; i++) if (out[i] === undefined && badEndpoints[v[i]] !== undefined) out[i] = badEndpoints[v[i]];
    }
  }
  const badPaths = tableProblems(batch.paths, (p) => paths.problem(p));
  if (badPaths) {
    const v = batch.u32('path');
    for (let i = 0; i < n; i++) if (out[i] === undefined && badPaths[v[i]] !== undefined) out[i] = badPaths[v[i]];
  }
  const badSrv6 = tableProblems(batch.srv6Paths, (p) => srv6Problem(p, limits));
  if (badSrv6) {
    const v = batch.u32('srv6Path');
    for (let i = 0; i < n; i++) if (out[i] === undefined && badSrv6[v[i]] !== undefined) out[i] = badSrv6[v[i]];
  }
  return out;
}

/**
 * The flows of a batch to store, with their node's uuids added to the window. A flow
 * without a uuid (all zeros) gets a fresh random one, written into the batch's column.
 * `paths` remembers the checks of paths across batches (a relay keeps one for its limits).
 */
export function screenColumns(batch: ColumnBatch, nodeName: string, limits: RelayLimits, window: UuidWindow, paths = new PathChecks(limits)): Screened {
  const why = problems(batch, limits, paths);
  const column = batch.bytes('uuid');
  const uuids = Buffer.from(column.buffer, column.byteOffset, column.byteLength);
  const keyOf = nodeKeys(nodeName);
  const keepList: number[] = [];
  const keys: string[] = [];
  // The window takes each uuid as it is kept, so it catches a uuid twice in this batch too,
  // unless the batch is larger than the window.
  const inBatch = batch.count > window.size ? new Set<string>() : undefined;
  let rejected = 0;
  let duplicates = 0;
  let reason = '';
  for (let i = 0; i < batch.count; i++) {
    let problem = why[i];
    const at = 16 * i;
    if (problem === undefined) {
      if ((uuids.readUInt32LE(at) | uuids.readUInt32LE(at + 4) | uuids.readUInt32LE(at + 8) | uuids.readUInt32LE(at + 12)) === 0) {
        randomFillSync(uuids, at, 16);
      }
      const key = keyOf(uuids, at);
      if (window.has(key) || inBatch?.has(key)) {
        problem = `flow uuid ${uuids.toString('hex', at, at + 16)} already stored`;
        duplicates++;
      } else {
        window.add(key);
        inBatch?.add(key);
        keys.push(key);
      }
    }
    if (problem !== undefined) {
      rejected++;
      if (reason === '') reason = problem;
      continue;
    }
    keepList.push(i);
  }
  return { keep: rejected === 0 ? undefined : Uint32Array.from(keepList), rejected, reason, duplicates, keys };
}
