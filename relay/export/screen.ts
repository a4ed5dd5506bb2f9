// Flow by flow, what the relay refuses to store: a flow whose fields exceed the limits, whose
// time the store cannot hold (ClickHouse DateTime64(9): after 1970 and before 2262-04-11),
// or whose uuid was stored already. A refused flow is refused alone; the rest of its batch
// is stored.
//
// Uuids are stored once per node within a window: a flow is refused when its node's uuid
// appears earlier in the same batch or among the last `uuidWindow` flows the relay accepted
// (including batches still being stored). Keyed by node (the certificate's), so that a node
// that learned another node's uuids cannot get that node's flows refused by sending them first. The window lives in memory; a starting relay fills it with the
// uuids of the newest flows in the store, so a uuid sent before a restart is still caught
// if its flow is among the `uuidWindow` newest by capture time. A retried batch is never
// stored twice either way (the store deduplicates by session and sequence).
import type { Flow } from '../../proto/gen/flow/flow';
import type { RelayLimits } from '../limits';

/** Largest whole second DateTime64(9) holds (int64 nanoseconds: 2262-04-11T23:47:16Z). */
const MAX_SECONDS = 9_223_372_035n;

export interface Screened {
  kept: Flow[];
  rejected: number;
  /** Why the first refused flow was refused; '' when none was. */
  reason: string;
  duplicates: number;
}

/** Why the relay cannot store this flow, or undefined when it can. */
export function flowProblem(f: Flow, limits: RelayLimits): string | undefined {
  const t = f.time;
  if (!t) return 'flow without a capture time';
  if (t.seconds <= 0n || t.seconds > MAX_SECONDS) return `flow time ${t.seconds} s is outside what the store holds (after 1970, before 2262-04-11)`;
  if (!Number.isInteger(t.nanos) || t.nanos < 0 || t.nanos > 999_999_999) return `flow time nanos ${t.nanos} out of range`;
  const hops = f.scionPath?.hops.length ?? 0;
  if (hops > limits.maxHops) return `flow with ${hops} hops; at most ${limits.maxHops}`;
  for (const ep of [f.source, f.destination]) {
    if (!ep) continue;
    if (ep.labels.length > limits.maxLabels) return `endpoint with ${ep.labels.length} labels; at most ${limits.maxLabels}`;
    for (const l of ep.labels) if (l.length > limits.maxLabelLength) return `label of ${l.length} characters; at most ${limits.maxLabelLength}`;
  }
  if (f.nodeName.length > limits.maxNodeNameLength) return `node name of ${f.nodeName.length} characters; at most ${limits.maxNodeNameLength}`;
  return longString(f, limits.maxStringLength, Math.max(limits.maxHops, limits.maxLabels), 0);
}

/** Any string longer than `max` or list longer than `maxList` anywhere in the flow (labels checked above). */
function longString(v: unknown, max: number, maxList: number, depth: number): string | undefined {
  if (depth > 8) return 'flow nested too deeply';
  if (typeof v === 'string') return v.length > max ? `field of ${v.length} characters; at most ${max}` : undefined;
  if (Array.isArray(v)) {
    if (v.length > maxList) return `list of ${v.length} entries; at most ${maxList}`;
    for (const x of v) {
      const p = typeof x === 'object' || typeof x === 'string' ? longString(x, max, maxList, depth + 1) : undefined;
      if (p) return p;
    }
    return undefined;
  }
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
    // for...in, not Object.entries: this runs for every field of every flow at ingest rate.
    const o = v as Record<string, unknown>;
    for (const k in o) {
      const x = o[k];
      if (k === 'labels' || (typeof x !== 'object' && typeof x !== 'string')) continue;
      const p = longString(x, max, maxList, depth + 1);
      if (p) return p;
    }
  }
  return undefined;
}

/** The window's key of a flow: its node and its uuid. */
export const uuidKey = (nodeName: string, uuid: string): string => `${nodeName}\0${uuid}`;

/** Remembers accepted (node, uuid) keys, oldest forgotten first beyond `size`. */
export class UuidWindow {
  private readonly seen = new Set<string>();

  constructor(private readonly size: number) {}

  has(key: string): boolean {
    return this.seen.has(key);
  }

  add(key: string): void {
    this.seen.add(key);
    if (this.seen.size > this.size) this.seen.delete(this.seen.values().next().value as string);
  }

  /** Drops the flows of a batch the store did not take, so its retry is not refused as a duplicate. */
  forget(flows: Iterable<Flow>): void {
    for (const f of flows) this.seen.delete(uuidKey(f.nodeName, f.uuid));
  }
}

export function screenFlows(flows: Flow[], limits: RelayLimits, window: UuidWindow): Screened {
  const kept: Flow[] = [];
  let rejected = 0;
  let duplicates = 0;
  let reason = '';
  const batch = new Set<string>();
  for (const f of flows) {
    let problem = flowProblem(f, limits);
    const key = uuidKey(f.nodeName, f.uuid);
    if (!problem && (batch.has(key) || window.has(key))) {
      problem = `flow uuid ${f.uuid} already stored`;
      duplicates++;
    }
    if (problem) {
      rejected++;
      if (reason === '') reason = problem;
      continue;
    }
    batch.add(key);
    kept.push(f);
  }
  for (const u of batch) window.add(u);
  return { kept, rejected, reason, duplicates };
}
