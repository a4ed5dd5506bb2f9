// Datapath health: what was dropped and why, what never made it out of the datapath or the
// collector (ring reserve failures, export drops, decode errors, from node_counters), and
// how far behind the store is.
import { COUNTERS, DROP_REASON_MAX } from '../../bpf/abi';
import { dashboard } from './dashboard';
import { FILTERS, FLOWS, NODE_COUNTERS, WORKLOAD } from './filters';
import { Format, sql, stat, table, timeSeries } from './panels';

const COUNTER_FILTERS = `$__timeFilter(received_at)
    AND $__conditionalAll(cluster IN (\${cluster}), $cluster)`;

/** Packets a report says were dropped: its meter's drops, or all of it when the verdict is DROPPED. */
const DROPPED = `greatest(dropped_packets, if(verdict = 'DROPPED', packets, 0))`;

/**
 * How much each cumulative counter grew per interval and node. A session's counters only
 * grow, so its growth in an interval is its max there less its max in the interval before;
 * the first interval of a session in the range has nothing before it and counts 0.
 */
function counterIncrease(counters: string[]): string {
  const totals = counters.map((c) => `max(${c}) AS ${c}_total`).join(', ');
  const increases = counters.map((c) => `if(row_number() OVER s = 1, 0, ${c}_total - lagInFrame(${c}_total) OVER s) AS ${c}_increase`).join(',\n    ');
  const sums = counters.map((c) => `sum(${c}_increase) AS ${c}`).join(', ');
  return `
SELECT bucket, node_name, ${sums}
FROM (
  SELECT $__timeInterval(received_at) AS bucket, node_name, session_id, ${totals},
    ${increases}
  FROM ${NODE_COUNTERS}
  WHERE ${COUNTER_FILTERS}
  GROUP BY bucket, node_name, session_id
  WINDOW s AS (PARTITION BY session_id ORDER BY bucket ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
)
GROUP BY bucket, node_name
ORDER BY bucket`;
}

const dropsByReason = timeSeries(
  {
    title: 'Drops by reason',
    description: "Packets the datapath dropped per interval, by the datapath's drop reason (the verdict where it names none).",
    w: 16,
    h: 9,
    stack: true,
    bars: true,
  },
  sql(
    `
${WORKLOAD}
SELECT $__timeInterval(time) AS bucket, if(drop_reason = 'DROP_REASON_UNKNOWN', toString(verdict), toString(drop_reason)) AS reason, sum(${DROPPED}) AS packets_dropped
FROM ${FLOWS}
WHERE ${FILTERS}
  AND (verdict = 'DROPPED' OR dropped_packets > 0)
GROUP BY bucket, reason
ORDER BY bucket`,
    Format.TimeSeries,
  ),
);

/**
 * The datapath's SRv6 drop reasons by name (bpf/abi.ts, from the header): the SRH checks
 * (SRH_*) and the SR endpoint's and encap's own (SRV6_*). A flow report names its last drop
 * reason in drop_reason_name.
 */
export const SRV6_DROP_REASONS = Object.entries(COUNTERS)
  .filter(([name, idx]) => idx < DROP_REASON_MAX && /^(SRH|SRV6)_/.test(name))
  .map(([name]) => name)
  .sort();

const srv6Drops = timeSeries(
  {
    title: 'SRv6 drops by reason',
    description:
      'Packets the SRv6 programs dropped per interval: malformed SRHs (header length, last entry, segments left, TLVs), ' +
      'unknown SIDs, hop limit, no route, no tenant route or segment list (drop reasons in docs/srv6.md).',
    w: 24,
    h: 8,
    stack: true,
    bars: true,
  },
  sql(
    `
${WORKLOAD}
SELECT $__timeInterval(time) AS bucket, drop_reason_name AS reason, sum(${DROPPED}) AS packets_dropped
FROM ${FLOWS}
WHERE ${FILTERS}
  AND drop_reason_name IN (${SRV6_DROP_REASONS.map((n) => `'${n}'`).join(', ')})
GROUP BY bucket, reason
ORDER BY bucket`,
    Format.TimeSeries,
  ),
);

const droppedTotal = stat(
  { title: 'Dropped in range', description: 'Packets dropped and flow reports with the verdict DROPPED, at either edge.', w: 8, h: 9 },
  sql(
    `
${WORKLOAD}
SELECT sum(${DROPPED}) AS packets_dropped, countIf(verdict = 'DROPPED') AS dropped_flow_reports
FROM ${FLOWS}
WHERE ${FILTERS}`,
    Format.Table,
  ),
);

