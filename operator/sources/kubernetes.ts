// Desired state from the Kubernetes API: one client-node informer per Cillion kind (list,
// then watch from the list's resourceVersion, resumed after errors, relisted after 410), and
// status written through the status subresource by server-side apply under our own field
// manager, through a per-key queue so a slow or failing object never holds up the others.
import { isDeepStrictEqual } from 'node:util';
import { isRecord } from '../../resources/fields';
import { API_GROUP, API_VERSION, API_VERSION_NAME, KINDS, PLURALS, type Kind } from '../../resources/meta';
import { claimedKey, keyString, validateResource, type ResourceKey } from '../../resources/resource';
import type { ResourceStatus } from '../../resources/status';
import type { BackoffOptions } from '../../kube/backoff';
import { httpCode, k8s, type ClientNode } from '../../kube/client';
import { KindInformer, type KubeObject } from '../../kube/informer';
import { WriteQueue } from '../../kube/writequeue';
import type { ResourceEvent, ResourceSource, SourceEntry } from '../../resources/source';

export const FIELD_MANAGER = 'cillion-operator';
const ORIGIN = 'kubernetes';

export interface KubernetesSourceOptions {
  /** Where the API server is and how to authenticate; default KubeConfig.loadFromDefault(). */
  kubeConfig?: ClientNode.KubeConfig;
  /** Field manager of status writes; default `cillion-operator`. */
  fieldManager?: string;
  /** Backoff between watch restarts after errors. */
  watchBackoff?: BackoffOptions;
  /** Backoff between retries of one key's failed status write. */
  statusBackoff?: BackoffOptions;
  /** See InformerOptions.minWatchMs; default 1 s. */
  minWatchMs?: number;
  /** Where watch restarts and failed status writes are reported; default nowhere. */
  log?: (message: string) => void;
  /** Whether status is written from the start; default true. See setWritingStatus(). */
  writeStatus?: boolean;
}

interface Known {
  entry: SourceEntry;
  /** The object without what changes on every status write, to tell spec changes from status-only ones. */
  desired: Record<string, unknown>;
}

// A write the server refused as malformed, or for an object that no longer exists, fails
// the same way on every retry; the object's next add brings a fresh status anyway.
function retryableStatusError(e: unknown): boolean {
  const code = httpCode(e);
  return code !== 400 && code !== 404 && code !== 415 && code !== 422;
}

function desiredPart(obj: KubeObject): Record<string, unknown> {
  const { status: _status, metadata, ...rest } = obj;
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = isRecord(metadata) ? metadata : {};
  return { ...rest, metadata: meta };
}

export class KubernetesSource implements ResourceSource {
  readonly fieldManager: string;
  private readonly kc: ClientNode.KubeConfig;
  private readonly custom: ClientNode.CustomObjectsApi;
  private readonly informers = new Map<Kind, KindInformer>();
  private readonly known = new Map<string, Known>();
  private readonly listeners = new Set<(e: ResourceEvent) => void>();
  private readonly queue: WriteQueue<{ key: ResourceKey; status: ResourceStatus }>;
  /** The newest status asked for per resource, written or not: what a new leader writes first. */
  private readonly wanted = new Map<string, { key: ResourceKey; status: ResourceStatus }>();
  private writing: boolean;
  private readonly log: (message: string) => void;
  private readonly ready: Promise<void>;
  private closed = false;
  private rejectReady!: (e: Error) => void;

