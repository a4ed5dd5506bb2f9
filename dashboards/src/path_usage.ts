// Path usage: bytes and flows per path and per app, and the moments a flow moved from one
// path to another (a failover shows as such a move away from a path that then falls idle).
import { dashboard } from './dashboard';
import { FILTERS, FLOWS, PATH_LABELS, SENT, WORKLOAD } from './filters';
import { Format, sql, table, timeSeries } from './panels';

/** Every sent flow report with the path its flow (node and 5-tuple) took in its previous report. */
const WITH_PREVIOUS = `
  SELECT *, lagInFrame(path_fingerprint) OVER flow AS previous_fingerprint
  FROM (
    ${WORKLOAD}
    SELECT time, node_name, cluster, namespace, app, source_ip, source_port, destination_ip, destination_port, protocol,
      path_fingerprint
    FROM ${FLOWS}
    WHERE ${FILTERS}
      AND ${SENT} AND path_fingerprint != ''
  )
  WINDOW flow AS (PARTITION BY node_name, source_ip, source_port, destination_ip, destination_port, protocol
    ORDER BY time ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)`;

const CHANGED = `previous_fingerprint != '' AND previous_fingerprint != path_fingerprint`;

const bytesPerPath = timeSeries(
  { title: 'Bytes per path', description: 'Bytes per second sent on each path (its ASes and their countries).', w: 12, h: 9, unit: 'Bps', stack: true },
  sql(
    `
${WORKLOAD}
SELECT bucket, p.label AS path, sum(f.bytes) / $__interval_s AS bytes_per_second
FROM (
  ${WORKLOAD}
  SELECT $__timeInterval(time) AS bucket, path_fingerprint, sum(bytes) AS bytes
  FROM ${FLOWS}
  WHERE ${FILTERS}
    AND ${SENT} AND path_fingerprint != ''
  GROUP BY bucket, path_fingerprint
) AS f
LEFT JOIN (${PATH_LABELS}) AS p ON p.fingerprint = f.path_fingerprint
GROUP BY bucket, path
ORDER BY bucket`,
    Format.TimeSeries,
  ),
);

const bytesPerApp = timeSeries(
  { title: 'Bytes per app', description: 'Bytes per second each app sent over SCION.', w: 12, h: 9, unit: 'Bps', stack: true },
  sql(
    `
${WORKLOAD}
SELECT $__timeInterval(time) AS bucket, if(app = '', '(no app)', app) AS app_name, sum(bytes) / $__interval_s AS bytes_per_second
FROM ${FLOWS}
WHERE ${FILTERS}
  AND ${SENT}
GROUP BY bucket, app_name
ORDER BY bucket`,
    Format.TimeSeries,
  ),
);

const pathsPerApp = timeSeries(
  { title: 'Paths in use per app', description: 'How many distinct paths each app sent on per interval: 1 for single-path policies, more for multipath.', w: 12, h: 8 },
  sql(
    `
${WORKLOAD}
SELECT $__timeInterval(time) AS bucket, if(app = '', '(no app)', app) AS app_name, uniqExact(path_fingerprint) AS paths
FROM ${FLOWS}
WHERE ${FILTERS}
  AND ${SENT} AND path_fingerprint != ''
GROUP BY bucket, app_name
ORDER BY bucket`,
    Format.TimeSeries,
  ),
);

const changesPerApp = timeSeries(
  { title: 'Path changes per app', description: 'Flows whose report came on another path than their previous one, per interval.', w: 12, h: 8, bars: true },
  sql(
    `
SELECT $__timeInterval(time) AS bucket, if(app = '', '(no app)', app) AS app_name, countIf(${CHANGED}) AS path_changes
FROM (${WITH_PREVIOUS}
)
GROUP BY bucket, app_name
ORDER BY bucket`,
    Format.TimeSeries,
  ),
);

const perPathAndApp = table(
  {
    title: 'Bytes and flows per path and app',
    description: "Each app's paths in the range: flow reports, bytes, the path's share of the app's bytes, when it was first and last used.",
    w: 24,
    h: 9,
    sortBy: 'bytes',
    overrides: [
      { matcher: { id: 'byName', options: 'bytes' }, properties: [{ id: 'unit', value: 'decbytes' }] },
      { matcher: { id: 'byName', options: 'share' }, properties: [{ id: 'unit', value: 'percentunit' }] },
    ],
  },
  sql(
    `
SELECT app, namespace, p.label AS path, substring(f.path_fingerprint, 1, 16) AS fingerprint, flows, bytes,
  bytes / sum(bytes) OVER (PARTITION BY app, namespace) AS share, first_seen, last_seen
FROM (
  ${WORKLOAD}
  SELECT app, namespace, path_fingerprint, count() AS flows, sum(bytes) AS bytes, min(time) AS first_seen, max(time) AS last_seen
  FROM ${FLOWS}
  WHERE ${FILTERS}
    AND ${SENT} AND path_fingerprint != ''
  GROUP BY app, namespace, path_fingerprint
) AS f
LEFT JOIN (${PATH_LABELS}) AS p ON p.fingerprint = f.path_fingerprint
ORDER BY app, namespace, bytes DESC`,
    Format.Table,
  ),
);

