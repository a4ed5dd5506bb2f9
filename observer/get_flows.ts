// GetFlows with Hubble's request semantics: `number` (the last N, or the first N with
// `first`), `since`/`until`, allow/deny filters, then with `follow` new flows as they come.
// History comes from the store when there is one, else from the hub's ring.
//
// The seam between history and live is gap-free and duplicate-free. The follower
// subscribes before history is read, so nothing published meanwhile is missed. A flow is
// published once judged, before the store has it, so when history is read the follower is
// first given the flows already live but not yet stored (FlowHub.catchUp); history may
// then also hold one of those, or a flow whose batch is still on its way (the hub counts
// it as pending) and whose live copy is yet to come. Those uuids are remembered while
// history is sent and their live copies skipped once.
//
// History the store can give as wire bytes (every filter decided by the engine, no field
// mask) goes out as those bytes (FlowHistory.encoded), a Flow object per row only
// otherwise; the service's serializer passes such bytes through (service_definition.ts).
import { status, type ServerWritableStream } from '@grpc/grpc-js';
import type { Flow } from '../proto/gen/flow/flow';
import type { GetFlowsRequest, GetFlowsResponse } from '../proto/gen/observer/observer';
import { FilterError, flowMatcher } from './filters/index';
import { checkFilterBounds, type FilterBounds } from './filters/bounds';
import type { EncodedFlows, FlowHistory, FlowQuery } from './history';
import type { Timestamp } from '../proto/gen/google/protobuf/timestamp';
import { flowResponse, type FlowHub, type Subscription } from './hub';
import { compileFieldMask, FieldMaskError } from './mask';
import { RequestError } from './request_error';
import { StallGuard } from './stall_guard';
import { nsDate, timestampNs } from './time';

export interface GetFlowsOptions {
  /** Queue length per follower; default the hub's. */
  followQueue?: number;
  /** With `follow` and `until`, how long past `until` late flows are still awaited; default 2 s. */
  untilGraceMs?: number;
  /** The most flows "the last N" holds to turn them into time order; default 100000. */
  maxLastN?: number;
  /** Filters and filter values one request may carry; default 256 and 1024. */
  filterBounds?: FilterBounds;
  /** How long reading history may take before the call ends with RESOURCE_EXHAUSTED; default 30 s. */
  historyTimeoutMs?: number;
  /** How long one wait for the client to read may last before the call ends with RESOURCE_EXHAUSTED; default 30 s. */
  stallTimeoutMs?: number;
}

/** Largest whole second a time in the store can have (int64 nanoseconds: 2262-04-11). */
const MAX_SECONDS = 9_223_372_035n;

interface Plan {
  matches: (f: Flow) => boolean;
  since: bigint | undefined;
  until: bigint | undefined;
  /** 0 means no count limit. */
  number: number;
  first: boolean;
  follow: boolean;
  history: boolean;
  mask: ((f: Flow) => Flow) | undefined;
}

const U53 = BigInt(Number.MAX_SAFE_INTEGER);

/** A since/until the store can compare with: 1970 to 2262, nanos within a second. */
function boundNs(name: string, ts: Timestamp | undefined): bigint | undefined {
  if (ts === undefined) return undefined;
  if (ts.seconds < 0n || ts.seconds > MAX_SECONDS || !Number.isInteger(ts.nanos) || ts.nanos < 0 || ts.nanos > 999_999_999) {
    throw new RequestError(status.INVALID_ARGUMENT, `${name} must lie between 1970 and 2262-04-11 with nanos below one second`, 'time_range');
  }
  return timestampNs(ts);
}

function plan(req: GetFlowsRequest, maxLastN: number, bounds: FilterBounds): Plan {
  let matches: (f: Flow) => boolean;
  let mask: ((f: Flow) => Flow) | undefined;
  try {
    checkFilterBounds(req.whitelist, req.blacklist, bounds);
  } catch (e) {
    throw new RequestError(status.INVALID_ARGUMENT, (e as Error).message, 'filters');
  }
  try {
    matches = flowMatcher(req.whitelist, req.blacklist);
    mask = compileFieldMask(req.fieldMask);
  } catch (e) {
    if (e instanceof FilterError || e instanceof FieldMaskError) throw new RequestError(status.INVALID_ARGUMENT, e.message);
    throw e;
  }
  const since = boundNs('since', req.since);
  const until = boundNs('until', req.until);
  if (since !== undefined && until !== undefined && since > until) throw new RequestError(status.INVALID_ARGUMENT, 'since is after until');
  if (req.first && req.follow) throw new RequestError(status.INVALID_ARGUMENT, 'first cannot be combined with follow');
  if (req.first && req.number === 0n) throw new RequestError(status.INVALID_ARGUMENT, 'first needs a number of flows');
  // A count too large to buffer means everything in range (Hubble's --all sends the maximum).
  const number = req.number > U53 || (!req.first && req.number > BigInt(maxLastN)) ? 0 : Number(req.number);
  // Following with nothing that asks for the past starts at the present.
  const history = !(req.follow && req.number === 0n && since === undefined);
  return { matches, since, until, number, first: req.first, follow: req.follow, history, mask };
}

