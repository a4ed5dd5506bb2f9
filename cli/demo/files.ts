// The files the demo generates into its run directory from examples/: the topology with
// every interface's underlay as planned on this machine, each cluster's ClusterAS with its
// routers' underlays, the relay's geofences, and each node's pod list.
import { isMap, isScalar, isSeq, parseAllDocuments, parseDocument, stringify } from 'yaml';
import type { ClusterAS } from '../../resources/clusteras';
import type { Workload } from '../../identity/workload';
import { formatIA, parseIA } from '../../scion/isdas';
import { ifaceKey, type DemoPlan } from './plan';

/** The topology text with the planned underlay on every interface; comments stay. */
export function topologyWithUnderlays(text: string, underlays: ReadonlyMap<string, string>): string {
  const doc = parseDocument(text);
  const ases = doc.get('ases');
  if (!isSeq(ases)) throw new Error('the topology has no ases list');
  for (const as of ases.items) {
    if (!isMap(as)) continue;
    const ia = parseIA(String(as.get('ia')));
    const ifaces = as.get('interfaces');
    if (!isMap(ifaces)) continue;
    for (const pair of ifaces.items) {
      const iface = pair.value;
      if (!isMap(iface)) continue;
      const u = underlays.get(ifaceKey(ia, Number(isScalar(pair.key) ? pair.key.value : pair.key)));
      if (u === undefined) iface.delete('underlay');
      else iface.set('underlay', u);
    }
  }
  return doc.toString({ lineWidth: 0 });
}

/** The ClusterAS of `cluster` with its uplinks pointing at the planned routers, and the run's copy of its SID catalogue. */
export function clusterASYaml(cluster: ClusterAS, plan: DemoPlan, topologyFile: string, srv6Catalogue?: string): string {
  const segs = plan.segments.filter((s) => s.cluster === cluster.metadata.name).sort((a, b) => a.ifid - b.ifid);
  return stringify({
    apiVersion: cluster.apiVersion,
    kind: 'ClusterAS',
    metadata: { name: cluster.metadata.name },
    spec: {
      isdAS: formatIA(cluster.spec.isdAS),
      clusterId: cluster.spec.clusterId,
      uplinks: segs.map((s) => ({ interface: s.ifid, underlay: `${s.router.ip}:${s.router.port}` })),
      controlPlane: { topology: topologyFile },
      ...(cluster.spec.srv6 && srv6Catalogue ? { srv6: { catalogue: srv6Catalogue } } : {}),
    },
  });
}

/**
 * The pods `node`'s agent programs: every pod of its cluster, listed as on this node. The
 * router of an uplink hands its packets to one node, which must know every pod to unwrap
 * them; the node LAN carries them on to a pod on another node.
 */
export function nodeWorkloadsYaml(pods: readonly Workload[], node: string): string {
  return pods
    .map((w) =>
      stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: w.name, namespace: w.namespace, labels: w.labels },
        spec: { nodeName: node },
        status: { podIP: w.ip },
      }),
    )
    .join('---\n');
}

/** Every Geofence document of `texts`, one per name (the first wins), as one YAML stream. */
export function geofencesYaml(texts: readonly string[]): string {
  const seen = new Map<string, string>();
  for (const text of texts) {
    for (const doc of parseAllDocuments(text)) {
      const obj = doc.toJS() as { kind?: unknown; metadata?: { name?: unknown } } | null;
      const name = obj?.metadata?.name;
      if (obj?.kind !== 'Geofence' || typeof name !== 'string' || seen.has(name)) continue;
      seen.set(name, stringify(obj));
    }
  }
  return [...seen.values()].join('---\n');
}
