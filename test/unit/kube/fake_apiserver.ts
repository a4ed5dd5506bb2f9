// A recorded-protocol stand-in for kube-apiserver: a node:http server that answers the
// requests the Kubernetes source makes with the bodies, status codes and content types the
// real API server uses (Status objects, <Kind>List envelopes, newline-delimited watch
// events, 409 on a stale resourceVersion, 410 "Expired" for a compacted one). It keeps one
// resourceVersion counter for everything, like etcd, and a history of changes so that a watch
// from an older resourceVersion replays what it missed. It records every request so tests
// can check what the client asked for.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { k8s, type ClientNode } from '../../../kube/client';

type Obj = Record<string, any>;

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string;
  body: unknown;
  /** The bearer token the client sent ('' without one): which client made the request. */
  token: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

interface Change {
  rv: number;
  plural: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
  /** The object before the change, to tell when it enters or leaves a filtered watch. */
  prev?: Obj;
}

/** Which objects a list or watch covers: a namespace in the path and a field selector. */
type Filter = (o: Obj) => boolean;

interface OpenWatch {
  plural: string;
  res: ServerResponse;
  filter: Filter;
}

interface Injected {
  method: string;
  path: RegExp;
  status: number;
  times: number;
}

const GROUP_PREFIX = '/apis/cillion.io/v1alpha1/';
const CORE_PREFIX = '/api/v1/';
/** Core resources the server also serves (list and watch across namespaces), by plural. */
export const CORE_KINDS: Record<string, string> = { pods: 'Pod', namespaces: 'Namespace' };
const LEASES = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/;
// MicroTime on the wire: RFC 3339 with exactly six fractional digits (metav1.RFC3339Micro).
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const REASONS: Record<number, string> = {
  400: 'BadRequest',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

export function statusObject(code: number, message: string, reason = REASONS[code] ?? 'Unknown'): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  /** The kind each plural serves (the CRDs this server knows). */
  readonly kinds: Record<string, string>;
  /** How a watch from a compacted resourceVersion is refused: an ERROR event (as kube-apiserver does) or HTTP 410. */
  expiredAs: 'event' | 'http' = 'event';
  private readonly server: Server;
  private rv = 1;
  private readonly objects = new Map<string, Map<string, Obj>>();
  private history: Change[] = [];
  private compactedThrough = 0;
  private readonly watches = new Set<OpenWatch>();
  private readonly injected: Injected[] = [];
  private readonly leases = new Map<string, Obj>();
  private port = 0;

  constructor(kinds: Record<string, string>) {
    this.kinds = { ...kinds, ...CORE_KINDS };
    for (const plural of Object.keys(this.kinds)) this.objects.set(plural, new Map());
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const w of this.watches) w.res.destroy();
    this.watches.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Requests whose path starts with `prefix` (and, when given, have this method). */
  requestsTo(prefix: string, method?: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith(prefix) && (method === undefined || r.method === method));
  }

  watchRequests(plural: string): RecordedRequest[] {
    return this.requestsTo(GROUP_PREFIX + plural, 'GET').filter((r) => r.query.get('watch') === 'true');
  }

  openWatches(plural?: string): number {
    return [...this.watches].filter((w) => plural === undefined || w.plural === plural).length;
  }

  /** The next `times` requests matching method and path get `status` (a Status body) instead of an answer. */
  failNext(method: string, path: RegExp, status: number, times = 1): void {
    this.injected.push({ method, path, status, times });
  }

  // --- what kubectl would do -----------------------------------------------------------

  apply(plural: string, obj: Obj): Obj {
    const store = this.store(plural);
    const name = obj.metadata.name as string;
    const core = plural in CORE_KINDS;
    // Pods live in namespaces; everything else here is cluster-scoped.
    const key = core && obj.metadata.namespace ? `${obj.metadata.namespace}/${name}` : name;
    const prev = store.get(key);
    const next = clone(obj);
    next.apiVersion ??= core ? 'v1' : 'cillion.io/v1alpha1';
    next.kind ??= this.kinds[plural];
    const specChanged = !prev || JSON.stringify(prev.spec) !== JSON.stringify(next.spec);
    next.metadata = {
      ...next.metadata,
      uid: prev?.metadata.uid ?? `uid-${plural}-${name}`,
      generation: prev ? prev.metadata.generation + (specChanged ? 1 : 0) : 1,
      resourceVersion: String(++this.rv),
      creationTimestamp: prev?.metadata.creationTimestamp ?? '2025-01-01T00:00:00Z',
    };
    // A custom resource's status changes only through /status; a pod's comes with it (the kubelet's part).
    if (prev?.status && !core) next.status = prev.status;
    store.set(key, next);
    this.record(plural, prev ? 'MODIFIED' : 'ADDED', next, prev);
    return clone(next);
  }

  remove(plural: string, name: string): void {
    const store = this.store(plural);
    const prev = store.get(name);
    if (!prev) throw new Error(`${plural}/${name} does not exist`);
    store.delete(name);
    const last = { ...clone(prev), metadata: { ...prev.metadata, resourceVersion: String(++this.rv) } };
    this.record(plural, 'DELETED', last);
  }

  list(plural: string): Obj[] {
    return [...this.store(plural).values()].map(clone);
  }

  get(plural: string, name: string): Obj | undefined {
    const o = this.store(plural).get(name);
    return o && clone(o);
  }

  /** Forgets the change history, as etcd compaction does: a watch from an older resourceVersion gets 410. */
  compact(): void {
    this.compactedThrough = this.rv;
    this.history = [];
  }

  /** Changes the store without telling open watches: what a client sees after a partition. */
  silently(fn: () => void): void {
    const watches = [...this.watches];
    this.watches.clear();
    try {
      fn();
    } finally {
      for (const w of watches) this.watches.add(w);
    }
  }

  bookmark(plural: string): void {
    const object = { apiVersion: 'cillion.io/v1alpha1', kind: this.kinds[plural], metadata: { resourceVersion: String(this.rv) } };
    this.send(plural, { type: 'BOOKMARK', object });
  }

  /** Sends an ERROR event carrying `status` on every open watch of `plural` and ends them, as the API server does. */
  watchError(plural: string, code: number, message: string): void {
    for (const w of [...this.watches]) {
      if (w.plural !== plural) continue;
      w.res.end(`${JSON.stringify({ type: 'ERROR', object: statusObject(code, message) })}\n`);
      this.watches.delete(w);
    }
  }

  /** Ends open watches cleanly, as the API server does when a watch's timeout runs out. */
  endWatches(): void {
    for (const w of this.watches) w.res.end();
    this.watches.clear();
  }

  /** Kills the connections of open watches mid-stream. */
  dropWatches(): void {
    for (const w of this.watches) w.res.destroy();
    this.watches.clear();
  }

  lease(namespace: string, name: string): Obj | undefined {
    const l = this.leases.get(`${namespace}/${name}`);
    return l && clone(l);
  }

  /** Writes a Lease as another candidate would. */
  putLease(namespace: string, name: string, spec: Obj): Obj {
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace, resourceVersion: String(++this.rv), uid: `uid-lease-${name}` },
      spec: clone(spec),
    };
    this.leases.set(`${namespace}/${name}`, lease);
    return clone(lease);
  }

  // --- the wire --------------------------------------------------------------------------

  private store(plural: string): Map<string, Obj> {
    const s = this.objects.get(plural);
    if (!s) throw new Error(`unknown plural ${plural}`);
    return s;
  }

  private record(plural: string, type: Change['type'], object: Obj, prev?: Obj): void {
    const change: Change = { rv: this.rv, plural, type, object: clone(object), prev: prev && clone(prev) };
    this.history.push(change);
    for (const w of this.watches) {
      if (w.plural !== plural) continue;
      const seen = this.asSeen(change, w.filter);
      if (seen) w.res.write(`${JSON.stringify(seen)}\n`);
    }
  }

  // A filtered watch sees an object that starts to match as ADDED and one that stops matching
  // as DELETED, as kube-apiserver sends them.
  private asSeen(c: Change, filter: Filter): { type: Change['type']; object: Obj } | null {
    const before = c.type === 'DELETED' ? filter(c.object) : c.prev !== undefined && filter(c.prev);
    const after = c.type !== 'DELETED' && filter(c.object);
    if (before && after) return { type: 'MODIFIED', object: c.object };
    if (after) return { type: 'ADDED', object: c.object };
    if (before) return { type: 'DELETED', object: c.object };
    return null;
  }

  private send(plural: string, event: { type: WatchEventType; object: Obj }): void {
    for (const w of this.watches) if (w.plural === plural) w.res.write(`${JSON.stringify(event)}\n`);
  }

  /** The filter of a request, or the message of the 400 the API server answers for a selector it cannot use. */
  private filterOf(namespace: string | undefined, query: URLSearchParams): Filter | string {
    const checks: Filter[] = [];
    if (namespace !== undefined) checks.push((o) => o.metadata?.namespace === namespace);
    for (const term of (query.get('fieldSelector') ?? '').split(',').filter((t) => t !== '')) {
      const m = /^([^=!]+)==?(.*)$/.exec(term);
      // Pods support more field labels; spec.nodeName is the one an agent watches by.
      if (!m || m[1] !== 'spec.nodeName') return `field label not supported: ${m ? m[1] : term}`;
      const value = m[2];
      checks.push((o) => (o.spec?.nodeName ?? '') === value);
    }
    return (o) => checks.every((c) => c(o));
  }

  private reply(res: ServerResponse, code: number, body: Obj): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private fail(res: ServerResponse, code: number, message: string, reason?: string): void {
    this.reply(res, code, statusObject(code, message, reason));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    const token = /^Bearer (.*)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    let body: unknown;
    if (text !== '') {
      try {
        body = contentType === 'application/apply-patch+yaml' ? parseYaml(text) : JSON.parse(text);
      } catch (e) {
        this.requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, contentType, body: text, token });
        return this.fail(res, 400, `the body of the request was in an unknown format: ${(e as Error).message}`);
      }
    }
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname, query: url.searchParams, contentType, body, token });

    const inj = this.injected.find((i) => i.method === method && i.path.test(url.pathname + url.search));
    if (inj) {
      if (--inj.times === 0) this.injected.splice(this.injected.indexOf(inj), 1);
      return this.fail(res, inj.status, `injected ${inj.status}`);
    }

    const lease = LEASES.exec(url.pathname);
    if (lease) return this.handleLease(method, lease[1]!, lease[2], body as Obj, res);
    if (url.pathname.startsWith(CORE_PREFIX)) {
      // Collections only: /api/v1/<plural> across namespaces, or /api/v1/namespaces/<ns>/pods.
      const inNamespace = /^namespaces\/([^/]+)\/(pods)$/.exec(url.pathname.slice(CORE_PREFIX.length));
      const plural = inNamespace ? inNamespace[2]! : url.pathname.slice(CORE_PREFIX.length);
      if (method !== 'GET' || !(plural in CORE_KINDS)) return this.fail(res, 404, 'the server could not find the requested resource');
      const filter = this.filterOf(inNamespace?.[1], url.searchParams);
      if (typeof filter === 'string') return this.fail(res, 400, filter);
      return url.searchParams.get('watch') === 'true' ? this.handleWatch(plural, url.searchParams, res, filter) : this.handleList(plural, res, filter);
    }
    if (!url.pathname.startsWith(GROUP_PREFIX)) return this.fail(res, 404, 'the server could not find the requested resource');
    const [plural, name, sub, ...rest] = url.pathname.slice(GROUP_PREFIX.length).split('/');
    if (!plural || !this.objects.has(plural) || rest.length > 0) return this.fail(res, 404, 'the server could not find the requested resource');
    if (method === 'GET' && name === undefined) {
      return url.searchParams.get('watch') === 'true' ? this.handleWatch(plural, url.searchParams, res) : this.handleList(plural, res);
    }
    if (method === 'PATCH' && name !== undefined && sub === 'status') return this.handleStatusPatch(plural, name, contentType, url.searchParams, body as Obj, res);
    if (method === 'POST' && name === undefined) return this.handleCreate(plural, body as Obj, res);
    if (method === 'PUT' && name !== undefined && sub === undefined) return this.handleReplace(plural, name, body as Obj, res);
    if (method === 'DELETE' && name !== undefined && sub === undefined) return this.handleDelete(plural, name, body as Obj, res);
    return this.fail(res, 405, `${method} is not supported here`, 'MethodNotAllowed');
  }

  private handleList(plural: string, res: ServerResponse, filter: Filter = () => true): void {
    const items = [...this.store(plural).values()].filter(filter).map(clone);
    this.reply(res, 200, {
      apiVersion: plural in CORE_KINDS ? 'v1' : 'cillion.io/v1alpha1',
      kind: `${this.kinds[plural]}List`,
      metadata: { resourceVersion: String(this.rv) },
      items,
    });
  }

  private handleWatch(plural: string, query: URLSearchParams, res: ServerResponse, filter: Filter = () => true): void {
    const from = Number(query.get('resourceVersion') ?? '0');
    if (from !== 0 && from < this.compactedThrough) {
      const message = `too old resource version: ${from} (${this.compactedThrough})`;
      if (this.expiredAs === 'http') return this.fail(res, 410, message);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: statusObject(410, message) })}\n`);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    for (const c of this.history) {
      const seen = c.plural === plural && c.rv > from ? this.asSeen(c, filter) : null;
      if (seen) res.write(`${JSON.stringify(seen)}\n`);
    }
    const w: OpenWatch = { plural, res, filter };
    this.watches.add(w);
    res.on('close', () => this.watches.delete(w));
  }

  private handleCreate(plural: string, body: Obj, res: ServerResponse): void {
    const name = body?.metadata?.name as string | undefined;
    if (!name) return this.fail(res, 422, `${this.kinds[plural]}.cillion.io "" is invalid: metadata.name: Required value: name or generateName is required`, 'Invalid');
    if (body.metadata.resourceVersion) return this.fail(res, 400, 'resourceVersion should not be set on objects to be created');
    if (this.store(plural).has(name)) return this.fail(res, 409, `${plural}.cillion.io "${name}" already exists`, 'AlreadyExists');
    this.reply(res, 201, this.apply(plural, body));
  }

  // A replace must carry the resourceVersion it read, as the operator's writes do; a stale one is a 409.
  private handleReplace(plural: string, name: string, body: Obj, res: ServerResponse): void {
    const cur = this.store(plural).get(name);
    if (!cur) return this.fail(res, 404, `${plural}.cillion.io "${name}" not found`);
    if (body?.metadata?.name !== name) return this.fail(res, 400, 'the name of the object does not match the name on the URL');
    if (body.metadata.resourceVersion !== cur.metadata.resourceVersion) {
      return this.fail(res, 409, `Operation cannot be fulfilled on ${plural}.cillion.io "${name}": the object has been modified; please apply your changes to the latest version and try again`);
    }
    this.reply(res, 200, this.apply(plural, body));
  }

  private handleDelete(plural: string, name: string, body: Obj | undefined, res: ServerResponse): void {
    const cur = this.store(plural).get(name);
    if (!cur) return this.fail(res, 404, `${plural}.cillion.io "${name}" not found`);
    const pre = (body?.preconditions ?? {}) as Obj;
    if ((pre.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion) || (pre.uid && pre.uid !== cur.metadata.uid)) {
      return this.fail(res, 409, `Operation cannot be fulfilled on ${plural}.cillion.io "${name}": the precondition does not match`);
    }
    this.remove(plural, name);
    this.reply(res, 200, cur);
  }

  private handleStatusPatch(plural: string, name: string, contentType: string, query: URLSearchParams, body: Obj, res: ServerResponse): void {
    const manager = query.get('fieldManager') ?? '';
    if (contentType === 'application/apply-patch+yaml') {
      if (manager === '') return this.fail(res, 422, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', 'Invalid');
      if (body?.apiVersion !== 'cillion.io/v1alpha1' || body?.kind !== this.kinds[plural] || body?.metadata?.name !== name) {
        return this.fail(res, 400, 'apply patch must name the object it applies to (apiVersion, kind, metadata.name)');
      }
    } else if (contentType !== 'application/merge-patch+json') {
      return this.fail(res, 415, `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/apply-patch+yaml`);
    }
    const store = this.store(plural);
    const prev = store.get(name);
    if (!prev) return this.fail(res, 404, `${plural}.cillion.io "${name}" not found`);
    const next = clone(prev);
    // Only status changes through the status subresource; the rest of the body is ignored, as on the real server.
    next.status = clone(body.status);
    const others = ((prev.metadata.managedFields as Obj[] | undefined) ?? []).filter((m) => !(m.manager === manager && m.subresource === 'status'));
    next.metadata = {
      ...next.metadata,
      resourceVersion: String(++this.rv),
      managedFields: [...others, { manager, operation: contentType === 'application/apply-patch+yaml' ? 'Apply' : 'Update', apiVersion: 'cillion.io/v1alpha1', subresource: 'status', fieldsType: 'FieldsV1' }],
    };
    store.set(name, next);
    this.record(plural, 'MODIFIED', next, prev);
    this.reply(res, 200, next);
  }

  private handleLease(method: string, namespace: string, name: string | undefined, body: Obj, res: ServerResponse): void {
    const resource = 'leases.coordination.k8s.io';
    const badTime = (spec: Obj | undefined): string | undefined =>
      ['acquireTime', 'renewTime'].find((f) => spec?.[f] !== undefined && spec[f] !== null && !MICRO_TIME.test(String(spec[f])));
    if (method === 'GET' && name) {
      const l = this.leases.get(`${namespace}/${name}`);
      return l ? this.reply(res, 200, l) : this.fail(res, 404, `${resource} "${name}" not found`);
    }
    if (method === 'POST' && !name) {
      const n = body?.metadata?.name as string | undefined;
      if (!n) return this.fail(res, 422, 'Lease.coordination.k8s.io "" is invalid: metadata.name: Required value: name or generateName is required', 'Invalid');
      const t = badTime(body.spec);
      if (t) return this.fail(res, 400, `spec.${t}: not an RFC 3339 time with microseconds`);
      if (this.leases.has(`${namespace}/${n}`)) return this.fail(res, 409, `${resource} "${n}" already exists`, 'AlreadyExists');
      const lease = { ...clone(body), metadata: { ...body.metadata, namespace, resourceVersion: String(++this.rv), uid: `uid-lease-${n}` } };
      this.leases.set(`${namespace}/${n}`, lease);
      return this.reply(res, 201, lease);
    }
    if (method === 'PUT' && name) {
      const cur = this.leases.get(`${namespace}/${name}`);
      if (!cur) return this.fail(res, 404, `${resource} "${name}" not found`);
      const t = badTime(body?.spec);
      if (t) return this.fail(res, 400, `spec.${t}: not an RFC 3339 time with microseconds`);
      const rv = body?.metadata?.resourceVersion as string | undefined;
      if (rv !== undefined && rv !== cur.metadata.resourceVersion) {
        return this.fail(res, 409, `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
      }
      const lease = { ...clone(body), metadata: { ...cur.metadata, resourceVersion: String(++this.rv) } };
      this.leases.set(`${namespace}/${name}`, lease);
      return this.reply(res, 200, lease);
    }
    this.fail(res, 405, `${method} is not supported here`, 'MethodNotAllowed');
  }
}

/** A kubeconfig that points client-node at a fake server. */
export function kubeConfigFor(url: string): ClientNode.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'tester' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'tester' }],
    currentContext: 'fake',
  });
  return kc;
}