/** Throws the RequestError GetFlows would answer `req` with, if any (a relay fanning out checks first). */
export function checkRequest(req: GetFlowsRequest, opts: GetFlowsOptions = {}): void {
  plan(req, opts.maxLastN ?? 100_000, opts.filterBounds ?? { maxFilters: 256, maxFilterValues: 1024 });
}

function inRange(p: Plan, f: Flow): boolean {
  if (p.since === undefined && p.until === undefined) return true;
  const t = timestampNs(f.time);
  if (t === undefined) return false;
  return (p.since === undefined || t >= p.since) && (p.until === undefined || t <= p.until);
}

/**
 * Where getFlows' responses go: one gRPC message each (GetFlows, FlowResponseWriter) or many to a
 * message (GetFlowBatches, flow_batches.ts).
 */
export interface ResponseSink {
  /** True once the client has gone. */
  readonly closed: boolean;
  onGone(fn: () => void): void;
  /**
   * Takes a response, or one already encoded (see service_definition.ts), without waiting:
   * true when more may follow at once, false when the caller must wait for `drained` first
   * (or the client has gone).
   */
  writeNow(r: GetFlowsResponse | Buffer): boolean;
  /** Resolves once the stream takes writes again: true, or false when the client has gone. */
  drained(): Promise<boolean>;
  /**
   * Sends whatever is held back; getFlows calls it before it waits for flows, and at the end.
   * The answer itself (false: the client has gone) when nothing had to wait, as for nearly
   * every live flow: no promise, no stall timer for those.
   */
  flush(): boolean | Promise<boolean>;
}

/** The part of a server stream a FlowResponseWriter uses. */
export interface WritableCall {
  readonly cancelled: boolean;
  write(chunk: unknown, done?: () => void): boolean;
  on(event: string, fn: () => void): unknown;
  off(event: string, fn: () => void): unknown;
}

/** One message per response, with the stream's flow control; nothing is held back. */
export class FlowResponseWriter implements ResponseSink {
  private gone = false;
  private readonly goneWaiters = new Set<() => void>();

  constructor(private readonly call: WritableCall) {
    const leave = () => {
      this.gone = true;
      for (const w of this.goneWaiters) w();
      this.goneWaiters.clear();
    };
    call.on('cancelled', leave);
    call.on('close', leave);
    call.on('error', leave);
  }

  get closed(): boolean {
    return this.gone || this.call.cancelled;
  }

  onGone(fn: () => void): void {
    if (this.closed) fn();
    else this.goneWaiters.add(fn);
  }

  /** `done`, when given, is called once the stream has written `r` out. */
  writeNow(r: GetFlowsResponse | Buffer, done?: () => void): boolean {
    if (this.closed) return false;
    return this.call.write(r, done);
  }

  async drained(): Promise<boolean> {
    if (this.closed) return false;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.call.off('drain', done);
        this.goneWaiters.delete(done);
        resolve();
      };
      this.call.on('drain', done);
      this.goneWaiters.add(done);
    });
    return !this.closed;
  }

  flush(): boolean {
    return !this.closed;
  }
}

async function* fromRing(hub: FlowHub, p: Plan): AsyncGenerator<Flow> {
  const all = hub.recent().filter((f) => inRange(p, f) && p.matches(f));
  const picked = p.number === 0 ? all : p.first ? all.slice(0, p.number) : all.slice(-p.number);
  yield* picked;
}

function storeQuery(req: GetFlowsRequest, p: Plan, signal: AbortSignal): FlowQuery {
  return {
    signal,
    since: p.since === undefined ? undefined : nsDate(p.since),
    until: p.until === undefined ? undefined : nsDate(p.until),
    allow: req.whitelist,
    deny: req.blacklist,
    // The last N come newest first; Hubble sends them oldest first.
    order: p.number > 0 && !p.first ? 'desc' : 'asc',
    limit: p.number > 0 ? p.number : undefined,
  };
}

async function* fromStore(store: FlowHistory, q: FlowQuery, p: Plan): AsyncGenerator<Flow> {
  if (q.order === 'desc') {
    const last: Flow[] = [];
    for await (const f of store.query(q)) if (inRange(p, f)) last.push(f);
    for (let i = last.length - 1; i >= 0; i--) yield last[i];
    return;
  }
  for await (const f of store.query(q)) if (inRange(p, f)) yield f;
}

/**
 * History as the store's wire bytes a page at a time, in the order to send, or undefined
 * when the store cannot give them for this request. The store bounds since/until to the
 * millisecond; the nanoseconds are checked here, as inRange does for Flow objects.
 */
