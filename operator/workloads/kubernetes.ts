// Workloads from the Kubernetes API: a Pod and a Namespace informer (the same list, watch,
// resume and relist machinery as the Cillion kinds), reduced to what the operator reads. Only
// pods that run and have an IPv4 address are workloads: a pending pod has no address to
// program yet, and a finished one no traffic.
import { isDeepStrictEqual } from 'node:util';
import type { BackoffOptions } from '../../kube/backoff';
import { k8s, type ClientNode } from '../../kube/client';
import { KindInformer, type KubeObject } from '../../kube/informer';
import type { Workload } from '../../identity/workload';

export interface KubernetesWorkloadsOptions {
  kubeConfig: ClientNode.KubeConfig;
  /** Only pods on this node: the API server filters them (field selector spec.nodeName). */
  nodeName?: string;
  /** Only pods in this namespace; default all namespaces. */
  namespace?: string;
  /** Called after a change of what list() returns (not before the first list of both kinds). */
  onChange?: () => void;
  watchBackoff?: BackoffOptions;
  /** See InformerOptions.minWatchMs; default 1 s. */
  minWatchMs?: number;
  log?: (message: string) => void;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function stringMap(v: unknown): Record<string, string> {
  if (!isObj(v)) return {};
  return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** A pod as a workload without its namespace's labels, or null when it is not one. */
export function podWorkload(pod: KubeObject): Omit<Workload, 'namespaceLabels'> | null {
  const meta = isObj(pod.metadata) ? pod.metadata : {};
  const spec = isObj(pod.spec) ? pod.spec : {};
  const status = isObj(pod.status) ? pod.status : {};
  if (typeof meta.name !== 'string' || typeof spec.nodeName !== 'string' || spec.nodeName === '') return null;
  if (status.phase !== 'Running') return null;
  // A host-network pod shares the node's address and never passes the pod's edge program.
  if (spec.hostNetwork === true) return null;
  // On a dual-stack cluster podIP may be the IPv6 one; podIPs lists both.
  const ips = [status.podIP, ...(Array.isArray(status.podIPs) ? status.podIPs.map((p) => (isObj(p) ? p.ip : undefined)) : [])];
  const ip = ips.find((i): i is string => typeof i === 'string' && IPV4.test(i));
  if (!ip) return null;
  return {
    name: meta.name,
    namespace: typeof meta.namespace === 'string' ? meta.namespace : 'default',
    labels: stringMap(meta.labels),
    ip,
    node: spec.nodeName,
  };
}

/** A namespace's labels, with the one Kubernetes sets on every namespace even when the object lacks it. */
export function namespaceLabels(name: string, ns: KubeObject | undefined): Record<string, string> {
  return { 'kubernetes.io/metadata.name': name, ...stringMap(ns && isObj(ns.metadata) ? ns.metadata.labels : undefined) };
}

const keyOf = (o: KubeObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export class KubernetesWorkloads {
  /** Resolves once pods and namespaces have both been listed. */
  readonly synced: Promise<void>;
  private readonly pods = new Map<string, Omit<Workload, 'namespaceLabels'>>();
  private readonly namespaces = new Map<string, Record<string, string>>();
  private readonly informers: KindInformer[];
  private ready = false;

  constructor(private readonly opts: KubernetesWorkloadsOptions) {
    const core = opts.kubeConfig.makeApiClient(k8s.CoreV1Api);
    const log = opts.log ?? (() => undefined);
    const retry = (what: string) => (e: unknown, delay: number) =>
      log(`watch of ${what}: ${(e as Error).message ?? String(e)}; restarting in ${Math.round(delay)} ms`);
    const fieldSelector = opts.nodeName === undefined ? undefined : `spec.nodeName=${opts.nodeName}`;
    const { namespace } = opts;
    const pods = new KindInformer(
      opts.kubeConfig,
      namespace === undefined ? '/api/v1/pods' : `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
      // The generated client returns model classes; the informer only reads their plain fields.
      async () =>
        (namespace === undefined
          ? await core.listPodForAllNamespaces({ fieldSelector })
          : await core.listNamespacedPod({ namespace, fieldSelector })) as unknown as ClientNode.KubernetesListObject<KubeObject>,
      { add: (o) => this.putPod(o), update: (o) => this.putPod(o), delete: (o) => this.deletePod(o), retry: retry('pods') },
      { backoff: opts.watchBackoff, minWatchMs: opts.minWatchMs, fieldSelector },
    );
    const namespaces = new KindInformer(
      opts.kubeConfig,
      '/api/v1/namespaces',
      async () => (await core.listNamespace()) as unknown as ClientNode.KubernetesListObject<KubeObject>,
      { add: (o) => this.putNamespace(o), update: (o) => this.putNamespace(o), delete: (o) => this.deleteNamespace(o), retry: retry('namespaces') },
      { backoff: opts.watchBackoff, minWatchMs: opts.minWatchMs },
    );
    this.informers = [pods, namespaces];
    this.synced = Promise.all(this.informers.map((i) => i.synced)).then(() => {
      this.ready = true;
    });
    for (const i of this.informers) i.start();
  }

  /** The workloads known now, in a stable order. */
  list(): Workload[] {
    return [...this.pods.values()]
      .map((w) => ({ ...w, namespaceLabels: this.namespaces.get(w.namespace) ?? namespaceLabels(w.namespace, undefined) }))
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  }

  private changed(): void {
    if (this.ready) this.opts.onChange?.();
  }

  private putPod(o: KubeObject): void {
    const key = keyOf(o);
    const w = podWorkload(o);
    // A node's field selector is also checked here: a pod is bound once and never moves, but
    // the filter must not rest on the server alone.
    const next = w && (this.opts.nodeName === undefined || w.node === this.opts.nodeName) ? w : null;
    const prev = this.pods.get(key);
    if (next === null) {
      if (prev) {
        this.pods.delete(key);
        this.changed();
      }
      return;
    }
    // Most pod updates (conditions, container states) change nothing the operator reads.
    if (prev && isDeepStrictEqual(prev, next)) return;
    this.pods.set(key, next);
    this.changed();
  }

  private deletePod(o: KubeObject): void {
    if (this.pods.delete(keyOf(o))) this.changed();
  }

  private putNamespace(o: KubeObject): void {
    const name = o.metadata?.name;
    if (typeof name !== 'string') return;
    const labels = namespaceLabels(name, o);
    if (isDeepStrictEqual(this.namespaces.get(name), labels)) return;
    this.namespaces.set(name, labels);
    if ([...this.pods.values()].some((w) => w.namespace === name)) this.changed();
  }

  private deleteNamespace(o: KubeObject): void {
    const name = o.metadata?.name;
    if (typeof name === 'string') this.namespaces.delete(name);
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}
