// The Kubernetes mode of the node processes: resources, pods and the leader Lease from the
// API. Kept apart from cli/node.ts and loaded only with --kubernetes, because loading
// @kubernetes/client-node takes seconds that every other command would pay on each start.
import { k8s } from '../kube/client';
import { KubernetesSource } from '../operator/sources/kubernetes';
import { KubernetesWorkloads } from '../operator/workloads/kubernetes';
import type { Sources } from './node';

export { LeaderElector } from '../kube/leader';
export { IdentityObjectWriter } from '../kube/identity_writer';
export { KubernetesIdentityView } from '../kube/identity_view';

export async function openKubernetesSources(
  kubeconfig: string | undefined,
  node: string | undefined,
  onWorkloads: () => void,
  log: (line: string) => void,
  clusterPods: boolean,
): Promise<Sources> {
  const kubeConfig = new k8s.KubeConfig();
  if (kubeconfig) kubeConfig.loadFromFile(kubeconfig);
  else kubeConfig.loadFromDefault();
  const source = new KubernetesSource({ kubeConfig, log });
  // The node's pods come out of the cluster's when those are watched anyway: one watch of
  // pods, and one call of onWorkloads per change.
  const all = clusterPods ? new KubernetesWorkloads({ kubeConfig, onChange: onWorkloads, log }) : null;
  const pods = node === undefined || all ? null : new KubernetesWorkloads({ kubeConfig, nodeName: node, onChange: onWorkloads, log });
  await pods?.synced;
  await all?.synced;
  return {
    source,
    kubernetes: { kubeConfig, source },
    workloads: () => (node === undefined ? [] : ((pods ?? all)?.list().filter((w) => w.node === node) ?? [])),
    clusterWorkloads: () => all?.list() ?? [],
    origin: kubeConfig.getCurrentCluster()?.server ?? 'the Kubernetes API',
    close: async () => {
      await pods?.stop();
      await all?.stop();
      await source.idle();
      await source.close();
    },
  };
}