function encodedFromStore(store: FlowHistory, q: FlowQuery, p: Plan): AsyncGenerator<EncodedFlows> | undefined {
  if (p.mask) return undefined;
  const pages = store.encoded?.(q);
  if (!pages) return undefined;
  const ranged = p.since !== undefined || p.until !== undefined;
  const pick = (page: EncodedFlows, reverse: boolean): EncodedFlows => {
    if (!ranged && !reverse) return page;
    const rows: number[] = [];
    const n = page.messages.length;
    for (let k = 0; k < n; k++) {
      const i = reverse ? n - 1 - k : k;
      if (ranged) {
        const t = page.timeNs(i);
        if ((p.since !== undefined && t < p.since) || (p.until !== undefined && t > p.until)) continue;
      }
      rows.push(i);
    }
    return { messages: rows.map((i) => page.messages[i]), uuid: (j) => page.uuid(rows[j]), timeNs: (j) => page.timeNs(rows[j]) };
  };
  return (async function* () {
    if (q.order === 'desc') {
      const held: EncodedFlows[] = [];
      for await (const page of pages) held.push(page);
      for (let k = held.length - 1; k >= 0; k--) yield pick(held[k], true);
      return;
    }
    for await (const page of pages) yield pick(page, false);
  })();
}

export async function getFlows(
  call: ServerWritableStream<GetFlowsRequest, GetFlowsResponse>,
  hub: FlowHub,
  store: FlowHistory | undefined,
  opts: GetFlowsOptions = {},
): Promise<void> {
  await streamFlows(call.request, new FlowResponseWriter(call), hub, store, opts);
}

/**
 * GetFlows' answer to `request` into `out`, however `out` frames it. Whatever `out` holds
 * back is sent before the call ends, also when it ends with an error (history read so far,
 * then the status), as GetFlows sends it.
 */
export async function streamFlows(
  request: GetFlowsRequest,
  out: ResponseSink,
  hub: FlowHub,
  store: FlowHistory | undefined,
  opts: GetFlowsOptions = {},
): Promise<void> {
  const guarded = new StallGuard(out, opts.stallTimeoutMs ?? 30_000);
  try {
    await respond(request, guarded, hub, store, opts);
  } catch (e) {
    if (!guarded.closed) await guarded.flush();
    throw guarded.stalled ?? e;
  }
  // Also where a stall that ended the answer early surfaces.
  await guarded.flush();
}

async function respond(request: GetFlowsRequest, out: ResponseSink, hub: FlowHub, store: FlowHistory | undefined, opts: GetFlowsOptions): Promise<void> {
  const p = plan(request, opts.maxLastN ?? 100_000, opts.filterBounds ?? { maxFilters: 256, maxFilterValues: 1024 });
  // Stops the store's work when the client goes (cancel, deadline) or history takes too long.
  const abort = new AbortController();
  out.onGone(() => abort.abort());
  let sub: Subscription | undefined;
  if (p.follow) {
    sub = hub.subscribe({ filter: (f) => inRange(p, f) && p.matches(f), mask: p.mask, queue: opts.followQueue });
    out.onGone(() => sub?.close());
    if (store) sub.track();
  }
  try {
    const seam = new Set<string>();
    const atSeam = (follower: Subscription, uuid: string): void => {
      if (uuid !== '' && (hub.isPending(uuid) || follower.hasQueued(uuid))) seam.add(uuid);
    };
    if (p.history) {
      const limitMs = opts.historyTimeoutMs ?? 30_000;
      const tooLong = () => new RequestError(status.RESOURCE_EXHAUSTED, `reading history took longer than ${limitMs} ms; narrow since/until or the filters`, 'query_time');
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        abort.abort();
      }, limitMs);
      try {
        const q = store ? storeQuery(request, p, abort.signal) : undefined;
        const encoded = store && q ? encodedFromStore(store, q, p) : undefined;
        if (encoded) {
          pages: for await (const page of encoded) {
            for (let i = 0; i < page.messages.length; i++) {
              if (sub) atSeam(sub, page.uuid(i));
              // Most writes need no wait: no promise for them, at hundreds of thousands a second.
              if (!out.writeNow(page.messages[i]) && !(await out.drained())) return;
              if (late) break pages;
            }
          }
        } else {
          for await (const f of store && q ? fromStore(store, q, p) : fromRing(hub, p)) {
            if (sub) atSeam(sub, f.uuid);
            if (!out.writeNow(flowResponse(f, p.mask)) && !(await out.drained())) return;
            if (late) break;
          }
        }
      } catch (e) {
        if (out.closed) return;
        if (late) throw tooLong();
        throw e;
      } finally {
        clearTimeout(timer);
      }
      if (late) throw tooLong();
    }
    if (!sub) return;
    // History's tail goes out before the wait for live flows.
    if (!(await out.flush())) return;
    sub.untrack();
    let timer: NodeJS.Timeout | undefined;
    if (p.until !== undefined) {
      const s = sub;
      const wait = Math.max(0, Number(p.until / 1_000_000n) - Date.now()) + (opts.untilGraceMs ?? 2000);
      timer = setTimeout(() => s.close(), wait);
    }
    try {
      for (let q = await sub.next(); q !== undefined; q = await sub.next()) {
        // A flow history already sent is skipped once.
        const send = !q.flow ? q.response : seam.size > 0 && seam.delete(q.uuid) ? undefined : q.wire;
        if (send && !out.writeNow(send) && !(await out.drained())) return;
        // What was queued goes out together; nothing waits for more.
        if (sub.size === 0 && !(await out.flush())) return;
      }
    } finally {
      clearTimeout(timer);
    }
  } finally {
    sub?.close();
  }
}
