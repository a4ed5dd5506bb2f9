// The layer table (docs/layers.md): a folder may import its own files and the folders of
// lower layers only, never a folder of its own layer. So operator, collector and relay,
// which share a layer, never import each other.
export const LAYERS: readonly (readonly string[])[] = [
  ['proto', 'lifecycle'], // generated wire types (proto/gen) and the .proto sources; start and stop in order, for every process
  ['scion'], // SCION wire formats, MACs, DRKey, path policy
  ['bpf', 'controlplane'], // the datapath (eBPF objects, maps, addon) and the SCION control plane
  ['geo', 'identity', 'columns', 'metrics', 'srv6'], // country lookup, identities and labels, the column codec, counters, the SRv6 model
  ['resources', 'paths'], // the resource model (CRDs, selectors), path catalogues and verification
  ['kube', 'geofence', 'observer', 'mesh'], // Kubernetes plumbing, geofence evaluation, the flow hub, the cluster mesh
  ['operator', 'collector', 'relay'], // the three processes
  ['cli', 'dashboards', 'web'], // the front ends: the terminal, Grafana, the browser
  ['scripts'], // build and generation scripts (the CLI reference)
  ['test'],
  ['bench'],
];

/** Files at the repository root (package.json) are below every folder. */
export const ROOT_LAYER = -1;

const rank = new Map<string, number>(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i] as const)));

/** The layer of a top-level folder, or undefined when the table does not place it. */
export function layerOf(folder: string): number | undefined {
  return rank.get(folder);
}