  constructor(opts: KubernetesSourceOptions = {}) {
    this.kc = opts.kubeConfig ?? KubernetesSource.defaultKubeConfig();
    this.fieldManager = opts.fieldManager ?? FIELD_MANAGER;
    this.log = opts.log ?? (() => undefined);
    this.writing = opts.writeStatus ?? true;
    this.custom = this.kc.makeApiClient(k8s.CustomObjectsApi);
    this.queue = new WriteQueue((_k, v) => this.patchStatus(v.key, v.status), {
      backoff: opts.statusBackoff,
      retryable: retryableStatusError,
      onError: (k, e, retryIn) =>
        this.log(`status of ${k}: ${(e as Error).message}${retryIn === undefined ? '; dropped' : `; retrying in ${Math.round(retryIn)} ms`}`),
    });
    for (const kind of KINDS) {
      const plural = PLURALS[kind];
      const informer = new KindInformer(
        this.kc,
        `/apis/${API_GROUP}/${API_VERSION_NAME}/${plural}`,
        () => this.custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION_NAME, plural }),
        {
          add: (o) => this.upsert(kind, o),
          update: (o) => this.upsert(kind, o),
          delete: (o) => this.remove(kind, o),
          retry: (e, delay) => this.log(`watch of ${plural}: ${(e as Error).message ?? String(e)}; restarting in ${Math.round(delay)} ms`),
        },
        { backoff: opts.watchBackoff, minWatchMs: opts.minWatchMs },
      );
      this.informers.set(kind, informer);
    }
    const closed = new Promise<never>((_resolve, reject) => (this.rejectReady = reject));
    this.ready = Promise.race([Promise.all([...this.informers.values()].map((i) => i.synced)).then(() => undefined), closed]);
    // list() and watch() see the rejection; this only keeps an unobserved one from being reported as unhandled.
    this.ready.catch(() => undefined);
    for (const i of this.informers.values()) i.start();
  }

  static defaultKubeConfig(): ClientNode.KubeConfig {
    const kc = new k8s.KubeConfig();
    kc.loadFromDefault();
    return kc;
  }

  /** The resourceVersion each kind's watch resumes from ('' before the first list or when it must relist). */
  resourceVersions(): Record<Kind, string> {
    return Object.fromEntries(KINDS.map((k) => [k, this.informers.get(k)!.resourceVersion])) as Record<Kind, string>;
  }

  private upsert(kind: Kind, raw: KubeObject): void {
    // LIST items of custom resources carry apiVersion and kind; default them anyway so validation judges the spec.
    const obj: KubeObject = { ...raw, apiVersion: raw.apiVersion ?? API_VERSION, kind: raw.kind ?? kind };
    const key = claimedKey(obj);
    if (!key) {
      const r = validateResource(obj);
      this.emit({ type: 'problem', origin: ORIGIN, problems: r.ok ? [{ path: 'metadata.name', message: 'is required' }] : r.problems });
      return;
    }
    const ks = keyString(key);
    const prev = this.known.get(ks);
    const meta = isRecord(obj.metadata) ? obj.metadata : {};
    const entry: SourceEntry = {
      key,
      // The API server sets metadata.generation on every custom resource and bumps it on spec changes.
      generation: typeof meta.generation === 'number' ? meta.generation : 1,
      resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '',
      origin: ORIGIN,
      result: validateResource(obj),
    };
    const desired = desiredPart(obj);
    this.known.set(ks, { entry, desired });
    // Our own status writes come back as MODIFIED events; they change nothing the reconciler reads.
    if (prev && isDeepStrictEqual(prev.desired, desired)) return;
    this.emit({ type: prev ? 'update' : 'add', entry });
  }

  private remove(kind: Kind, raw: KubeObject): void {
    const key = claimedKey({ ...raw, apiVersion: raw.apiVersion ?? API_VERSION, kind: raw.kind ?? kind });
    const prev = key && this.known.get(keyString(key));
    if (!key || !prev) return;
    this.known.delete(keyString(key));
    this.wanted.delete(keyString(key));
    this.emit({ type: 'delete', key, last: prev.entry });
  }

  private emit(e: ResourceEvent): void {
    for (const l of this.listeners) l(e);
  }

  async list(): Promise<SourceEntry[]> {
    await this.ready;
    return [...this.known.values()].map((k) => k.entry);
  }

  watch(listener: (event: ResourceEvent) => void): () => void {
    let active = true;
    this.ready.then(
      () => {
        if (!active) return;
        for (const k of this.known.values()) listener({ type: 'add', entry: k.entry });
        this.listeners.add(listener);
      },
      () => undefined,
    );
    return () => {
      active = false;
      this.listeners.delete(listener);
    };
  }

  /**
   * Queues the status for writing and returns at once: the queue keeps only the newest status
   * per resource and retries failed writes with backoff, reporting failures through `log`.
   * Use idle() to wait until everything queued is written.
   */
  async writeStatus(key: ResourceKey, status: ResourceStatus): Promise<void> {
    if (this.closed) throw new Error('the Kubernetes source is closed');
    const ks = keyString(key);
    this.wanted.set(ks, { key, status });
    if (this.writing) this.queue.put(ks, { key, status });
  }

  get writingStatus(): boolean {
    return this.writing;
  }

  /**
   * Starts or stops writing status (only the elected leader writes). Stopping drops at once
   * every write not yet sent; starting writes the newest status asked for of every resource,
   * since what was asked for while not writing, or written by a previous leader, may be stale.
   */
  setWritingStatus(on: boolean): void {
    if (this.closed || on === this.writing) return;
    this.writing = on;
    if (!on) {
      this.queue.clear();
      return;
    }
    for (const [ks, v] of this.wanted) this.queue.put(ks, v);
  }

  /** Resolves when every queued status has been written (or dropped as unwritable). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  private async patchStatus(key: ResourceKey, status: ResourceStatus): Promise<void> {
    // Server-side apply: we own exactly the status fields we send, so a field dropped from
    // one status to the next (paths of a policy that became invalid) is removed, and force
    // takes over fields a previous operator version wrote under another manager.
    // All Cillion kinds are cluster-scoped, hence the cluster-wide status endpoint.
    const body = { apiVersion: API_VERSION, kind: key.kind, metadata: { name: key.name }, status };
    await this.custom.patchClusterCustomObjectStatus(
      { group: API_GROUP, version: API_VERSION_NAME, plural: PLURALS[key.kind], name: key.name, body, fieldManager: this.fieldManager, force: true },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.rejectReady(new Error('the Kubernetes source is closed'));
    this.listeners.clear();
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    await this.queue.close();
  }
}
