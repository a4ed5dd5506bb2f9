// The service map's deterministic layout: clusters side by side in name order, each a column
// of namespace boxes in name order, each a grid of workloads in name order. The same set of
// workloads always lands in the same places, whatever order their flows arrived in.
import type { WorkloadRef } from './workload';

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface PlacedWorkload extends Box, WorkloadRef {
  key: string;
}

export interface ServiceLayout {
  width: number;
  height: number;
  clusters: (Box & { cluster: string })[];
  namespaces: (Box & { cluster: string; namespace: string })[];
  workloads: Map<string, PlacedWorkload>;
}

export const LAYOUT = { nodeW: 150, nodeH: 34, gap: 14, nsPad: 12, nsTitle: 22, clusterPad: 16, clusterTitle: 30, clusterGap: 140, columns: 2 } as const;

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function layoutServices(refs: Iterable<WorkloadRef & { key: string }>): ServiceLayout {
  const tree = new Map<string, Map<string, (WorkloadRef & { key: string })[]>>();
  for (const r of refs) {
    const ns = tree.get(r.cluster) ?? new Map<string, (WorkloadRef & { key: string })[]>();
    tree.set(r.cluster, ns);
    const list = ns.get(r.namespace) ?? [];
    ns.set(r.namespace, list);
    list.push(r);
  }
  const L = LAYOUT;
  const out: ServiceLayout = { width: 0, height: 0, clusters: [], namespaces: [], workloads: new Map() };
  let x = 0;
  for (const cluster of [...tree.keys()].sort(byName)) {
    const nss = tree.get(cluster) as Map<string, (WorkloadRef & { key: string })[]>;
    const nsW = L.nsPad * 2 + L.columns * L.nodeW + (L.columns - 1) * L.gap;
    let y = L.clusterTitle;
    for (const namespace of [...nss.keys()].sort(byName)) {
      const ws = (nss.get(namespace) as (WorkloadRef & { key: string })[]).sort((a, b) => byName(a.workload, b.workload));
      const rows = Math.ceil(ws.length / L.columns);
      const nsH = L.nsTitle + rows * L.nodeH + (rows - 1) * L.gap + L.nsPad;
      const nsX = x + L.clusterPad;
      ws.forEach((w, i) => {
        const col = i % L.columns;
        const row = Math.floor(i / L.columns);
        out.workloads.set(w.key, { ...w, x: nsX + L.nsPad + col * (L.nodeW + L.gap), y: y + L.nsTitle + row * (L.nodeH + L.gap), w: L.nodeW, h: L.nodeH });
      });
      out.namespaces.push({ cluster, namespace, x: nsX, y, w: nsW, h: nsH });
      y += nsH + L.gap;
    }
    const cw = nsW + L.clusterPad * 2;
    const ch = y - L.gap + L.clusterPad;
    out.clusters.push({ cluster, x, y: 0, w: cw, h: ch });
    out.height = Math.max(out.height, ch);
    x += cw + L.clusterGap;
  }
  out.width = Math.max(0, x - L.clusterGap);
  return out;
}
