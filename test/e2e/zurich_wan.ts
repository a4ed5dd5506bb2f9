// The setting the loss and load e2e tests share: a Zurich and a Frankfurt cluster over the
// example topology's namespace WAN, one pod each (billing-0 in Zurich sends, echo in
// Frankfurt receives), Zurich's resources and workloads written to a directory for an agent.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTopology } from '../../controlplane/topology';
import { formatIA, parseIA, type IA } from '../../scion/isdas';
import { Wan } from '../datapath/harness/wan';
import { ROOT } from './procs';

export const TOPOLOGY = join(ROOT, 'examples', 'topology.yaml');
export const ZRH = parseIA('64-2:0:20');
export const FRA = parseIA('65-2:0:20');

function clusterAS(name: string, ia: IA, wan: Wan, ifids: number[]): string {
  const uplinks = ifids.map((i) => {
    const f = wan.iface(ia, i);
    return `    - interface: ${i}\n      underlay: ${f.remote.ip}:${f.remote.port}\n`;
  });
  return `apiVersion: cillion.io/v1alpha1\nkind: ClusterAS\nmetadata:\n  name: ${name}\nspec:\n  isdAS: ${formatIA(ia)}\n  clusterId: ${name === 'frankfurt' ? 2 : 1}\n  uplinks:\n${uplinks.join('')}  controlPlane:\n    topology: ${TOPOLOGY}\n`;
}

/**
 * Builds the WAN (after sweeping what an earlier run of `prefix` left) with the two pods and
 * writes `dir/zurich` (ClusterAS, remote clusters, the billing policy) and `dir/pods.yaml`.
 */
export function zurichToFrankfurt(prefix: string, dir: string): Wan {
  Wan.sweep(prefix);
  const w = new Wan([...loadTopology(TOPOLOGY).ases.keys()], { prefix }).build([ZRH, FRA]);
  w.addPod('billing', ZRH, '10.164.0.5', 1);
  w.addPod('echo', FRA, '10.165.0.7', 1);
  w.hosts.exec(w.asNs.get(ZRH) as string, 'ip', ['route', 'replace', '10.165.0.0/16', 'via', w.iface(ZRH, 1).remote.ip, 'dev', 'if1']);
  const res = join(dir, 'zurich');
  mkdirSync(res);
  writeFileSync(join(res, 'cluster.yaml'), clusterAS('zurich', ZRH, w, [1, 2]));
  for (const f of ['remote-clusters.yaml', 'billing.yaml']) copyFileSync(join(ROOT, 'examples', 'policies', 'zurich', f), join(res, f));
  writeFileSync(
    join(dir, 'pods.yaml'),
    'apiVersion: v1\nkind: Pod\nmetadata: { name: billing-0, namespace: shop, labels: { app: billing } }\nspec: { nodeName: zrh-1 }\nstatus: { podIP: 10.164.0.5 }\n',
  );
  return w;
}

/** Prometheus text: value of `name{labels}` (labels exactly as printed), 0 when absent. */
export function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}
