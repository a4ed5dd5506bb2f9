// Gives each flow its geofence verdict: the fences in force come from a resource source
// (followed as it changes), the workloads from the flow's own endpoint labels. The relay
// judges every flow it stores; a node's local Observer judges the same way.
import { LRUCache } from 'lru-cache';
import type { WorkloadLabels } from '../operator/resources/selector';
import type { ResourceEvent, ResourceSource } from '../operator/sources/source';
import type { Endpoint, Flow } from '../proto/gen/flow/flow';
import { GeofenceEngine } from './engine';
import { toFlowGeofence } from './proto';

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const NAMESPACE_LABELS_PREFIX = 'io.cilium.k8s.namespace.labels.';
const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';

/**
 * A flow endpoint's workload labels for fence selectors: the pod's labels from its
 * "source:key=value" strings, and as namespace labels the namespace's name (as Kubernetes
 * labels every namespace) plus any namespace labels carried Cilium-style.
 */
export function endpointWorkload(ep: Endpoint | undefined): WorkloadLabels | undefined {
  if (!ep || ep.namespace === '') return undefined;
  const namespaceLabels: Record<string, string> = { [NAMESPACE_NAME_LABEL]: ep.namespace };
  const podLabels: Record<string, string> = {};
  for (const label of ep.labels) {
    const colon = label.indexOf(':');
    const eq = label.indexOf('=', colon + 1);
    const key = label.slice(colon + 1, eq < 0 ? undefined : eq);
    const value = eq < 0 ? '' : label.slice(eq + 1);
    if (key.startsWith(NAMESPACE_LABELS_PREFIX)) namespaceLabels[key.slice(NAMESPACE_LABELS_PREFIX.length)] = value;
    else if (key !== POD_NAMESPACE_LABEL && key !== '') podLabels[key] = value;
  }
  return { namespaceLabels, podLabels };
}

/** One WorkloadLabels object per distinct label set, which the engine's caches key on. */
class WorkloadCache {
  private readonly cache = new LRUCache<string, { w: WorkloadLabels | undefined }>({ max: 16384 });

  of(ep: Endpoint | undefined): WorkloadLabels | undefined {
    if (!ep || ep.namespace === '') return undefined;
    const key = `${ep.namespace}\0${ep.labels.join('\0')}`;
    let hit = this.cache.get(key);
    if (!hit) {
      hit = { w: endpointWorkload(ep) };
      this.cache.set(key, hit);
    }
    return hit.w;
  }
}

export class FlowJudge {
  readonly engine = new GeofenceEngine();
  private readonly workloads = new WorkloadCache();
  private readonly unwatch: () => void;

  constructor(resources: ResourceSource | undefined, log: (m: string) => void = () => undefined) {
    this.unwatch = resources ? this.follow(resources, log) : () => undefined;
  }

  /** Sets the flow's verdict, replacing whatever it carried: the verdict is the judge's to give. */
  judge(f: Flow): void {
    const check = this.engine.check({ source: this.workloads.of(f.source), destination: this.workloads.of(f.destination), path: f.scionPath });
    f.geofence = check ? toFlowGeofence(check.decision) : undefined;
  }

  close(): void {
    this.unwatch();
  }

  private follow(source: ResourceSource, log: (m: string) => void): () => void {
    return source.watch((ev: ResourceEvent) => {
      if (ev.type === 'delete') {
        if (ev.key.kind === 'Geofence' && this.engine.remove(ev.key.name)) log(`geofence ${ev.key.name} removed`);
        return;
      }
      if (ev.type === 'problem') return;
      const r = ev.entry.result;
      // An invalid fence keeps its last good version in force, as the operator does.
      if (!r.ok || r.value.kind !== 'Geofence') return;
      if (this.engine.upsert(r.value)) log(`geofence ${r.value.metadata.name} in force`);
    });
  }
}
