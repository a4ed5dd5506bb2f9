// SQL shared by the dashboards: who a flow belongs to, the template-variable filters and
// the verdict order. Tables and columns: relay/store/schema.ts.

/** Tables live in ${database} (the relay's --database, default cillion). */
export const FLOWS = '${database}.flows';
export const PATHS = '${database}.paths';
export const NODE_COUNTERS = '${database}.node_counters';

/**
 * The workload a flow report belongs to: the pod on the node that saw it. Where a flow
 * leaves its cluster (EGRESS) that is the source, where it arrives (INGRESS) the
 * destination; the far end is another cluster's pod, which the node does not know.
 */
export const WORKLOAD = `WITH
  if(traffic_direction = 'INGRESS', destination_cluster, source_cluster) AS cluster,
  if(traffic_direction = 'INGRESS', destination_namespace, source_namespace) AS namespace,
  if(traffic_direction = 'INGRESS', destination_app, source_app) AS app`;

/** The dashboard's time range and every variable; All (or nothing chosen) filters nothing. */
export const FILTERS = `$__timeFilter(time)
  AND $__conditionalAll(cluster IN (\${cluster}), $cluster)
  AND $__conditionalAll(namespace IN (\${namespace}), $namespace)
  AND $__conditionalAll(app IN (\${app}), $app)
  AND $__conditionalAll(geofence_name IN (\${fence}), $fence)`;

/**
 * Both edges report a flow between two Cillion clusters; volume and verdict panels count
 * it once, where it was sent (wrapped into SCION).
 */
export const SENT = `traffic_direction = 'EGRESS'`;

/** A flow no fence judged: its fence columns hold their zero values. */
export const NO_FENCE = `geofence_verdict = 'GEOFENCE_VERDICT_UNKNOWN'`;

/** A fence verdict (an Enum) as a word for legends: "violation". */
export const VERDICT_WORD = `lower(replaceOne(toString(geofence_verdict), 'GEOFENCE_', ''))`;

/** 0 no fence, 1 compliant, 2 unverified, 3 violation: max() is the worst (panels.ts maps it). */
export const VERDICT_LEVEL = `multiIf(geofence_verdict = 'GEOFENCE_VIOLATION', 3, geofence_verdict = 'GEOFENCE_UNVERIFIED', 2,
    geofence_verdict = 'GEOFENCE_COMPLIANT', 1, 0)`;

/**
 * One row per path: FINAL merges a path's versions within a store, and this also across the
 * stores of a federation (deploy/clickhouse/federation.sql), where every cluster that saw a
 * path holds it; a join on a path repeated would count its flows once per cluster.
 */
export const ONE_PER_PATH = 'LIMIT 1 BY fingerprint';

/**
 * Each path as people read it, by fingerprint: its ASes with their countries, source first.
 * Flows hold the fingerprint only; join this on it (LEFT JOIN ... AS p ON p.fingerprint = ...).
 */
export const PATH_LABELS = `SELECT fingerprint, arrayStringConcat(arrayMap((ia, c) -> concat(ia, ' ', c), hops.isd_as, hops.country), ' > ') AS label
    FROM ${PATHS} FINAL ${ONE_PER_PATH}`;

/** A fence and its verdict, for legends: "eu-plus-ch violation". */
export const FENCE_VERDICT = `concat(geofence_name, ' ', ${VERDICT_WORD})`;