const changes = table(
  {
    title: 'Path changes and failovers',
    description: 'The newest 500 moves of a flow (node and 5-tuple) from one path to another, with both paths.',
    w: 24,
    h: 8,
  },
  sql(
    `
SELECT time, node, cluster, namespace, app, flow, before.label AS from_path, after.label AS to_path
FROM (
  SELECT time, node_name AS node, cluster, namespace, app,
    concat(source_ip, ':', toString(source_port), ' > ', destination_ip, ':', toString(destination_port), ' ', toString(protocol)) AS flow,
    previous_fingerprint, path_fingerprint
  FROM (${WITH_PREVIOUS}
  )
  WHERE ${CHANGED}
  ORDER BY time DESC
  LIMIT 500
) AS c
LEFT JOIN (${PATH_LABELS}) AS before ON before.fingerprint = c.previous_fingerprint
LEFT JOIN (${PATH_LABELS}) AS after ON after.fingerprint = c.path_fingerprint
ORDER BY time DESC`,
    Format.Table,
  ),
);

/** A path type (an Enum) as a word for legends: "SRv6", "SCION", "none". */
const PATH_TYPE_WORD = `multiIf(path_type = 'WAN_PATH_SRV6', 'SRv6', path_type = 'WAN_PATH_SCION', 'SCION', 'none')`;

/** A sent flow report over SRv6: its segment list is in the srv6_* columns (relay/store/schema.ts). */
const SRV6 = `path_type = 'WAN_PATH_SRV6' AND srv6_fingerprint != ''`;

const bytesPerPathType = timeSeries(
  { title: 'Bytes per path type', description: 'Bytes per second sent over SCION paths, over SRv6 segment lists, and over neither.', w: 12, h: 8, unit: 'Bps', stack: true },
  sql(
    `
${WORKLOAD}
SELECT $__timeInterval(time) AS bucket, ${PATH_TYPE_WORD} AS path_type_name, sum(bytes) / $__interval_s AS bytes_per_second
FROM ${FLOWS}
WHERE ${FILTERS}
  AND ${SENT}
GROUP BY bucket, path_type_name
ORDER BY bucket`,
    Format.TimeSeries,
  ),
);

const srv6Hmac = timeSeries(
  {
    title: 'SRv6 HMAC outcomes',
    description:
      "Flow reports sent over SRv6 per interval by the relay's check of the SRH HMAC TLV (RFC 8754 2.1.2): verified, absent, mismatch, no key, malformed.",
    w: 12,
    h: 8,
    bars: true,
  },
  sql(
    `
${WORKLOAD}
SELECT $__timeInterval(time) AS bucket, lower(replaceOne(toString(srv6_hmac), 'SRV6_HMAC_', '')) AS hmac, count() AS flows
FROM ${FLOWS}
WHERE ${FILTERS}
  AND ${SENT} AND ${SRV6}
GROUP BY bucket, hmac
ORDER BY bucket`,
    Format.TimeSeries,
  ),
);

const srv6Lists = table(
  {
    title: 'SRv6 segment lists in use',
    description:
      'Each segment list flows were sent on: its fingerprint (SHA-256 of the segments), the tenant (VRF) it delivers into, ' +
      "its segments with each segment's node country from the SID catalogue, flow reports, bytes, HMAC outcomes, first and last use.",
    w: 24,
    h: 9,
    sortBy: 'bytes',
    overrides: [{ matcher: { id: 'byName', options: 'bytes' }, properties: [{ id: 'unit', value: 'decbytes' }] }],
  },
  sql(
    `
${WORKLOAD}
SELECT substring(srv6_fingerprint, 1, 16) AS fingerprint, srv6_vrf AS vrf, any(srv6_tenant) AS tenant,
  arrayStringConcat(arrayMap((sid, c) -> concat(sid, ' ', if(c = '', '??', c)), splitByChar(',', any(srv6_segments)), splitByChar(',', any(srv6_countries))), ' > ') AS segments,
  arrayStringConcat(groupUniqArray(app), ', ') AS apps, count() AS flows, sum(bytes) AS bytes,
  arrayStringConcat(arraySort(groupUniqArray(lower(replaceOne(toString(srv6_hmac), 'SRV6_HMAC_', '')))), ', ') AS hmac,
  min(time) AS first_seen, max(time) AS last_seen
FROM ${FLOWS}
WHERE ${FILTERS}
  AND ${SENT} AND ${SRV6}
GROUP BY srv6_fingerprint, srv6_vrf
ORDER BY bytes DESC`,
    Format.Table,
  ),
);

export const pathUsage = dashboard(
  'cillion-path-usage',
  'Cillion / Path usage',
  'Which paths carry what: bytes and flows per SCION path and per app, paths in use, path changes and failovers; ' +
    'the split between SCION and SRv6, the SRv6 segment lists in use and their HMAC outcomes.',
  [bytesPerPath, bytesPerApp, pathsPerApp, changesPerApp, perPathAndApp, changes, bytesPerPathType, srv6Hmac, srv6Lists],
);
