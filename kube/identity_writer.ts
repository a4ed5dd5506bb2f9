// The operator's side of CillionIdentity (the leader only): makes the API server's objects of
// this cluster match the allocation, one key at a time. A number the allocator holds (in use
// or in its grace period) gets its object; an object of this cluster whose number the
// allocator has freed (after the grace period) is deleted; an object of another cluster id is
// never touched, even when it takes a name this cluster wants. Each write decides from the
// latest cache when it runs, so a retry after a conflict does what is right by then; a failed
// write is logged and retried with its key's own backoff while other keys go on.
import type { Identity } from '../identity/allocator';
import { clusterIdOf } from '../identity/cluster_scope';
import { API_GROUP, API_VERSION_NAME } from '../resources/meta';
import { cillionIdentityObject, claimedClusterId, IDENTITY_PLURAL, validateCillionIdentity, type CillionIdentity } from '../resources/cillionidentity';
import type { BackoffOptions } from './backoff';
import { httpCode, k8s, type ClientNode } from './client';
import { IdentityObjects } from './identity_objects';
import type { KubeObject } from './informer';
import { WriteQueue } from './writequeue';

export interface IdentityWriterOptions {
  kubeConfig: ClientNode.KubeConfig;
  clusterId: number;
  log: (line: string) => void;
  /** Retries of one key's write. */
  writeBackoff?: BackoffOptions;
  watchBackoff?: BackoffOptions;
  minWatchMs?: number;
}

type Action = { op: 'create'; want: Identity } | { op: 'replace'; want: Identity; have: KubeObject } | { op: 'delete'; have: KubeObject };

export interface WriterStats {
  created: number;
  replaced: number;
  deleted: number;
  /** Names this cluster wants that an object of another cluster id holds. */
  conflicts: number;
}

/** One line for the log: the API server's Status message rather than client-node's dump of the response. */
function apiError(e: unknown): string {
  const body = (e as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: unknown };
      if (typeof status.message === 'string') return `HTTP ${String(httpCode(e))}: ${status.message}`;
    } catch {
      // Not a Status body: the error's own message below.
    }
  }
  return (e as Error).message;
}

export class IdentityObjectWriter {
  /** Resolves once the cluster's objects are known: before that nothing is written. */
  readonly synced: Promise<void>;
  private readonly objects: IdentityObjects;
  private readonly custom: ClientNode.CustomObjectsApi;
  private readonly queue: WriteQueue<true>;
  private desired: Map<string, Identity> | null = null;
  private readonly conflicts = new Set<string>();
  private readonly counts = { created: 0, replaced: 0, deleted: 0 };
  private ready = false;

  constructor(private readonly opts: IdentityWriterOptions) {
    this.custom = opts.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    this.objects = new IdentityObjects({
      kubeConfig: opts.kubeConfig,
      log: opts.log,
      backoff: opts.watchBackoff,
      minWatchMs: opts.minWatchMs,
      onChange: (names) => this.reconcile(names),
    });
    this.queue = new WriteQueue((name) => this.write(name), {
      backoff: opts.writeBackoff,
      onError: (name, e, retryIn) => opts.log(`identities: CillionIdentity ${name}: ${apiError(e)}; retrying in ${Math.round(retryIn ?? 0)} ms`),
    });
    this.synced = this.objects.synced.then(() => {
      this.ready = true;
      this.reconcile(this.names());
    });
  }

  start(): void {
    this.objects.start();
  }

  /** What the cluster's objects should be: every identity the allocator holds. */
  publish(identities: readonly Identity[]): void {
    const before = this.desired;
    this.desired = new Map(identities.map((i) => [String(i.id), i]));
    // Only numbers whose labels came, went or changed: an object that drifts is judged when
    // its watch event arrives, so an unchanged allocation (every --refresh) costs no scan of the objects.
    if (!before) return this.reconcile(this.names());
    const changed = new Set<string>();
    for (const [name, i] of this.desired) if (before.get(name)?.labels.join('\n') !== i.labels.join('\n')) changed.add(name);
    for (const name of before.keys()) if (!this.desired.has(name)) changed.add(name);
    this.reconcile(changed);
  }

