// One client-node informer (ListWatch) per resource kind, made to keep running: the library
// relists by itself after a 410 and restarts after a clean end of a watch, but stops for
// good on any other error, and it neither asks for bookmarks nor treats a watch ERROR event
// as the end of the watch. The Watch subclass here adds those; the informer restarts the
// ListWatch with backoff after every error. A restart keeps the last resourceVersion seen,
// so the watch resumes where it stopped instead of relisting.
import { Backoff, type BackoffOptions } from './backoff';
import { k8s, type ClientNode } from './client';

export type KubeObject = ClientNode.KubernetesObject & Record<string, unknown>;

/** An error with the HTTP status or Status.code the API server gave, as client-node's ListWatch reads it. */
export class WatchError extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
    this.name = 'WatchError';
  }
}

export interface InformerHandlers {
  add(obj: KubeObject): void;
  update(obj: KubeObject): void;
  delete(obj: KubeObject): void;
  /** The watch stopped with `error`; the informer restarts it after `delayMs`. */
  retry?(error: unknown, delayMs: number): void;
}

export interface InformerOptions {
  backoff?: BackoffOptions;
  /**
   * A watch that ends without error sooner than this and without delivering any event counts
   * as a failure, so a server that accepts and at once closes watches is not hammered; default 1 s.
   */
  minWatchMs?: number;
  /** Lists and watches only the objects this field selector matches (e.g. `spec.nodeName=NODE`). */
  fieldSelector?: string;
}

/** client-node's Watch with bookmarks requested, ERROR events ending the watch, and health tracking. */
class ResumingWatch extends k8s.Watch {
  closed = false;

  constructor(
    config: ClientNode.KubeConfig,
    private readonly minWatchMs: number,
    private readonly onHealthy: () => void,
    private readonly onWatchStart: () => void,
  ) {
    super(config);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: any, watchObj?: any) => void,
    done: (err: any) => void,
  ): Promise<AbortController> {
    const controller = new AbortController();
    if (this.closed) {
      // A list that was in flight when the informer stopped must not open a new watch.
      controller.abort();
      return controller;
    }
    // ListWatch opens a watch only after it applied a list (or to resume one), so the cache is filled now.
    this.onWatchStart();
    const started = Date.now();
    let events = 0;
    let finished = false;
    let inner: AbortController | undefined;
    const finish = (err: unknown): void => {
      if (finished) return;
      finished = true;
      inner?.abort();
      if (events > 0 || Date.now() - started >= this.minWatchMs) this.onHealthy();
      if (err === null && events === 0 && Date.now() - started < this.minWatchMs) {
        done(new WatchError(`watch of ${path} closed after ${Date.now() - started} ms without events`));
      } else {
        done(err);
      }
    };
    controller.signal.addEventListener('abort', () => {
      // ListWatch aborts the watch it replaces; that is not an error to report.
      finished = true;
      inner?.abort();
    });
    inner = await super.watch(
      path,
      { ...queryParams, allowWatchBookmarks: true },
      (phase, obj: unknown, raw: unknown) => {
        if (finished) return;
        if (phase === 'ERROR') {
          // The API server ends the watch after an ERROR event; a Status code of 410 makes ListWatch relist.
          const status = obj as { code?: unknown; message?: unknown } | null;
          const code = typeof status?.code === 'number' ? status.code : undefined;
          finish(new WatchError(`watch of ${path}: ${String(status?.message ?? 'error event')}`, code));
          return;
        }
        events++;
        callback(phase, obj, raw);
      },
      (err: unknown) => finish(err ?? null),
    );
    // The informer may have stopped while the request was being made; nothing else would end it.
    if (finished || this.closed) {
      finished = true;
      inner.abort();
    }
    return controller;
  }
}

export class KindInformer {
  /** Resolves when the first list has been delivered. */
  readonly synced: Promise<void>;
  private readonly informer: ClientNode.ListWatch<KubeObject>;
  private readonly watcher: ResumingWatch;
  private readonly backoff: Backoff;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private markSynced!: () => void;

  constructor(
    kc: ClientNode.KubeConfig,
    readonly path: string,
    list: () => Promise<ClientNode.KubernetesListObject<KubeObject>>,
    private readonly handlers: InformerHandlers,
    opts: InformerOptions = {},
  ) {
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
    this.backoff = new Backoff(opts.backoff);
    this.watcher = new ResumingWatch(
      kc,
      opts.minWatchMs ?? 1000,
      () => this.backoff.reset(),
      () => this.markSynced(),
    );
    this.informer = new k8s.ListWatch<KubeObject>(path, this.watcher, list, false, undefined, opts.fieldSelector);
    this.informer.on('add', (o) => handlers.add(o));
    this.informer.on('update', (o) => handlers.update(o));
    this.informer.on('delete', (o) => handlers.delete(o));
    this.informer.on('error', (err) => this.restartLater(err));
  }

  start(): void {
    void this.informer.start();
  }

  /** The resourceVersion the next watch resumes from; '' when the next start relists. */
  get resourceVersion(): string {
    return this.informer.latestResourceVersion();
  }

  private restartLater(err: unknown): void {
    if (this.stopped) return;
    const delay = this.backoff.next();
    this.handlers.retry?.(err, delay);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) void this.informer.start();
    }, delay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.informer.stop();
  }
}