const deniedByPolicy = table(
  {
    title: 'Denied by network policy',
    description:
      'Packets a CillionNetworkPolicy refused, by policy (kind/namespace/name), direction (INGRESS at the receiving edge, ' +
      'EGRESS at the sending one) and the two ends.',
    w: 24,
    h: 8,
    sortBy: 'packets_dropped',
  },
  sql(
    `
${WORKLOAD}
SELECT if(ingress_denied_by != '', 'INGRESS', 'EGRESS') AS direction, if(ingress_denied_by != '', ingress_denied_by, egress_denied_by) AS policy,
  concat(source_cluster, '/', source_namespace, '/', source_app) AS source, concat(destination_cluster, '/', destination_namespace, '/', destination_app) AS destination,
  sum(${DROPPED}) AS packets_dropped, max(time) AS last_seen
FROM ${FLOWS}
WHERE ${FILTERS}
  AND (ingress_denied_by != '' OR egress_denied_by != '')
GROUP BY direction, policy, source, destination
ORDER BY packets_dropped DESC`,
    Format.Table,
  ),
);

const ringFailures = timeSeries(
  {
    title: 'Ring reserve failures',
    description: 'Path records the datapath could not emit because its ring buffer was full, per interval and node.',
    w: 12,
    h: 8,
    bars: true,
  },
  sql(counterIncrease(['ring_reserve_failures']), Format.TimeSeries),
);

const collectorLoss = timeSeries(
  {
    title: 'Collector loss (packets)',
    description:
      'Packets lost in the collector, per interval and node: those of flow reports shed while the export backlog stayed full ' +
      '(packets_lost), of flows the exporter refused (export_drop_packets), and ring records it could not decode (one record, one packet). ' +
      'Reports that were only put off or held are not lost and not shown.',
    w: 12,
    h: 8,
    bars: true,
  },
  sql(counterIncrease(['packets_lost', 'export_drop_packets', 'decode_errors']), Format.TimeSeries),
);

const throughput = timeSeries(
  {
    title: 'Ring records and flows exported',
    description: 'Records read from the datapath rings and flows placed in batches to the relay, per interval and node.',
    w: 12,
    h: 8,
  },
  sql(counterIncrease(['ring_records', 'flows_exported']), Format.TimeSeries),
);

const storeLag = timeSeries(
  {
    title: 'Store lag',
    description:
      "From a flow report's datapath time to the relay storing it: the collector's flow aggregation (--flow-active), " +
      'batching and export, and the insert. Whole seconds on the store side.',
    w: 12,
    h: 8,
    unit: 's',
  },
  sql(
    `
SELECT $__timeInterval(time) AS bucket, quantile(0.5)(lag) AS p50, quantile(0.99)(lag) AS p99, max(lag) AS worst
FROM (
  ${WORKLOAD}
  SELECT time, greatest(0, dateDiff('millisecond', time, received_at)) / 1000 AS lag
  FROM ${FLOWS}
  WHERE ${FILTERS}
)
GROUP BY bucket
ORDER BY bucket`,
    Format.TimeSeries,
  ),
);

const exportLag = timeSeries(
  {
    title: 'Export lag',
    description: "From a collector sending a batch to the relay taking it, per node (the two clocks' skew included).",
    w: 12,
    h: 8,
    unit: 's',
  },
  sql(
    `
SELECT $__timeInterval(received_at) AS bucket, node_name, avg(dateDiff('millisecond', sent_at, received_at)) / 1000 AS lag
FROM ${NODE_COUNTERS}
WHERE ${COUNTER_FILTERS}
GROUP BY bucket, node_name
ORDER BY bucket`,
    Format.TimeSeries,
  ),
);

const nodes = table(
  {
    title: 'Nodes',
    description: "Each node's collector: its export sessions in the range, its last report, and the counters of those sessions as last reported.",
    w: 12,
    h: 8,
  },
  sql(
    `
SELECT node_name AS node, any(cluster) AS cluster, count() AS sessions, max(last_report) AS last_report,
  sum(ring_records) AS ring_records, sum(ring_reserve_failures) AS ring_reserve_failures,
  sum(flows_exported) AS flows_exported, sum(export_drops) AS export_drops, sum(packets_lost) AS packets_lost,
  sum(decode_errors) AS decode_errors
FROM (
  SELECT node_name, cluster, session_id, max(received_at) AS last_report, max(ring_records) AS ring_records,
    max(ring_reserve_failures) AS ring_reserve_failures, max(flows_exported) AS flows_exported,
    max(export_drops) AS export_drops, max(packets_lost) AS packets_lost, max(decode_errors) AS decode_errors
  FROM ${NODE_COUNTERS}
  WHERE ${COUNTER_FILTERS}
  GROUP BY node_name, cluster, session_id
)
GROUP BY node_name
ORDER BY node_name`,
    Format.Table,
  ),
);

export const datapathHealth = dashboard(
  'cillion-datapath-health',
  'Cillion / Datapath health',
  'Drops by reason (SRv6 drops apart), ring reserve failures, export drops and decode errors, and how far the store lags behind the datapath.',
  [dropsByReason, droppedTotal, srv6Drops, deniedByPolicy, ringFailures, collectorLoss, throughput, storeLag, exportLag, nodes],
);