  /** This cluster's identities as its objects say, for a new leader whose state volume is empty. */
  published(): CillionIdentity[] {
    const mine: CillionIdentity[] = [];
    for (const o of this.objects.all()) {
      const v = validateCillionIdentity(o);
      if (v.ok && v.value.clusterId === this.opts.clusterId) mine.push(v.value);
    }
    // One number per label set, the lowest, as agents read them.
    const byLabels = new Map<string, CillionIdentity>();
    for (const i of mine.sort((a, b) => a.id - b.id)) if (!byLabels.has(i.labels.join('\n'))) byLabels.set(i.labels.join('\n'), i);
    return [...byLabels.values()];
  }

  stats(): WriterStats {
    return { ...this.counts, conflicts: this.conflicts.size };
  }

  /** Resolves once every queued write has been made or dropped. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  async stop(): Promise<void> {
    await this.queue.close();
    await this.objects.stop();
  }

  private names(): Set<string> {
    const names = new Set(this.desired?.keys() ?? []);
    for (const o of this.objects.all()) if (typeof o.metadata?.name === 'string') names.add(o.metadata.name);
    return names;
  }

  private reconcile(names: Iterable<string>): void {
    if (!this.ready || !this.desired) return;
    for (const name of names) if (this.decide(name)) this.queue.put(name, true);
  }

  /** Whose an object is: the cluster id it claims, or when it claims none, the one its name carries. */
  private owned(o: KubeObject): boolean {
    const claimed = claimedClusterId(o);
    if (claimed !== undefined) return claimed === this.opts.clusterId;
    const name = o.metadata?.name ?? '';
    return /^[1-9][0-9]*$/.test(name) && clusterIdOf(Number(name)) === this.opts.clusterId;
  }

  private decide(name: string): Action | undefined {
    const want = this.desired?.get(name);
    const have = this.objects.get(name);
    if (have && !this.owned(have)) {
      if (want && !this.conflicts.has(name)) {
        this.conflicts.add(name);
        this.opts.log(`identities: CillionIdentity ${name} belongs to cluster id ${String(claimedClusterId(have))}, not ${this.opts.clusterId}: left alone, identity ${name} is not published`);
      }
      return undefined;
    }
    this.conflicts.delete(name);
    if (want && !have) return { op: 'create', want };
    if (!want) return have ? { op: 'delete', have } : undefined;
    const v = validateCillionIdentity(have);
    const same = v.ok && v.value.clusterId === this.opts.clusterId && v.value.labels.join('\n') === want.labels.join('\n');
    return same ? undefined : { op: 'replace', want, have: have! };
  }

  private async write(name: string): Promise<void> {
    const action = this.decide(name);
    if (!action) return;
    const where = { group: API_GROUP, version: API_VERSION_NAME, plural: IDENTITY_PLURAL };
    const body = (i: Identity) => cillionIdentityObject({ id: i.id, clusterId: this.opts.clusterId, labels: i.labels });
    try {
      if (action.op === 'create') {
        await this.custom.createClusterCustomObject({ ...where, body: body(action.want) });
        this.counts.created++;
      } else if (action.op === 'replace') {
        const b = body(action.want) as { metadata: Record<string, unknown> };
        b.metadata.resourceVersion = action.have.metadata?.resourceVersion;
        await this.custom.replaceClusterCustomObject({ ...where, name, body: b });
        this.counts.replaced++;
        this.opts.log(`identities: CillionIdentity ${name} did not match the allocation: replaced`);
      } else {
        // Only the object this decision saw: one made again since is judged again.
        const preconditions = { resourceVersion: action.have.metadata?.resourceVersion, uid: action.have.metadata?.uid };
        await this.custom.deleteClusterCustomObject({ ...where, name, body: { preconditions } });
        this.counts.deleted++;
      }
    } catch (e) {
      // Created meanwhile, or already gone: the watch brings the object (or its absence) and the key is judged again.
      if ((action.op === 'create' && httpCode(e) === 409) || (action.op === 'delete' && httpCode(e) === 404)) return;
      throw e;
    }
  }
}
