// Compliance: the geofence verdicts over time by fence and by app, the flows that broke a
// fence with the hop and country that broke it, and the flows that could not be verified.
import { dashboard } from './dashboard';
import { FENCE_VERDICT, FILTERS, FLOWS, NO_FENCE, PATH_LABELS, SENT, VERDICT_WORD, WORKLOAD } from './filters';
import { barChart, Format, sql, stat, table, timeSeries } from './panels';

const totals = stat(
  {
    title: 'Verdicts in range',
    description: 'Flow reports by geofence verdict, each flow counted once where it was sent.',
    w: 24,
    h: 4,
  },
  sql(
    `
${WORKLOAD}
SELECT countIf(geofence_verdict = 'GEOFENCE_COMPLIANT') AS compliant,
  countIf(geofence_verdict = 'GEOFENCE_VIOLATION') AS violation,
  countIf(geofence_verdict = 'GEOFENCE_UNVERIFIED') AS unverified,
  countIf(${NO_FENCE}) AS no_fence
FROM ${FLOWS}
WHERE ${FILTERS}
  AND ${SENT}`,
    Format.Table,
  ),
);

const byFence = timeSeries(
  {
    title: 'Verdicts over time by fence',
    description: 'Flow reports per interval for each fence and verdict (flows no fence covers are left out).',
    w: 12,
    h: 9,
    stack: true,
  },
  sql(
    `
${WORKLOAD}
SELECT $__timeInterval(time) AS bucket, ${FENCE_VERDICT} AS fence_verdict, count() AS flows
FROM ${FLOWS}
WHERE ${FILTERS}
  AND ${SENT} AND NOT ${NO_FENCE}
GROUP BY bucket, fence_verdict
ORDER BY bucket`,
    Format.TimeSeries,
  ),
);

const byApp = timeSeries(
  {
    title: 'Verdicts over time by app',
    description: 'Flow reports per interval for each app and verdict.',
    w: 12,
    h: 9,
    stack: true,
  },
  sql(
    `
${WORKLOAD}
SELECT $__timeInterval(time) AS bucket,
  concat(if(app = '', '(no app)', app), ' ', if(${NO_FENCE}, 'no fence', ${VERDICT_WORD})) AS app_verdict,
  count() AS flows
FROM ${FLOWS}
WHERE ${FILTERS}
  AND ${SENT}
GROUP BY bucket, app_verdict
ORDER BY bucket`,
    Format.TimeSeries,
  ),
);

const brokenBy = barChart(
  {
    title: 'Violations by offending hop',
    description: 'Which AS and country put flows outside their fence, and how many flow reports each.',
    w: 8,
    h: 9,
    xField: 'offending_hop',
  },
  sql(
    `
${WORKLOAD}
SELECT concat(geofence_offending_isd_as, ' ', geofence_offending_country) AS offending_hop, count() AS flows
FROM ${FLOWS}
WHERE ${FILTERS}
  AND ${SENT} AND geofence_verdict = 'GEOFENCE_VIOLATION'
GROUP BY offending_hop
ORDER BY flows DESC`,
    Format.Table,
  ),
);

const violations = table(
  {
    title: 'Violating flows',
    description:
      'The newest 500 flow reports judged VIOLATION, at either edge: the fence and its mode (an enforced fence also drops at the ' +
      'receiving edge; an audited one only reports), the hop (ISD-AS) and country that broke it, and the whole path.',
    w: 16,
    h: 9,
    overrides: [{ matcher: { id: 'byName', options: 'bytes' }, properties: [{ id: 'unit', value: 'decbytes' }] }],
  },
  sql(
    `
SELECT time, node, direction, cluster, namespace, app, source, destination, fence, mode, offending_hop, offending_country,
  p.label AS path, bytes
FROM (
  ${WORKLOAD}
  SELECT time, node_name AS node, traffic_direction AS direction, cluster, namespace, app,
    concat(source_ip, ':', toString(source_port)) AS source, concat(destination_ip, ':', toString(destination_port)) AS destination,
    geofence_name AS fence, lower(replaceOne(toString(geofence_mode), 'GEOFENCE_', '')) AS mode,
    geofence_offending_isd_as AS offending_hop, geofence_offending_country AS offending_country, path_fingerprint, bytes
  FROM ${FLOWS}
  WHERE ${FILTERS}
    AND geofence_verdict = 'GEOFENCE_VIOLATION'
  ORDER BY time DESC
  LIMIT 500
) AS f
LEFT JOIN (${PATH_LABELS}) AS p ON p.fingerprint = f.path_fingerprint
ORDER BY time DESC`,
    Format.Table,
  ),
);

const unverified = table(
  {
    title: 'UNVERIFIED flows',
    description:
      'The newest 500 flow reports a fence could not judge: their path is not one the control plane handed out, or a hop declares no geo.',
    w: 24,
    h: 8,
  },
  sql(
    `
SELECT time, node, direction, cluster, namespace, app, source, destination, fence, why, p.label AS path, fingerprint
FROM (
  ${WORKLOAD}
  SELECT time, node_name AS node, traffic_direction AS direction, cluster, namespace, app,
    concat(source_ip, ':', toString(source_port)) AS source, concat(destination_ip, ':', toString(destination_port)) AS destination,
    geofence_name AS fence,
    if(path_known = 0, 'path unknown to the control plane', 'a hop without geo') AS why,
    path_fingerprint AS fingerprint
  FROM ${FLOWS}
  WHERE ${FILTERS}
    AND geofence_verdict = 'GEOFENCE_UNVERIFIED'
  ORDER BY time DESC
  LIMIT 500
) AS f
LEFT JOIN (${PATH_LABELS}) AS p ON p.fingerprint = f.fingerprint
ORDER BY time DESC`,
    Format.Table,
  ),
);

export const compliance = dashboard(
  'cillion-compliance',
  'Cillion / Compliance',
  'Geofence verdicts: which fences hold, which flows broke one and where, and which could not be verified.',
  [totals, byFence, byApp, brokenBy, violations, unverified],
);
