// Which workload an endpoint is, for the service map: by its `app` label (as the identity
// labels carry it), else its workload's name, else its pod name without the replica suffix;
// reserved identities (world, host, ...) by their reserved label. The cluster is the
// endpoint's own, else that of the node which saw the flow ("cluster/node"), else the relay's.
import type { Endpoint, Flow } from '../../proto/gen/flow/flow';

export interface WorkloadRef {
  cluster: string;
  namespace: string;
  workload: string;
}

const APP_KEYS = ['app', 'app.kubernetes.io/name', 'k8s-app'];

function labelValue(labels: readonly string[], key: string): string | undefined {
  for (const l of labels) {
    const body = l.replace(/^[a-z0-9-]+:/, '');
    const eq = body.indexOf('=');
    if (eq > 0 && body.slice(0, eq) === key) return body.slice(eq + 1);
  }
  return undefined;
}

function workloadName(ep: Endpoint): string {
  for (const k of APP_KEYS) {
    const v = labelValue(ep.labels, k);
    if (v) return v;
  }
  if (ep.workloads.length > 0 && ep.workloads[0].name) return ep.workloads[0].name;
  if (ep.podName) return ep.podName.replace(/-[a-z0-9]{5,10}(-[a-z0-9]{5})?$/, '').replace(/-\d+$/, '');
  const reserved = ep.labels.find((l) => l.startsWith('reserved:'));
  if (reserved) return reserved.slice('reserved:'.length);
  return ep.identity ? `identity-${ep.identity}` : 'unknown';
}

/** The cluster part of a relay's node name "cluster/node", or "". */
export function nodeCluster(nodeName: string): string {
  const slash = nodeName.indexOf('/');
  return slash > 0 ? nodeName.slice(0, slash) : '';
}

export function workloadOf(ep: Endpoint | undefined, flow: Flow, localCluster: string): WorkloadRef {
  const cluster = ep?.clusterName || nodeCluster(flow.nodeName) || localCluster || 'local';
  if (!ep) return { cluster, namespace: '(none)', workload: 'unknown' };
  return { cluster, namespace: ep.namespace || (ep.labels.some((l) => l.startsWith('reserved:')) ? '(reserved)' : '(none)'), workload: workloadName(ep) };
}

export function workloadKey(w: WorkloadRef): string {
  return `${w.cluster}/${w.namespace}/${w.workload}`;
}
