// The CillionIdentity objects of the API server as one informer sees them: every object by
// name, raw (whatever cluster wrote it, well-formed or not), with the changes of one burst of
// watch events (the first list delivers thousands) reported once, on the next turn of the
// event loop. The operator's writer and the agents' view both read the cluster through it.
import { API_GROUP, API_VERSION_NAME } from '../resources/meta';
import { IDENTITY_PLURAL } from '../resources/cillionidentity';
import type { BackoffOptions } from './backoff';
import { k8s, type ClientNode } from './client';
import { KindInformer, type KubeObject } from './informer';

export interface IdentityObjectsOptions {
  kubeConfig: ClientNode.KubeConfig;
  /** After a burst of changes, with the names that changed. */
  onChange: (names: ReadonlySet<string>) => void;
  log: (line: string) => void;
  backoff?: BackoffOptions;
  minWatchMs?: number;
}

export class IdentityObjects {
  /** Resolves once the first list is in the cache (and onChange has seen it). */
  readonly synced: Promise<void>;
  private readonly objects = new Map<string, KubeObject>();
  private readonly informer: KindInformer;
  private changed = new Set<string>();
  private flush: NodeJS.Immediate | undefined;

  constructor(private readonly opts: IdentityObjectsOptions) {
    const custom = opts.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    this.informer = new KindInformer(
      opts.kubeConfig,
      `/apis/${API_GROUP}/${API_VERSION_NAME}/${IDENTITY_PLURAL}`,
      () => custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION_NAME, plural: IDENTITY_PLURAL }),
      {
        add: (o) => this.put(o),
        update: (o) => this.put(o),
        delete: (o) => this.drop(o),
        retry: (e, delay) => opts.log(`watch of ${IDENTITY_PLURAL}: ${(e as Error).message ?? String(e)}; restarting in ${Math.round(delay)} ms`),
      },
      { backoff: opts.backoff, minWatchMs: opts.minWatchMs },
    );
    // The first list's events come before the watch opens (synced); its flush follows them.
    this.synced = this.informer.synced.then(() => new Promise<void>((resolve) => setImmediate(() => {
      this.report();
      resolve();
    })));
  }

  start(): void {
    this.informer.start();
  }

  get(name: string): KubeObject | undefined {
    return this.objects.get(name);
  }

  all(): IterableIterator<KubeObject> {
    return this.objects.values();
  }

  async stop(): Promise<void> {
    if (this.flush) clearImmediate(this.flush);
    this.flush = undefined;
    await this.informer.stop();
  }

  private put(o: KubeObject): void {
    const name = o.metadata?.name;
    if (typeof name !== 'string') return;
    this.objects.set(name, o);
    this.touch(name);
  }

  private drop(o: KubeObject): void {
    const name = o.metadata?.name;
    if (typeof name !== 'string') return;
    this.objects.delete(name);
    this.touch(name);
  }

  private touch(name: string): void {
    this.changed.add(name);
    this.flush ??= setImmediate(() => this.report());
  }

  private report(): void {
    this.flush = undefined;
    if (this.changed.size === 0) return;
    const names = this.changed;
    this.changed = new Set();
    this.opts.onChange(names);
  }
}
