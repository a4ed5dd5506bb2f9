// Leader election on a coordination.k8s.io/v1 Lease, so that of several operator replicas
// only one reconciles. The algorithm is client-go's: a candidate takes the Lease when it is
// free or when its record has not changed for leaseDurationSeconds, measured on the
// candidate's own clock from when it first saw that record (so clock skew between nodes does
// not matter); the holder renews every retry period and steps down once renewals have failed
// for renewDeadline, which is shorter than the lease duration so that it has stopped before
// anyone else may take over. Every write carries the resourceVersion it read: of two
// candidates racing for the same Lease, the API server lets one win and answers 409 to the other.
import { httpCode, k8s, type ClientNode } from './client';

export interface LeaderElectorOptions {
  kubeConfig: ClientNode.KubeConfig;
  namespace: string;
  /** The Lease's name. */
  name: string;
  /** This candidate's identity (pod name); written to spec.holderIdentity. */
  identity: string;
  /** Written to the Lease; how long others wait before taking it over; default 15. */
  leaseDurationSeconds?: number;
  /** The holder steps down when it could not renew for this long; default 10 s, must be below the lease duration. */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew; default 2 s. */
  retryPeriodMs?: number;
  /** Clock; injectable for tests. */
  now?: () => Date;
  onStartedLeading?: () => void;
  onStoppedLeading?: () => void;
  /** Another holder was observed (or the Lease became free: ''). */
  onNewLeader?: (identity: string) => void;
  log?: (message: string) => void;
}

type Attempt = 'leading' | 'held' | 'failed';

export class LeaderElector {
  private readonly opts: Required<Pick<LeaderElectorOptions, 'leaseDurationSeconds' | 'renewDeadlineMs' | 'retryPeriodMs' | 'now'>> & LeaderElectorOptions;
  private readonly api: ClientNode.CoordinationV1Api;
  private leading = false;
  private observedHolder: string | undefined;
  /** resourceVersion of the Lease record last seen, and when (our clock) it was first seen. */
  private observedVersion: string | undefined;
  private observedAt = 0;
  private lastRenew = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(opts: LeaderElectorOptions) {
    this.opts = { leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, now: () => new Date(), ...opts };
    const { leaseDurationSeconds, renewDeadlineMs, retryPeriodMs } = this.opts;
    if (!Number.isInteger(leaseDurationSeconds) || leaseDurationSeconds < 1) throw new RangeError('leaseDurationSeconds must be a positive integer');
    if (!(renewDeadlineMs < leaseDurationSeconds * 1000)) throw new RangeError('renewDeadlineMs must be shorter than the lease duration');
    if (!(retryPeriodMs > 0 && retryPeriodMs < renewDeadlineMs)) throw new RangeError('retryPeriodMs must be positive and shorter than renewDeadlineMs');
    this.api = opts.kubeConfig.makeApiClient(k8s.CoordinationV1Api);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** The holder last seen on the Lease ('' when free, undefined before the first read). */
  get leader(): string | undefined {
    return this.observedHolder;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.tick().finally(() => {
        this.running = undefined;
        if (!this.stopped) this.schedule(this.opts.retryPeriodMs);
      });
    }, ms);
  }

  private async tick(): Promise<void> {
    const outcome = await this.tryAcquireOrRenew();
    if (this.stopped) return;
    const now = this.opts.now().getTime();
    if (outcome === 'leading') {
      this.lastRenew = now;
      if (!this.leading) {
        this.leading = true;
        this.opts.onStartedLeading?.();
      }
    } else if (this.leading && (outcome === 'held' || now - this.lastRenew >= this.opts.renewDeadlineMs)) {
      this.stepDown(outcome === 'held' ? `lease taken by ${this.observedHolder}` : 'could not renew the lease in time');
    }
  }

  private stepDown(why: string): void {
    this.leading = false;
    this.opts.log?.(`leader election: stepping down: ${why}`);
    this.opts.onStoppedLeading?.();
  }

  private observe(lease: ClientNode.V1Lease): void {
    const holder = lease.spec?.holderIdentity ?? '';
    if (holder !== this.observedHolder) {
      this.observedHolder = holder;
      if (holder !== this.opts.identity) this.opts.onNewLeader?.(holder);
    }
    const version = lease.metadata?.resourceVersion;
    if (version !== this.observedVersion) {
      this.observedVersion = version;
      this.observedAt = this.opts.now().getTime();
    }
  }

  private micro(d: Date): ClientNode.V1MicroTime {
    // V1MicroTime serializes with the six fractional digits the API server requires.
    return new k8s.V1MicroTime(d.getTime());
  }

  private async tryAcquireOrRenew(): Promise<Attempt> {
    const { namespace, name, identity, leaseDurationSeconds } = this.opts;
    const now = this.opts.now();
    let current: ClientNode.V1Lease;
    try {
      current = await this.api.readNamespacedLease({ name, namespace });
    } catch (e) {
      if (httpCode(e) !== 404) return this.failed('read', e);
      try {
        const created = await this.api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: this.micro(now), renewTime: this.micro(now), leaseTransitions: 0 },
          },
        });
        this.observe(created);
        return 'leading';
      } catch (err) {
        return this.failed('create', err);
      }
    }
    this.observe(current);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const mine = holder === identity;
    if (!mine && holder !== '') {
      const duration = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
      if (now.getTime() < this.observedAt + duration) return 'held';
    }
    try {
      const updated = await this.api.replaceNamespacedLease({
        name,
        namespace,
        body: {
          metadata: { ...current.metadata, name, namespace },
          spec: {
            ...spec,
            holderIdentity: identity,
            leaseDurationSeconds,
            acquireTime: mine && spec.acquireTime ? this.micro(new Date(spec.acquireTime)) : this.micro(now),
            renewTime: this.micro(now),
            leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
          },
        },
      });
      this.observe(updated);
      return 'leading';
    } catch (e) {
      return this.failed('update', e);
    }
  }

  private failed(op: string, e: unknown): Attempt {
    this.opts.log?.(`leader election: ${op} of lease ${this.opts.namespace}/${this.opts.name} failed: ${(e as Error).message}`);
    return 'failed';
  }

  /** Stops trying; a holder releases the Lease so a successor need not wait for it to expire. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    if (!this.leading) return;
    this.leading = false;
    try {
      const { namespace, name } = this.opts;
      const current = await this.api.readNamespacedLease({ name, namespace });
      if (current.spec?.holderIdentity === this.opts.identity) {
        const now = this.micro(this.opts.now());
        await this.api.replaceNamespacedLease({
          name,
          namespace,
          body: { metadata: current.metadata, spec: { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now } },
        });
      }
    } catch (e) {
      this.failed('release', e);
    }
    this.opts.onStoppedLeading?.();
  }
}
